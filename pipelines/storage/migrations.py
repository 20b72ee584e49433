"""Numbered schema migrations from ``sql/migrations``: applied once each, by one process at a time, recorded.

Who applies them: a writer (a pipeline run, ``make demo``, ``ledger db migrate``) on its first use of the
database; readers (``ledger sql``, ``ledger status``, ``ledger metrics``, sensors, the webserver) never run DDL:
they ``check_schema`` and say clearly when the database is behind the code.

One at a time, on the server itself: under the server lock ``schema_migration`` (``server_lock.py``: a table only one
process can create, with its holder's heartbeats; a holder whose process is gone, or silent for longer than the
lease, is taken over once none of its statements still runs). The migrator renews the lease between statements.

Killed midway: each attempt at a migration is recorded in ``schema_migration_attempts`` before its first statement,
and its statements run in order under query ids that name the attempt and the statement. The next migrator waits
until no statement of the killed one still runs on the server, reads in the server's ``system.query_log`` the last
statement that finished, and resumes after it. So each statement runs to completion exactly once, whatever moment a
kill hits.

A migration that was applied and later edited is an error: the database would no longer match the file, and
silently skipping it hides that. Write a new numbered migration instead.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from pipelines.storage.server_lock import LEASE_S, UNKNOWN_TABLE, ServerLock, error_code, server_lock
from pipelines.storage.sql_files import SHARED_SQL_DIR, Queries, split_statements

MIGRATIONS_DIR = SHARED_SQL_DIR / "migrations"
POLL_S = 0.2
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

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


def _applied(client: Client) -> dict[int, tuple[str, str]] | None:
    """version -> (name, checksum) of the applied migrations; None when the database has no schema yet."""
    try:
        rows = client.query(sql("applied_migrations")).result_rows
    except DatabaseError as exc:
        if error_code(exc) == UNKNOWN_TABLE:
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
    with server_lock(client, "schema_migration", lease_s=lease_s) as lock:
        for statement in split_statements(sql("migration_tables")):
            client.command(statement)
        for migration in _pending(_applied(client) or {}, migrations):
            _apply(client, migration, lock)
            done.append(migration.name)
    return done


def _apply(client: Client, migration: Migration, lock: ServerLock) -> None:
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
