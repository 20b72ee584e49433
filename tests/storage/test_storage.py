"""Specification of the storage layer: migrations, embedded concurrency, safe descriptions."""

from __future__ import annotations

import multiprocessing
import re
import shutil
from pathlib import Path

import clickhouse_connect
import pytest

from pipelines.storage.clickhouse import ClickHouseResource, redact_dsn
from pipelines.storage.embedded_lock import EmbeddedLockTimeout, exclusive
from pipelines.storage.migrations import MIGRATIONS_DIR, MigrationError, apply_migrations


def test_every_migration_is_recorded_once(ch):
    expected = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    ch.query_rows("SELECT 1")  # first use applies them
    with ch.connect() as client:
        assert apply_migrations(client) == []  # nothing left to apply
    assert [name for (name,) in ch.query_rows("SELECT name FROM schema_migrations FINAL ORDER BY version")] == expected


def _copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


def test_an_edited_applied_migration_is_an_error(tmp_path):
    directory = _copy_migrations(tmp_path)
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path / 'db'}")
    try:
        apply_migrations(client, directory)
        first = sorted(directory.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
        with pytest.raises(MigrationError, match=re.escape(f"migration {first.name} was edited after it was applied")):
            apply_migrations(client, directory)
    finally:
        client.close()


def test_a_new_migration_file_is_applied_on_next_use(tmp_path):
    directory = _copy_migrations(tmp_path)
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path / 'db'}")
    try:
        apply_migrations(client, directory)
        (directory / "9999_extra.sql").write_text(
            "CREATE TABLE IF NOT EXISTS extra (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
        )
        assert apply_migrations(client, directory) == ["9999_extra.sql"]
        assert client.query("EXISTS TABLE extra").result_rows == [(1,)]
    finally:
        client.close()


def test_a_misnamed_migration_file_is_an_error(tmp_path):
    directory = _copy_migrations(tmp_path)
    (directory / "add_things.sql").write_text("SELECT 1;\n")
    client = clickhouse_connect.get_client(dsn=f"chdb://{tmp_path / 'db'}")
    try:
        with pytest.raises(MigrationError, match=re.escape("add_things.sql is not named NNNN_description.sql")):
            apply_migrations(client, directory)
    finally:
        client.close()


def _writer(home: str, worker: int, rows: int, errors) -> None:
    try:
        ch = ClickHouseResource(ledger_home=home, lock_timeout_s=120)
        for i in range(rows):
            with ch.connect() as client:
                client.insert("ingest_files", [[f"w{worker}-{i}", i, i, i, "2026-01-01 00:00:00"]],
                              column_names=["path", "byte_offset", "lines_read", "file_size", "updated_at"])
                client.query("SELECT count() FROM ingest_files")
    except Exception as exc:  # reported to the parent, which fails the test with it
        errors.put(f"worker {worker}: {exc!r}")


def test_two_processes_write_and_read_the_embedded_database_at_once_without_loss(tmp_path):
    home = str(tmp_path / "ledger")
    ClickHouseResource(ledger_home=home).query_rows("SELECT 1")  # create the database
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    workers = [context.Process(target=_writer, args=(home, n, 25, errors)) for n in (1, 2)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=180)
    assert [p.exitcode for p in workers] == [0, 0]
    assert errors.empty(), errors.get()
    assert ClickHouseResource(ledger_home=home).query_rows(
        "SELECT countIf(path LIKE 'w1-%'), countIf(path LIKE 'w2-%') FROM ingest_files"
    ) == [(25, 25)]


def _hold_lock(path: str, ready, release) -> None:
    with exclusive(Path(path), timeout_s=5):
        ready.set()
        release.wait(10)


def test_a_busy_embedded_database_fails_after_the_timeout_with_a_clear_message(tmp_path):
    context = multiprocessing.get_context("spawn")
    ready, release = context.Event(), context.Event()
    lock = tmp_path / "ledger" / "clickhouse.lock"
    holder = context.Process(target=_hold_lock, args=(str(lock), ready, release))
    holder.start()
    try:
        assert ready.wait(30)
        ch = ClickHouseResource(ledger_home=str(tmp_path / "ledger"), lock_timeout_s=0.3)
        with pytest.raises(EmbeddedLockTimeout, match="embedded ClickHouse database is busy"):
            ch.query_rows("SELECT 1")
    finally:
        release.set()
        holder.join(10)


def test_the_lock_is_reentrant_within_one_thread(tmp_path):
    with exclusive(tmp_path / "x.lock", timeout_s=1), exclusive(tmp_path / "x.lock", timeout_s=1):
        pass


def test_a_server_dsn_is_described_without_credentials():
    ch = ClickHouseResource(dsn="https://finance:s3cret@ch.example.internal:8443/ledger")
    assert ch.describe() == "https://ch.example.internal:8443/ledger"
    assert "s3cret" not in redact_dsn(ch.dsn)


def test_an_unreachable_server_fails_without_revealing_the_password():
    ch = ClickHouseResource(dsn="http://finance:s3cret@127.0.0.1:9/ledger")
    with pytest.raises(ConnectionError) as failure:
        ch.query_rows("SELECT 1")
    assert "s3cret" not in str(failure.value)
    assert "http://127.0.0.1:9/ledger" in str(failure.value)
