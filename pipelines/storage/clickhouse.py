"""The one way the pipeline reaches ClickHouse: a Dagster resource over clickhouse-connect, always over HTTP.

``CLICKHOUSE_DSN`` set (``http(s)://user:pass@host:8123/db``): a ClickHouse server, cluster or ClickHouse Cloud.
Unset: the local ClickHouse server of ``$LEDGER_HOME`` (``local_server.py``), started on first use. The same code
path either way: every process (webserver, daemon, runs, the ``ledger`` command, a BI tool) talks to the server at
once, with no lock between them.

A unit of work is one run or one sensor tick, not one query: ``connect()`` nested inside an open ``connect()`` of
the same thread reuses that client.

Schema: a writer (a pipeline run, or a script such as the demo) applies pending migrations on its first use of the
database, one process at a time under a lock on the server (``migrations.py``); a reader (``migrate=False``: the
``ledger`` query commands; and any resource Dagster sets up outside a run: sensors, the webserver) only checks that
the schema is current and says clearly when it is not.
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
from dagster import ConfigurableResource, InitResourceContext
from pydantic import Field, PrivateAttr

from pipelines import settings
from pipelines.secrets import reveal, secret
from pipelines.storage.local_server import LocalServer
from pipelines.storage.migrations import SchemaStatus, apply_migrations, check_schema, schema_status
from pipelines.storage.server_lock import server_lock

_schema_ready: set[str] = set()  # databases this process has migrated or checked (keyed by DSN)
_schema_guard = threading.Lock()
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
    """ClickHouse over HTTP: the server in ``dsn``, else the local server of ``ledger_home``."""

    dsn: str = Field(default="", description="ClickHouse server DSN (EnvVar CLICKHOUSE_DSN, it may hold a "
                     "password); empty means the local ClickHouse server of the data directory.")
    ledger_home: str = Field(default="", description="Data directory; empty means $LEDGER_HOME.")
    reads_local_files: bool = Field(default=False, description="The server shares this machine's file system "
                                    "(CLICKHOUSE_READS_LOCAL_FILES=1), so event files are read in place instead of "
                                    "shipped. Always true of the local server.")
    migrate: bool = Field(default=True, description="Apply pending migrations on first use (a writer); false: "
                          "only check the schema (a reader). Outside a run (sensors) it is always a reader.")
    _outside_run: bool = PrivateAttr(default=False)

    @classmethod
    def from_env(cls, migrate: bool = True) -> ClickHouseResource:
        return cls(dsn=secret("CLICKHOUSE_DSN"), ledger_home=str(settings.ledger_home()),
                   reads_local_files=settings.clickhouse_reads_local_files(), migrate=migrate)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._outside_run = context.run is None  # a sensor tick or the webserver: never DDL

    @property
    def local(self) -> bool:
        """The local server of the data directory (no DSN)."""
        return not self.dsn

    @property
    def files_in_place(self) -> bool:
        """Can the server read the landing zone's files where they are?"""
        return self.local or self.reads_local_files

    def _home(self) -> Path:
        return Path(self.ledger_home).resolve() if self.ledger_home else settings.ledger_home()

    @property
    def local_server(self) -> LocalServer:
        return LocalServer(self._home())

    @property
    def scratch_path(self) -> Path:
        """Temporary files the server reads (a landing-zone file's new tail)."""
        return self._home() / "tmp"

    def _dsn(self) -> str:
        return reveal(self.dsn) if self.dsn else self.local_server.ensure_running().dsn()

    def describe(self) -> str:
        """Where the data lives, safe to log (no credentials)."""
        return f"the local ClickHouse server of {self._home()}" if self.local else redact_dsn(reveal(self.dsn))

    @contextmanager
    def connect(self) -> Iterator[Client]:
        """A client for one unit of work; the schema is migrated (or, by a reader, checked) on first use in each
        process. Inside an open ``connect()`` of this thread, the same client."""
        sessions: dict[str, Client] = _open.__dict__.setdefault("sessions", {})
        dsn = self._dsn()
        if dsn in sessions:
            yield sessions[dsn]
            return
        client = self._client(dsn)
        sessions[dsn] = client
        try:
            self._schema_once(client, dsn)
            yield client
        finally:
            del sessions[dsn]
            client.close()

    @contextmanager
    def exclusive(self, name: str) -> Iterator[Client]:
        """``connect()`` for a write that must not run twice at once: holds the server lock ``name``
        (``server_lock.py``) for as long as the ``with`` lasts, so a second process waits for the first to end."""
        with self.connect() as client:
            heartbeats = self._client(self._dsn())
            try:
                with server_lock(client, name, heartbeats=heartbeats):
                    yield client
            finally:
                heartbeats.close()

    def _client(self, dsn: str) -> Client:
        problem = dsn_problem(dsn)
        if problem:  # never echo the DSN itself: it may hold a password
            raise ClickHouseConnectionError(f"CLICKHOUSE_DSN is malformed: {problem} (expected "
                                            "http(s)://user:password@host:8123/database)")
        try:
            return clickhouse_connect.get_client(dsn=dsn, autogenerate_session_id=False)
        except Exception as exc:  # never let the DSN's password reach a log line
            raise ClickHouseConnectionError(
                f"cannot connect to ClickHouse at {redact_dsn(dsn)}: {connection_cause(exc)}"
            ) from None

    def apply_migrations(self) -> list[str]:
        """Apply the pending migrations now (``ledger db migrate``); the names of those applied."""
        dsn = self._dsn()
        client = self._client(dsn)
        try:
            applied = apply_migrations(client)
        finally:
            client.close()
        with _schema_guard:
            _schema_ready.add(f"True:{dsn}")
        return applied

    def schema_status(self) -> SchemaStatus:
        """How far the database's schema is, without changing it."""
        client = self._client(self._dsn())
        try:
            return schema_status(client)
        finally:
            client.close()

    def _schema_once(self, client: Client, dsn: str) -> None:
        writer = self.migrate and not self._outside_run
        key = f"{writer}:{dsn}"
        with _schema_guard:
            if key not in _schema_ready:
                apply_migrations(client) if writer else check_schema(client)
                _schema_ready.add(key)

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
