"""Numbered schema migrations from ``sql/migrations``: applied once each, by one process at a time, recorded.

Who applies them: a writer (a pipeline run, ``make demo``, ``ledger db migrate``) on its first use of the
database; readers (``ledger sql``, ``ledger status``, ``ledger metrics``, sensors, the webserver) never run DDL:
they ``check_schema`` and say clearly when the database is behind the code.

One at a time, on the server itself (``migration_lock``): ClickHouse has no transactions, but creating a table is
atomic, so the lock is a table, ``schema_migration_lock``, that exactly one process can create. Its holder writes
heartbeats into it; a holder whose heartbeat is older than the lease, or whose process on this host is gone, is
taken over by renaming its lock table aside (a rename to a name of the dead lock's own, so two takers cannot
both win), once none of its statements is still running on the server.

Killed midway: each attempt at a migration is recorded in ``schema_migration_attempts`` before its first statement,
and its statements run in order under query ids that name the attempt and the statement. The next migrator waits
until no statement of the killed one still runs on the server, reads in the server's ``system.query_log`` the last
statement that finished, and resumes after it. So each statement runs to completion exactly once, whatever moment a
kill hits.

A migration that was applied and later edited is an error: the database would no longer match the file, and
silently skipping it hides that. Write a new numbered migration instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from pipelines.storage.sql_files import SHARED_SQL_DIR, Queries, split_statements

MIGRATIONS_DIR = SHARED_SQL_DIR / "migrations"
LEASE_S = 60.0  # a migrator renews its lease before every statement
LOCK_WAIT_S = 3600.0  # give up waiting for another migrator after this long
POLL_S = 0.2
TOMBSTONE_AGE_S = 3600  # taken-over or released lock tables are dropped this long after
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
TABLE_ALREADY_EXISTS, UNKNOWN_TABLE = 57, 60

sql = Queries(__file__)
log = logging.getLogger(__name__)


class MigrationError(RuntimeError):
    pass


class SchemaBehind(MigrationError):
    """A reader found the database's schema older than the code (it never migrates it itself)."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @cached_property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @cached_property
    def statements(self) -> list[str]:
        return split_statements(self.sql)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise MigrationError(f"migration file {path.name} is not named NNNN_description.sql")
        migrations.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in migrations]
    if len(versions) != len(set(versions)):
        raise MigrationError(f"two migration files share a number in {directory}")
    return migrations


def _code(exc: DatabaseError) -> int | None:
    match = re.search(r"Code: (\d+)", str(exc))
    return int(match.group(1)) if match else None


def _applied(client: Client) -> dict[int, tuple[str, str]] | None:
    """version -> (name, checksum) of the applied migrations; None when the database has no schema yet."""
    try:
        rows = client.query(sql("applied_migrations")).result_rows
    except DatabaseError as exc:
        if _code(exc) == UNKNOWN_TABLE:
            return None
        raise
    return {version: (name, checksum) for version, name, checksum in rows}


def _pending(applied: dict[int, tuple[str, str]], migrations: list[Migration]) -> list[Migration]:
    pending = []
    for migration in migrations:
        if migration.version not in applied:
            pending.append(migration)
        elif applied[migration.version][1] != migration.checksum:
            raise MigrationError(f"migration {migration.name} was edited after it was applied (as "
                                 f"{applied[migration.version][0]}); restore it and add a new numbered migration "
                                 "for the change")
    return pending


@dataclass(frozen=True)
class SchemaStatus:
    """The database's schema against this code's migrations."""

    applied: int
    pending: list[str]
    latest: str  # the last migration applied, "" for none

    @property
    def current(self) -> bool:
        return not self.pending

    def describe(self) -> str:
        """What the database's schema is, as the end of a sentence beginning "the database"."""
        if not self.applied:
            return f"has no claude-ledger schema yet ({len(self.pending)} migrations to apply)"
        if self.pending:
            return f"is behind this code: at {self.latest}, {len(self.pending)} to apply ({self.pending[0]} first)"
        return f"is current ({self.applied} migrations, the last {self.latest})"


def schema_status(client: Client, directory: Path = MIGRATIONS_DIR) -> SchemaStatus:
    migrations = discover(directory)
    applied = _applied(client) or {}
    names = [applied[version][0] for version in sorted(applied)]
    return SchemaStatus(len(applied), [m.name for m in migrations if m.version not in applied],
                        names[-1] if names else "")


def check_schema(client: Client, directory: Path = MIGRATIONS_DIR) -> None:
    """A reader's check: raise ``SchemaBehind`` naming what is missing when the schema is older than the code."""
    status = schema_status(client, directory)
    if not status.current:
        raise SchemaBehind(f"the database {status.describe()}: a pipeline run applies the migrations, or run "
                           "`ledger db migrate`")


def apply_migrations(client: Client, directory: Path = MIGRATIONS_DIR, lease_s: float = LEASE_S) -> list[str]:
    """Apply every migration not yet recorded, under the server-side lock; return the names applied now."""
    migrations = discover(directory)
    applied = _applied(client)
    if applied is not None and not _pending(applied, migrations):
        return []  # the usual case: nothing to do, and no lock taken
    done = []
    with migration_lock(client, lease_s) as lock:
        for statement in split_statements(sql("migration_tables")):
            client.command(statement)
        for migration in _pending(_applied(client) or {}, migrations):
            _apply(client, migration, lock)
            done.append(migration.name)
    return done


def _apply(client: Client, migration: Migration, lock: MigrationLock) -> None:
    attempts = client.query(sql("migration_attempts"), parameters={"version": migration.version}).result_rows
    if any(checksum != migration.checksum for _holder, checksum in attempts):
        raise MigrationError(f"migration {migration.name} was edited while half applied: restore the file as it "
                             "was, let it finish, and add a new numbered migration for the change")
    first = _resume_at(client, migration, [holder for holder, _checksum in attempts]) if attempts else 0
    client.insert("schema_migration_attempts", [[migration.version, migration.checksum, lock.holder]],
                  column_names=["version", "checksum", "holder"])
    for step in range(first, len(migration.statements)):
        lock.renew()
        client.command(migration.statements[step], settings={"query_id": _query_id(lock.holder, migration, step)})
    client.insert("schema_migrations", [[migration.version, migration.name, migration.checksum]],
                  column_names=["version", "name", "checksum"])
    log.info("applied migration %s (%d statements%s)", migration.name, len(migration.statements),
             f", resumed at statement {first + 1}" if first else "")


def _query_id(holder: str, migration: Migration, step: int) -> str:
    return f"{_attempt_prefix(holder, migration)}{step}"


def _attempt_prefix(holder: str, migration: Migration) -> str:
    return f"ledger-migration-{holder}-{migration.version:04d}-"


def _resume_at(client: Client, migration: Migration, holders: list[str]) -> int:
    """The first statement that earlier, interrupted attempts did not finish (they ran in order)."""
    prefixes = [_attempt_prefix(holder, migration) for holder in holders]
    while client.query(sql("migration_statements_running"), parameters={"prefixes": prefixes}).result_rows[0][0]:
        time.sleep(POLL_S)  # a statement of a killed migrator still runs on the server: let it end
    try:
        client.command("SYSTEM FLUSH LOGS")
        finished = client.query(sql("migration_attempts_finished"), parameters={"prefixes": prefixes}).result_rows
    except DatabaseError as exc:
        raise MigrationError(f"migration {migration.name} was interrupted, and this server's system.query_log cannot "
                             f"tell how far it got ({str(exc).splitlines()[0]}): enable the query log (or grant "
                             "SYSTEM FLUSH LOGS and SELECT on it) and run again") from None
    return finished[0][0] + 1 if finished else 0


def _process_start(pid: int) -> int | None:
    """When process ``pid`` of this host started (clock ticks since boot), or None when there is none."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


@dataclass
class MigrationLock:
    """This process's hold on ``schema_migration_lock`` (see the module docstring)."""

    client: Client
    lease_s: float
    holder: str = field(default_factory=lambda: uuid.uuid4().hex)
    table_uuid: str = ""
    renewed: float = 0.0  # time.monotonic() of the last heartbeat

    @property
    def query_prefix(self) -> str:
        return f"ledger-migration-{self.holder}"

    def _table(self) -> tuple[str, int]:
        """The lock table's uuid and age in seconds; ('', 0) when there is no lock."""
        rows = self.client.query(sql("migration_lock_table")).result_rows
        return (rows[0][0], int(rows[0][1])) if rows else ("", 0)

    def _heartbeat(self) -> None:
        self.renewed = time.monotonic()
        self.client.insert("schema_migration_lock", [[self.holder, socket.gethostname(), os.getpid(),
                                                       _process_start(os.getpid()) or 0]],
                           column_names=["holder", "host", "pid", "pid_started"])

    def _try_create(self) -> bool:
        try:
            self.client.command(sql("migration_lock_create"))
        except DatabaseError as exc:
            if _code(exc) == TABLE_ALREADY_EXISTS:
                return False
            raise
        self.table_uuid = self._table()[0]
        self._heartbeat()
        return True

    def acquire(self) -> None:
        deadline = time.monotonic() + LOCK_WAIT_S
        while not self._try_create():
            self._take_over_if_dead()
            if time.monotonic() > deadline:
                raise MigrationError("another process has held the migration lock (table schema_migration_lock) "
                                     f"for more than {LOCK_WAIT_S:.0f} s")
            time.sleep(POLL_S)

    def _take_over_if_dead(self) -> None:
        table_uuid, age_s = self._table()
        if not table_uuid:
            return  # released meanwhile
        try:
            rows = self.client.query(sql("migration_lock_holder")).result_rows
        except DatabaseError as exc:
            if _code(exc) == UNKNOWN_TABLE:
                return  # released meanwhile
            raise
        if rows:
            holder, host, pid, pid_started, idle_s = rows[0]
            gone = host == socket.gethostname() and _process_start(pid) != pid_started
        else:  # its creator died before its first heartbeat, or is about to write it
            holder, host, pid, gone, idle_s = "", "?", 0, False, float(age_s)
        if not gone and idle_s <= self.lease_s:
            return
        while holder and self.client.query(sql("migration_statements_running"),
                                           parameters={"prefixes": [f"ledger-migration-{holder}-"]}).result_rows[0][0]:
            time.sleep(POLL_S)  # its last statement still runs on the server: let it end first
        log.warning("taking over the migration lock of pid %s on %s: %s", pid, host,
                    "its process is gone" if gone else f"no heartbeat for {idle_s:.0f} s")
        self._retire(table_uuid)

    def _retire(self, table_uuid: str) -> None:
        """Rename the lock table aside, to a name of its own: if it is no longer the table with this uuid (another
        taker retired it first), that name is taken and the rename fails, leaving the newer lock alone."""
        with contextlib.suppress(DatabaseError):
            self.client.command("RENAME TABLE schema_migration_lock TO {tombstone:Identifier}",
                                parameters={"tombstone": f"schema_migration_lock_{table_uuid.replace('-', '')}"})

    def renew(self) -> None:
        """Extend the lease once a quarter of it has passed since the last heartbeat (no one takes a lock over
        before all of it has), first verifying that the lock is still this process's."""
        if time.monotonic() - self.renewed < self.lease_s / 4:
            return
        if self._table()[0] != self.table_uuid:
            raise MigrationError("the migration lock was taken over by another process (this one was silent for "
                                 f"more than {self.lease_s:.0f} s): stopping; the other one finishes the migration")
        self._heartbeat()

    def release(self) -> None:
        if self._table()[0] == self.table_uuid:
            self._retire(self.table_uuid)
        for (name,) in self.client.query(sql("migration_lock_tombstones"),
                                         parameters={"age_s": TOMBSTONE_AGE_S}).result_rows:
            with contextlib.suppress(DatabaseError):
                self.client.command("DROP TABLE IF EXISTS {name:Identifier}", parameters={"name": name})


@contextlib.contextmanager
def migration_lock(client: Client, lease_s: float = LEASE_S) -> Iterator[MigrationLock]:
    lock = MigrationLock(client, lease_s)
    lock.acquire()
    try:
        yield lock
    finally:
        lock.release()
