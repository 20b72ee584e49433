"""Migrations on a real server, by real processes: several starting at once apply each migration once, a migrator
SIGKILLed at any moment is resumed without running a statement twice, and a lock whose holder is gone is taken
over (pipelines/storage/migrations.py)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import clickhouse_connect
import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.local_server import LocalServer
from pipelines.storage.migrations import MIGRATIONS_DIR, apply_migrations, discover
from pipelines.storage.server_lock import sql as lock_sql

MIGRATIONS = len(discover())
STATEMENTS = sum(len(m.statements) for m in discover())

# A pipeline process as `make dev` starts five of them: its first unit of work migrates, then it writes.
FIRST_USE = """
import sys
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
with ch.connect() as client:
    client.insert("ingest_files", [[f"p{sys.argv[1]}-{i}", i, i, i, "2026-01-01 00:00:00"] for i in range(100)],
                  column_names=["path", "byte_offset", "lines_read", "file_size", "updated_at"])
"""

# A migrator of the migrations in argv[1] that says when each is applied.
MIGRATE = """
import logging, sys
from pathlib import Path
import clickhouse_connect
from pipelines.storage.migrations import apply_migrations
logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
with clickhouse_connect.get_client(dsn=sys.argv[2]) as client:
    apply_migrations(client, Path(sys.argv[1]))
print("done", flush=True)
"""


def python(script: str, *args: str, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], cwd=PROJECT_ROOT, text=True,
                            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_five_processes_starting_together_on_a_fresh_home_start_one_server_and_migrate_once(tmp_path):
    home = tmp_path / "ledger"
    env = {"LEDGER_HOME": str(home), "CLICKHOUSE_DSN": ""}
    processes = [python(FIRST_USE, str(n), env=env) for n in range(5)]
    outcomes = [(process.wait(timeout=600), process.stderr.read()) for process in processes]
    try:
        assert outcomes == [(0, "")] * 5
        ch = ClickHouseResource(ledger_home=str(home))
        assert ch.query_rows("SELECT count(), uniqExact(version) FROM schema_migrations") == [
            (MIGRATIONS, MIGRATIONS)]
        assert ch.query_rows("SELECT count() FROM schema_migration_attempts") == [(MIGRATIONS,)]
        assert ch.query_rows("SELECT count() FROM ingest_files") == [(500,)]
    finally:
        LocalServer(home).stop()


def _schema(client) -> list[tuple]:
    """Every object of the database with its definition, and every function of the ledger's."""
    tables = client.query("SELECT name, engine, replaceAll(create_table_query, currentDatabase(), 'db') "
                          "FROM system.tables WHERE database = currentDatabase() AND NOT startsWith(name, 'schema_') "
                          "ORDER BY name").result_rows
    functions = client.query("SELECT name, create_query FROM system.functions WHERE origin = 'SQLUserDefined' "
                             "ORDER BY name").result_rows
    return [*tables, *functions]


def migrate(directory: Path, dsn: str) -> subprocess.Popen:
    return python(MIGRATE, str(directory), dsn, env={})


@pytest.mark.parametrize("seed", [1, 2])
def test_a_migrator_killed_again_and_again_leaves_the_schema_a_clean_run_gives(databases, seed):
    fresh, reference = databases.create(), databases.create()
    rng = random.Random(seed)
    for kill in range(5):  # kill k: just after the migrator announced its (6k + 1 .. 6k + 6)-th migration
        child = migrate(MIGRATIONS_DIR, databases.dsn(fresh))
        wanted = rng.randint(6 * kill + 1, 6 * kill + 6)
        for line in child.stdout:
            if line.startswith("applied migration") and (wanted := wanted - 1) == 0:
                break
        time.sleep(rng.uniform(0, 0.05))
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=60)
    final = migrate(MIGRATIONS_DIR, databases.dsn(fresh))
    assert final.wait(timeout=600) == 0, final.stderr.read()
    with clickhouse_connect.get_client(dsn=databases.dsn(reference)) as client:
        apply_migrations(client)
        expected = _schema(client)
    with clickhouse_connect.get_client(dsn=databases.dsn(fresh)) as client:
        assert _schema(client) == expected
        assert client.query("SELECT count(), uniqExact(version) FROM schema_migrations FINAL").result_rows == [
            (MIGRATIONS, MIGRATIONS)]
        client.command("SYSTEM FLUSH LOGS")
        finished = client.query(  # every statement finished exactly once, across the six migrators
            "SELECT count(), uniqExact(query_id) FROM system.query_log WHERE type = 'QueryFinish' "
            "AND query_id IN (SELECT concat('ledger-migration-', holder, '-', leftPad(toString(version), 4, '0'), "
            "'-', toString(step)) FROM schema_migration_attempts ARRAY JOIN range(1000) AS step)").result_rows
    assert finished == [(STATEMENTS, STATEMENTS)]


SLOW = """CREATE TABLE IF NOT EXISTS slow (n UInt64) ENGINE = MergeTree ORDER BY n;
-- one row, after two seconds: a statement the kill lands in
INSERT INTO slow SELECT count() FROM numbers(4) WHERE NOT ignore(sleepEachRow(0.5)) SETTINGS max_block_size = 1;
CREATE TABLE IF NOT EXISTS after_slow (n UInt64) ENGINE = MergeTree ORDER BY n;
"""


def test_a_statement_that_was_running_when_its_migrator_was_killed_is_not_run_again(databases, tmp_path):
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_slow.sql").write_text(SLOW)
    dsn = databases.dsn(databases.create())
    child = migrate(directory, dsn)
    with clickhouse_connect.get_client(dsn=dsn) as client:
        while not client.query("SELECT count() FROM system.processes WHERE startsWith(query_id, 'ledger-migration-') "
                               "AND startsWith(query, 'INSERT INTO slow')").result_rows[0][0]:
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.05)
        os.kill(child.pid, signal.SIGKILL)  # in the middle of the INSERT
        child.wait(timeout=60)
        resumed = migrate(directory, dsn)
        assert resumed.wait(timeout=600) == 0, resumed.stderr.read()
        assert client.query("SELECT n FROM slow").result_rows == [(4,)]  # once: not inserted again
        assert client.query("EXISTS TABLE after_slow").result_rows == [(1,)]


def _refused_lock_attempts(client) -> int:
    """How often a migrator found the lock held (keeping the holder's heartbeat fresh meanwhile)."""
    client.command("INSERT INTO schema_migration_lock (holder, host, pid, pid_started) VALUES "
                   "('other', 'another-host', 4242, 1)")
    client.command("SYSTEM FLUSH LOGS")
    return client.query("SELECT count() FROM system.query_log WHERE current_database = currentDatabase() "
                        "AND exception_code = 57"
                        ).result_rows[0][0]


def test_a_migrator_waits_while_the_lock_is_held_and_proceeds_once_it_is_released(databases):
    dsn = databases.dsn(databases.create())
    with clickhouse_connect.get_client(dsn=dsn) as client:
        client.command(lock_sql("server_lock_create"), parameters={"table": "schema_migration_lock"})
        waiting = migrate(MIGRATIONS_DIR, dsn)
        while _refused_lock_attempts(client) < 3:
            assert waiting.poll() is None, waiting.stderr.read()
            time.sleep(0.1)
        assert client.query("EXISTS TABLE schema_migrations").result_rows == [(0,)]  # nothing applied meanwhile
        client.command("RENAME TABLE schema_migration_lock TO schema_migration_lock_released")  # as a holder does
        assert waiting.wait(timeout=600) == 0, waiting.stderr.read()
        assert client.query("SELECT count() FROM schema_migrations FINAL").result_rows == [(MIGRATIONS,)]
