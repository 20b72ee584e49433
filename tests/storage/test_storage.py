"""Specification of the storage layer: migrations applied once and recorded, readers that never run DDL, safe
descriptions of a server."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import clickhouse_connect
import pytest
from dagster import build_sensor_context

from pipelines.events.definitions import landing_zone_sensor
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.storage.clickhouse import ClickHouseResource, redact_dsn
from pipelines.storage.migrations import MIGRATIONS_DIR, MigrationError, SchemaBehind, apply_migrations


def test_every_migration_is_recorded_once(ch):
    expected = sorted(p.name for p in MIGRATIONS_DIR.glob("*.sql"))
    with ch.connect() as client:
        assert apply_migrations(client) == []  # nothing left to apply
    assert [name for (name,) in ch.query_rows("SELECT name FROM schema_migrations FINAL ORDER BY version")] == expected
    assert ch.query_rows("SELECT count(), uniqExact(version) FROM schema_migration_attempts") == [
        (len(expected), len(expected))]  # one attempt each: nothing ran twice


@pytest.fixture
def client(databases):
    """A client of a new, empty database (no schema)."""
    client = clickhouse_connect.get_client(dsn=databases.dsn(databases.create()), autogenerate_session_id=False)
    yield client
    client.close()


def _copy_migrations(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, directory)
    return directory


def test_an_edited_applied_migration_is_an_error(client, tmp_path):
    directory = _copy_migrations(tmp_path)
    apply_migrations(client, directory)
    first = sorted(directory.glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- an innocent-looking edit\n")
    with pytest.raises(MigrationError, match=re.escape(f"migration {first.name} was edited after it was applied")):
        apply_migrations(client, directory)


def test_a_new_migration_file_is_applied_on_next_use(client, tmp_path):
    directory = _copy_migrations(tmp_path)
    apply_migrations(client, directory)
    (directory / "9999_extra.sql").write_text(
        "CREATE TABLE IF NOT EXISTS extra (x UInt8) ENGINE = MergeTree ORDER BY x;\n"
    )
    assert apply_migrations(client, directory) == ["9999_extra.sql"]
    assert client.query("EXISTS TABLE extra").result_rows == [(1,)]


def test_a_comment_ending_in_a_semicolon_is_no_statement(client, tmp_path):
    directory = tmp_path / "migrations"
    directory.mkdir()
    (directory / "0001_commented.sql").write_text(
        "-- a table;\nCREATE TABLE IF NOT EXISTS commented (x UInt8) ENGINE = MergeTree ORDER BY x;\n\n"
        "-- a remark between statements, ending like one;\n-- and another line of it\n"
        "CREATE VIEW IF NOT EXISTS commented_view AS SELECT x FROM commented;\n-- a last word;\n")
    assert apply_migrations(client, directory) == ["0001_commented.sql"]  # a server refuses an empty statement
    assert client.query("SELECT count() FROM system.tables WHERE database = currentDatabase() "
                        "AND startsWith(name, 'commented')").result_rows == [(2,)]


def test_a_misnamed_migration_file_is_an_error(client, tmp_path):
    directory = _copy_migrations(tmp_path)
    (directory / "add_things.sql").write_text("SELECT 1;\n")
    with pytest.raises(MigrationError, match=re.escape("add_things.sql is not named NNNN_description.sql")):
        apply_migrations(client, directory)


def _tables(databases, name: str) -> int:
    return databases.admin.query("SELECT count() FROM system.tables WHERE database = {name:String}",
                                 parameters={"name": name}).result_rows[0][0]


def test_a_reader_on_a_database_without_the_schema_says_so_and_creates_nothing(databases):
    name = databases.create()
    reader = ClickHouseResource(dsn=databases.dsn(name), migrate=False)
    with pytest.raises(SchemaBehind, match=r"^the database has no claude-ledger schema yet \(\d+ migrations to "
                                           r"apply\): a pipeline run applies the migrations, or run `ledger db "
                                           r"migrate`$"):
        reader.query_rows("SELECT 1")
    assert _tables(databases, name) == 0


def test_a_reader_on_a_schema_behind_the_code_names_the_first_missing_migration(databases, tmp_path):
    name = databases.create()
    older = _copy_migrations(tmp_path)
    newest = sorted(older.glob("*.sql"))[-1]
    newest.unlink()  # the code of the previous release
    with clickhouse_connect.get_client(dsn=databases.dsn(name)) as client:
        apply_migrations(client, older)
    reader = ClickHouseResource(dsn=databases.dsn(name), migrate=False)
    with pytest.raises(SchemaBehind, match=rf"^the database is behind this code: at \d{{4}}_\w+\.sql, 1 to apply "
                                           rf"\({newest.name} first\)"):
        reader.query_rows("SELECT 1")


def test_a_sensor_is_a_reader_even_with_the_pipeline_s_resource(databases, tmp_path):
    name = databases.create()
    writer = ClickHouseResource(dsn=databases.dsn(name))  # as pipelines/definitions.py binds it
    context = build_sensor_context(resources={"clickhouse": writer,
                                              "landing_zone": LandingZone(events_dir=str(tmp_path))})
    with pytest.raises(SchemaBehind, match="no claude-ledger schema yet"):
        landing_zone_sensor(context)
    assert _tables(databases, name) == 0  # a sensor tick never runs DDL


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
