"""SIGKILL a real process at random moments of one write path, and look at the tables after each kill.

The child is a Python script that repeats the write path forever, printing ``written`` after each whole write.
Each round waits for one whole write, lets the next one run for a random while, then SIGKILLs the process, so
that most kills land in the middle of a write (between an insert and the delete that follows it, or inside a
query).

``killed_at_each_rename`` kills at chosen moments instead: at each rename the writer's main thread makes (strace
injects the SIGKILL as the call starts, so the rename never happens). A rename is how ClickHouse commits on disk
(a part, the empty part that covers the parts a statement replaced, a swapped table's metadata) and how a file is
published, so a window between two of them, however short, is hit on every run, whatever the machine's speed.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

from pipelines.settings import PROJECT_ROOT

T = TypeVar("T")
WRITTEN = "written"


def killed_repeatedly(script: str, args: list[str], look: Callable[[], T], *, kills: int = 5, seed: int = 7,
                      running_s: tuple[float, float] = (0.02, 0.4)) -> list[T]:
    """What ``look()`` saw after each of ``kills`` SIGKILLs of ``python -c script *args``."""
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
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


RENAMES = "rename,renameat,renameat2"


def killed_at_each_rename(script: str, args: list[str], look: Callable[[], T]) -> list[T]:
    """What ``look()`` saw after each SIGKILL of ``python -c script *args`` at its 1st, 2nd, ... rename, until a run
    finishes two whole writes before its rename is reached (so every rename of a whole write has been a kill point).

    Only the main thread is traced: that is the thread that runs the script's statements (chDB runs a query in the
    caller's thread; its insert threads write the parts of a staging table, which no reader sees).
    """
    strace = shutil.which("strace")
    if strace is None:
        raise RuntimeError("strace is not installed (apt-get install strace)")
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    seen = []
    rename = 0
    while True:
        rename += 1
        with tempfile.TemporaryFile("w+") as errors, subprocess.Popen(
                [strace, "-qq", "-o", os.devnull, "-e", f"trace={RENAMES}",
                 "-e", f"inject={RENAMES}:signal=KILL:when={rename}", sys.executable, "-c", script, *args],
                cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=errors, text=True,
                start_new_session=True) as child:
            assert child.stdout is not None
            writes = 0
            try:
                while writes < 2 and (line := child.stdout.readline()):
                    writes += line.strip() == WRITTEN
            finally:
                with contextlib.suppress(ProcessLookupError):  # strace and the writer, if no rename killed it
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait(timeout=60)
            if writes == 0 and child.returncode != -signal.SIGKILL:
                errors.seek(0)
                raise AssertionError(f"the writer ended before its first whole write: {errors.read()}")
        seen.append(look())
        if writes == 2:
            return seen
