"""The allocation specs' database: one priced embedded database per test module, emptied for each test."""

from __future__ import annotations

import pytest
from allocation_data import emptied, priced_database

from pipelines.storage.clickhouse import ClickHouseResource


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> ClickHouseResource:
    return priced_database(tmp_path_factory.mktemp("ledger"))


@pytest.fixture
def priced(database: ClickHouseResource, tmp_path, monkeypatch):
    """The module's database with no usage, no LEDGER_CONFIG, and one embedded session for the whole test
    (inner units of work reuse it)."""
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    with database.connect():
        yield emptied(database)
