"""Inter-process lock that serialises access to the embedded chDB data directory.

chDB lets one process open a data directory at a time, while ``dagster dev`` runs the webserver,
the daemon (sensors, schedules) and every run as separate processes. Each of them therefore opens
the database only for a short unit of work, holding this lock. ``flock`` locks belong to the open
file description, so two threads of one process exclude each other too; re-entry from the same
thread is counted instead of deadlocking.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class EmbeddedLockTimeout(TimeoutError):
    """Another process held the embedded database for longer than the timeout."""


_held = threading.local()


@contextmanager
def exclusive(lock_path: Path, timeout_s: float) -> Iterator[None]:
    """Hold ``lock_path`` exclusively; wait at most ``timeout_s`` seconds for it."""
    depth: dict[str, int] = _held.__dict__.setdefault("depth", {})
    key = str(lock_path)
    if depth.get(key):
        depth[key] += 1
        try:
            yield
        finally:
            depth[key] -= 1
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        pause = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise EmbeddedLockTimeout(
                        f"the embedded ClickHouse database is busy: another process held {lock_path} "
                        f"for more than {timeout_s:.0f} s; wait for the running job to finish, or point "
                        "CLICKHOUSE_DSN at a ClickHouse server for concurrent access"
                    ) from None
                time.sleep(pause)
                pause = min(pause * 2, 0.1)
        depth[key] = 1
        try:
            yield
        finally:
            depth[key] = 0
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
