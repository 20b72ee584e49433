"""SIGKILL a real process at random moments of one write path, and look at the tables after each kill.

The child is a Python script that repeats the write path forever, printing ``written`` after each whole write.
Each round waits for one whole write, lets the next one run for a random while, then SIGKILLs the process, so
that most kills land in the middle of a write (between an insert and the delete that follows it, or inside a
query).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

from clickhouse_databases import server_env

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

T = TypeVar("T")
WRITTEN = "written"


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
                assert child.stdout is not None
                line = child.stdout.readline().strip()
                if line != WRITTEN:  # the script broke before its first whole write: say why
                    child.wait(timeout=60)
                    errors.seek(0)
                    raise AssertionError(f"the writer printed {line!r}, not {WRITTEN!r}: {errors.read()}")
                time.sleep(rng.uniform(*running_s))
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait(timeout=60)
        seen.append(look())
    return seen
