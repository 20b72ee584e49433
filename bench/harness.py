"""How the benchmarks measure: the two database paths, a fresh server per measurement, a process per measurement.

*server* is the product's path: ``ClickHouseResource`` speaking HTTP to the local ClickHouse server of the
benchmark's data directory (pipelines/storage/local_server.py). ``database()`` starts that server fresh for one
measurement and, before stopping it, reads its peak RSS (``VmHWM`` in /proc/<pid>/status): the server's memory is
not in the measuring process's, so both are reported.

*embedded* is the reference the issue asks for beside it, in the same run: ClickHouse inside the measuring process
through chDB, as the pipeline ran before every process moved to a server. The product has no embedded path any
more, so the reference lives here only: ``EmbeddedClickHouse`` is the product's resource with a clickhouse-connect
``chdb://`` client in place of the HTTP one; everything above the client (migrations, ingest, allocation, rollups,
sensors) is the product's code, unchanged. The ``chdb`` module it needs comes with the product's ``chdb-core``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.local_server import LocalServer

PATHS = ("server", "embedded")  # the order of each round: the product, then its reference


class EmbeddedClickHouse(ClickHouseResource):
    """The product's resource over chDB in this process (``<home>/clickhouse``): the benchmarks' reference only."""

    def _dsn(self) -> str:
        return f"chdb://{self._home() / 'clickhouse'}"

    def _client(self, dsn: str) -> Client:
        return clickhouse_connect.get_client(dsn=dsn)

    def describe(self) -> str:
        return f"embedded chDB at {self._home() / 'clickhouse'}"


def resource(path: str, home: Path) -> ClickHouseResource:
    """The database of ``home`` on ``path``; on the server path, the server ``database()`` started."""
    if path not in PATHS:
        raise ValueError(f"unknown database path {path!r} (one of {', '.join(PATHS)})")
    kind = EmbeddedClickHouse if path == "embedded" else ClickHouseResource
    return kind(ledger_home=str(home))


@dataclass
class Server:
    """The local server of one measurement; ``peak_rss_mb`` is read when it stops."""

    pid: int
    peak_rss_mb: float = 0.0


def peak_rss_mb(pid: int) -> float:
    """A live process's high-water mark of resident memory (``VmHWM``), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


@contextmanager
def database(path: str, home: Path) -> Iterator[Server | None]:
    """What ``path`` needs at ``home`` for one measurement: on the server path a local server started now (one left
    running is stopped first, so the peak is this measurement's), stopped when the block ends; embedded, nothing."""
    if path == "embedded":
        yield None
        return
    local = LocalServer(home)
    local.stop()
    server = Server(local.start().pid)
    try:
        yield server
    finally:
        server.peak_rss_mb = peak_rss_mb(server.pid)
        local.stop()


@dataclass
class Child:
    """A measurement run in a process of its own: what it printed last (JSON) and its resources (wait4)."""

    result: Any
    peak_rss_mb: float
    cpu_s: float


def run_child(module: str, *args: str) -> Child:
    """``python -m module args…``; its last line of output is its result."""
    process = subprocess.Popen([sys.executable, "-m", module, *args], stdout=subprocess.PIPE, text=True)
    output = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"benchmark step {module} {' '.join(args)} failed (exit {process.returncode})")
    return Child(json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
