"""The dagster CLI with its phases timestamped: ``python bench/cli_trace.py asset materialize …`` (bench/fixed_cost.py).

Run as a script, not as ``python -m bench.cli_trace``: the ``bench`` package's ``__init__`` sets the benchmarks'
environment, and the command traced must run as the real one does.

It runs the CLI's own ``main()`` after wrapping the functions that mark its phases (the instance, the first load of
the code location's module, the run) and clickhouse-connect's HTTP requests, each recording ``time.monotonic()``
(one clock for every process, so the parent's spawn and exit times line up with them) and the CPU time used so far;
the marks are written to ``$BENCH_TRACE_FILE`` when the exit handlers run (last of them, so only Python's own
teardown comes after). Nothing but the standard library is imported before the CLI: the
imports stay where the real command does them.
"""

from __future__ import annotations

import atexit
import functools
import importlib.abc
import importlib.util
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

TRACE_FILE = "BENCH_TRACE_FILE"


class _AfterImport(importlib.abc.MetaPathFinder):
    """Calls ``patch`` on a module as soon as it is imported, wherever that happens (the import stays where it was)."""

    def __init__(self, name: str, patch: Callable[[ModuleType], None]) -> None:
        self.name, self.patch = name, patch

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return None
        execute = spec.loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            self.patch(module)

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def now() -> tuple[float, float]:
    """The one wall clock of every process, and the CPU time of this process and its children that have ended."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.monotonic(), time.process_time() + children.ru_utime + children.ru_stime


def _trace(argv: list[str]) -> None:
    """Runs in the traced child: the dagster CLI's ``main()`` with its phases timestamped into TRACE_FILE."""
    marks: dict[str, tuple[float, float]] = {}  # name -> now()
    trips: list[tuple[float, float]] = []
    # Registered first, so it runs last of the exit handlers.
    def write() -> None:
        marks["exit_handlers_end"] = now()
        Path(os.environ[TRACE_FILE]).write_text(json.dumps({"marks": marks, "trips": trips}))

    atexit.register(write)

    def timed(function: Callable, name: str, first_only: bool = False) -> Callable:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if first_only and f"{name}_start" in marks:
                return function(*args, **kwargs)
            marks[f"{name}_start"] = now()
            try:
                return function(*args, **kwargs)
            finally:
                marks[f"{name}_end"] = now()
        return wrapper

    def time_requests(module: ModuleType) -> None:
        request = module.HttpSyncBackend.request

        def raw_request(*args: Any, **kwargs: Any) -> Any:
            started = time.monotonic()
            try:
                return request(*args, **kwargs)
            finally:
                trips.append((started, time.monotonic()))
        module.HttpSyncBackend.request = raw_request

    sys.meta_path.insert(0, _AfterImport("clickhouse_connect.driver._backend.http_sync", time_requests))
    from dagster._cli import main  # what the dagster console script runs

    marks["cli"] = now()
    from dagster._cli import asset
    from dagster._core import code_pointer

    asset.DagsterInstance.get = staticmethod(timed(asset.DagsterInstance.get, "instance", first_only=True))  # type: ignore[method-assign]
    code_pointer.load_python_module = timed(code_pointer.load_python_module, "location", first_only=True)
    asset.execute_job = timed(asset.execute_job, "run")
    sys.argv = ["dagster", *argv]
    try:
        main()
    finally:
        marks["main_end"] = now()


if __name__ == "__main__":
    sys.path.pop(0)  # this script's directory (bench/): not where the real command imports from
    _trace(sys.argv[1:])
