"""Where usage events go: JSONL files in the landing directory, or a Kafka topic.

JSONL: every process writes its **own** files, ``<prefix>-<window start>-<host>-<pid>-<n>.jsonl``, opened
``O_APPEND | O_EXCL`` and written one line per ``os.write``. Per-process files (rather than one shared file
under ``flock``) mean no lock is ever waited for on the request path, two processes' lines can never
interleave, rotation needs no coordination, and a line a failed write left half-written can be cut off
again (``ftruncate`` to the last whole line) because nobody else appends to that file. The ingest reads
plain files incrementally by path and byte offset, waiting for a trailing partial line, so files are
never renamed or compressed after writing; a file is closed and a new one begun when the time window
(default 1 h) changes or the size limit (default 64 MiB) would be passed.

Kafka: a confluent-kafka producer with ``enable.idempotence=True`` (no duplicates or reordering from its
own retries), ``produce`` only queues (``poll(0)`` serves delivery reports), and the queue is flushed at
interpreter exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import re
import socket
import threading
import time
import weakref
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from pipelines import settings

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 64 << 20
DEFAULT_ROTATE_SECONDS = 3600


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", socket.gethostname()).strip("-") or "host"


class JsonlFileSink:
    """Appends event lines to this process's current file in ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path | str | None = None, *, prefix: str = "usage",
                 max_bytes: int = DEFAULT_MAX_BYTES, rotate_seconds: int = DEFAULT_ROTATE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.directory = Path(directory) if directory is not None else settings.events_dir()
        self.prefix = re.sub(r"[^A-Za-z0-9_-]+", "-", prefix).strip("-") or "usage"
        self.max_bytes = max_bytes
        self.rotate_seconds = rotate_seconds
        self._clock = clock
        self.path: Path | None = None
        self._fd: int | None = None
        self._pid = 0
        self._window = -1
        self._size = 0
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=partial(_after_fork, weakref.ref(self)))

    def write(self, line: bytes) -> None:
        with self._lock:
            fd = self._current(len(line))
            written = 0
            try:
                while written < len(line):
                    written += os.write(fd, line[written:])
            except OSError:
                if written:  # never leave a torn line for the next one to be glued to
                    os.ftruncate(fd, self._size)
                raise
            self._size += written

    def _current(self, incoming: int) -> int:
        window = int(self._clock()) // self.rotate_seconds
        if self._fd is not None and self._pid == os.getpid() and window == self._window and (
                self._size == 0 or self._size + incoming <= self.max_bytes):
            return self._fd
        if self._fd is not None and self._pid == os.getpid():
            os.close(self._fd)  # a forked child leaves its parent's descriptor alone
        self._fd = None
        self._open(window)
        assert self._fd is not None
        return self._fd

    def _open(self, window: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        start = datetime.fromtimestamp(window * self.rotate_seconds, UTC).strftime("%Y%m%dT%H%M%SZ")
        pid = os.getpid()
        for n in range(1_000_000):
            path = self.directory / f"{self.prefix}-{start}-{_host()}-{pid}-{n}.jsonl"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
            except FileExistsError:
                continue  # an earlier file of this window (size rotation) or of a process with the same pid
            self._fd, self._pid, self._window, self._size, self.path = fd, pid, window, 0, path
            return
        raise RuntimeError(f"no free file name for {self.prefix} in {self.directory}")

    def close(self) -> None:
        """Nothing is buffered (each line is one ``os.write``), so closing only releases the descriptor."""
        with self._lock:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        if getattr(self, "_fd", None) is not None and self._pid == os.getpid():
            os.close(self._fd)


def _after_fork(sink: weakref.ref[JsonlFileSink]) -> None:
    """In a forked child: a lock another thread held at the fork would never be released, and the parent's
    file is the parent's. Start over with a new lock; the next line opens the child's own file."""
    live = sink()
    if live is not None:
        live._lock = threading.Lock()
        if live._fd is not None:
            os.close(live._fd)  # the child's copy of the descriptor only
            live._fd = None


class KafkaSink:
    """Produces each event (one JSON object, no trailing newline) to ``topic``; idempotent, flushed at exit."""

    def __init__(self, bootstrap_servers: str, topic: str, *, config: dict[str, Any] | None = None,
                 flush_timeout_s: float = 10.0) -> None:
        from confluent_kafka import Producer

        self.topic = topic
        self.flush_timeout_s = flush_timeout_s
        self.delivered = 0
        self.failed = 0
        self._producer = Producer({
            "bootstrap.servers": bootstrap_servers,
            "client.id": "claude-ledger-emitter",
            "linger.ms": 20,
            **settings.kafka_client_settings(include_secrets=True),
            **(config or {}),
            "enable.idempotence": True,
        })
        atexit.register(_flush_at_exit, weakref.ref(self))

    @classmethod
    def from_env(cls) -> KafkaSink:
        servers, topic = settings.kafka_bootstrap_servers(), settings.kafka_topic()
        if not servers or not topic:
            raise ValueError("KafkaSink.from_env needs KAFKA_BOOTSTRAP_SERVERS and LEDGER_KAFKA_TOPIC")
        return cls(servers, topic)

    def write(self, line: bytes) -> None:
        """Queue the event (raises BufferError when librdkafka's queue is full: counted by the emitter)."""
        self._producer.produce(self.topic, value=line.rstrip(b"\n"), on_delivery=self._on_delivery)
        self._producer.poll(0)

    def _on_delivery(self, error: Any, _message: Any) -> None:
        if error is None:
            self.delivered += 1
        else:
            self.failed += 1
            log.warning("usage event not delivered to Kafka: %s", error)

    def flush(self, timeout_s: float | None = None) -> int:
        """Wait for queued events; returns how many are still undelivered (logged when any)."""
        remaining = self._producer.flush(self.flush_timeout_s if timeout_s is None else timeout_s)
        if remaining:
            log.warning("%d usage events still undelivered to Kafka topic %s", remaining, self.topic)
        return remaining


def _flush_at_exit(sink: weakref.ref[KafkaSink]) -> None:
    live = sink()
    if live is not None:
        live.flush()


_default: dict[str, Any] = {}
_default_lock = threading.Lock()


def default_sink() -> JsonlFileSink | KafkaSink:
    """The process's shared sink: Kafka when ``KAFKA_BOOTSTRAP_SERVERS`` and ``LEDGER_KAFKA_TOPIC`` are set,
    else JSONL files in ``LEDGER_EVENTS_DIR`` (default ``$LEDGER_HOME/events``)."""
    servers, topic = settings.kafka_bootstrap_servers(), settings.kafka_topic()
    kafka = bool(servers and topic)
    key = f"kafka:{servers}/{topic}" if kafka else str(settings.events_dir())
    with _default_lock:
        if key not in _default:
            _default[key] = KafkaSink.from_env() if kafka else JsonlFileSink(settings.events_dir())
        return _default[key]
