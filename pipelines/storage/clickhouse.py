"""The one way the pipeline reaches ClickHouse: a Dagster resource over clickhouse-connect.

``CLICKHOUSE_DSN`` set (``http(s)://user:pass@host:8123/db``): a ClickHouse server or cluster.
Unset: embedded chDB under ``$LEDGER_HOME/clickhouse``, opened per unit of work under an
inter-process lock so the Dagster webserver, daemon and runs can share it. The same SQL runs on both.

A unit of work is one run or one sensor tick, not one query: ``connect()`` nested inside an open
``connect()`` of the same thread reuses that session. Opening a chDB session costs 100–600 ms and closing
one cancels its background merges, so a session per batch piled up parts; one per run lets merges finish.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import clickhouse_connect
from clickhouse_connect.driver.client import Client
from dagster import ConfigurableResource
from pydantic import Field

from pipelines import settings
from pipelines.secrets import reveal, secret
from pipelines.storage.embedded_lock import exclusive
from pipelines.storage.migrations import apply_migrations

_migrated: set[str] = set()
_migrated_guard = threading.Lock()
SERVER_SCHEMES = ("http", "https")


class ClickHouseConnectionError(ConnectionError):
    """The server in CLICKHOUSE_DSN cannot be used; the message names the cause in one line, without secrets."""


class _NoDriverConnectWarning(logging.Filter):
    """clickhouse-connect logs a bare "Unexpected Http Driver Exception" before raising; the raised error,
    with its cause named, is the one report of it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Unexpected Http Driver Exception"


logging.getLogger("clickhouse_connect.driver._backend.http_sync").addFilter(_NoDriverConnectWarning())


def dsn_problem(dsn: str) -> str | None:
    """Why ``dsn`` is not a usable server DSN (``http(s)://user:pass@host:8123/db``), or None."""
    parts = urlsplit(dsn)
    if parts.scheme not in SERVER_SCHEMES:
        return f"the scheme must be http or https, not {parts.scheme or 'missing'!r}"
    if not parts.hostname:
        return "no host"
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as exc:
        return f"bad port ({exc})"
    return None


def connection_cause(exc: BaseException) -> str:
    """The root cause of a failed connection in a few words: connection refused, host not found, timed out ..."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionRefusedError):
            return "connection refused (is the server running, and is the port right?)"
        if isinstance(seen, socket.gaierror):
            return "host not found"
        if isinstance(seen, TimeoutError | socket.timeout):
            return "timed out"
        seen = seen.__cause__ or seen.__context__
    text = str(exc)
    if "Authentication failed" in text or "AUTHENTICATION_FAILED" in text or "REQUIRED_PASSWORD" in text:
        return "authentication failed (check the user and password in the DSN)"
    if "UNKNOWN_DATABASE" in text:
        return "unknown database"
    return type(exc).__name__


_open = threading.local()  # this thread's open sessions: key -> client


def redact_dsn(dsn: str) -> str:
    """``scheme://host:port/db`` without user or password, for messages and metadata."""
    parts = urlsplit(dsn)
    host = parts.hostname or ""
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:  # a malformed port: shown as given (a port is no secret)
        port = ":" + parts.netloc.rsplit(":", 1)[-1]
    return f"{parts.scheme}://{host}{port}{parts.path}"


class ClickHouseResource(ConfigurableResource):
    """ClickHouse through clickhouse-connect: a server when ``dsn`` is set, else embedded chDB."""

    dsn: str = Field(default="", description="ClickHouse server DSN (EnvVar CLICKHOUSE_DSN, it may hold a "
                     "password); empty means embedded chDB.")
    ledger_home: str = Field(default="", description="Data directory; empty means $LEDGER_HOME.")
    lock_timeout_s: float = Field(default=600.0, description="Wait for the embedded database this long.")

    @classmethod
    def from_env(cls) -> ClickHouseResource:
        return cls(dsn=secret("CLICKHOUSE_DSN"), ledger_home=str(settings.ledger_home()))

    @property
    def embedded(self) -> bool:
        return not self.dsn

    def _dsn(self) -> str:
        return reveal(self.dsn)

    def _home(self) -> Path:
        return Path(self.ledger_home).resolve() if self.ledger_home else settings.ledger_home()

    @property
    def embedded_path(self) -> Path:
        return self._home() / "clickhouse"

    @property
    def scratch_path(self) -> Path:
        """Temporary files the embedded database reads (a landing-zone file's new tail)."""
        return self._home() / "tmp"

    def describe(self) -> str:
        """Where the data lives, safe to log (no credentials)."""
        return f"embedded chDB at {self.embedded_path}" if self.embedded else redact_dsn(self._dsn())

    @contextmanager
    def connect(self) -> Iterator[Client]:
        """A client for one unit of work; the schema is migrated on first use in each process.

        Inside an open ``connect()`` of this thread, the same client (and, embedded, the lock already held)."""
        sessions: dict[str, Client] = _open.__dict__.setdefault("sessions", {})
        key = str(self.embedded_path) if self.embedded else self._dsn()
        if key in sessions:
            yield sessions[key]
            return
        with self._session() as client:
            sessions[key] = client
            try:
                yield client
            finally:
                del sessions[key]

    @contextmanager
    def _session(self) -> Iterator[Client]:
        if self.embedded:
            self.embedded_path.mkdir(parents=True, exist_ok=True)
            with exclusive(self._home() / "clickhouse.lock", self.lock_timeout_s):
                client = clickhouse_connect.get_client(dsn=f"chdb://{self.embedded_path}")
                try:
                    self._migrate_once(client, str(self.embedded_path))
                    yield client
                finally:
                    client.close()
        else:
            dsn = self._dsn()
            problem = dsn_problem(dsn)
            if problem:  # never echo the DSN itself: it may hold a password
                raise ClickHouseConnectionError(f"CLICKHOUSE_DSN is malformed: {problem} (expected "
                                                "http(s)://user:password@host:8123/database)")
            try:
                client = clickhouse_connect.get_client(dsn=dsn)
            except Exception as exc:  # never let the DSN's password reach a log line
                raise ClickHouseConnectionError(
                    f"cannot connect to ClickHouse at {redact_dsn(dsn)}: {connection_cause(exc)}"
                ) from None
            try:
                self._migrate_once(client, redact_dsn(dsn))
                yield client
            finally:
                client.close()

    @staticmethod
    def _migrate_once(client: Client, key: str) -> None:
        with _migrated_guard:
            if key not in _migrated:
                apply_migrations(client)
                _migrated.add(key)

    def query_rows(self, sql: str, parameters: dict[str, Any] | None = None) -> list[tuple]:
        with self.connect() as client:
            return client.query(sql, parameters=parameters or {}).result_rows

    def command(self, sql: str, parameters: dict[str, Any] | None = None) -> Any:
        with self.connect() as client:
            return client.command(sql, parameters=parameters or {})

    def replace(self, table: str, columns: list[str], rows: list[list[Any]], clear_stale: str,
                parameters: dict[str, Any]) -> None:
        """The write of a re-fetched range: insert its rows, then run ``clear_stale``, which deletes the rows of
        the range that earlier fetches left (older ``extracted_at``). Killed between the two, the table holds both
        fetches, which its readers' FINAL resolves to the newer one and the next fetch clears: nothing is lost."""
        with self.connect() as client:
            if rows:
                client.insert(table, rows, column_names=columns)
            client.command(clear_stale, parameters=parameters)
