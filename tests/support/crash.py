"""SIGKILL a real process at random moments of one write path, and look at the tables after each kill.

The child is a Python script that repeats the write path forever, printing ``written`` after each whole write.
Each round waits for one whole write, lets the next one run for a random while, then SIGKILLs the process, so
that most kills land in the middle of a write (between an insert and the delete that follows it, or inside a
query).

``writing_alongside`` runs a write path in a process of its own for as long as a test needs, so that two runs of it
overlap, as they may on a server: nothing serialises them there.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TypeVar

from clickhouse_databases import server_env

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

T = TypeVar("T")
WRITTEN = "written"


def _next_whole_write(writer: subprocess.Popen, errors: IO[str]) -> None:
    """Wait for the writer's next whole write (its first, at its start); if the script broke before it, say why."""
    assert writer.stdout is not None
    line = writer.stdout.readline().strip()
    if line != WRITTEN:
        writer.wait(timeout=60)
        errors.seek(0)
        raise AssertionError(f"the writer printed {line!r}, not {WRITTEN!r}: {errors.read()}")


def killed_repeatedly(script: str, args: list[str], look: Callable[[], T], *, ch: ClickHouseResource, kills: int = 5,
                      seed: int = 7, running_s: tuple[float, float] = (0.02, 0.4)) -> list[T]:
    """What ``look()`` saw after each of ``kills`` SIGKILLs of ``python -c script *args``, a process whose
    ``ClickHouseResource.from_env()`` is ``ch``."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **server_env(ch)}
    rng = random.Random(seed)
    seen = []
    for _ in range(kills):
        with tempfile.TemporaryFile("w+") as errors, subprocess.Popen(
                [sys.executable, "-c", script, *args], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE,
                stderr=errors, text=True) as child:
            try:
                _next_whole_write(child, errors)
                time.sleep(rng.uniform(*running_s))
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=60)
        seen.append(look())
    return seen


@contextmanager
def writing_alongside(script: str, ch: ClickHouseResource) -> Iterator[Callable[[], None]]:
    """``python -c script`` writing to ``ch`` over and over for as long as the ``with`` lasts, as another run of the
    same write path would (on a server nothing serialises two runs). Entered once its first whole write is done;
    gives a function that waits for its next one."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **server_env(ch)}
    with tempfile.TemporaryFile("w+") as errors, subprocess.Popen(
            [sys.executable, "-c", script], cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=errors,
            text=True) as writer:
        try:
            _next_whole_write(writer, errors)
            yield lambda: _next_whole_write(writer, errors)
        finally:
            writer.send_signal(signal.SIGKILL)
            writer.wait(timeout=60)
