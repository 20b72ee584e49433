"""The allocation specs' database: one priced database per test module, emptied for each test."""

from __future__ import annotations

import pytest
from allocation_data import emptied, with_list_prices

from pipelines.storage.clickhouse import ClickHouseResource


@pytest.fixture(scope="module")
def database(module_ch: ClickHouseResource) -> ClickHouseResource:
    return with_list_prices(module_ch)


@pytest.fixture
def priced(database: ClickHouseResource, tmp_path, monkeypatch):
    """The module's database with no usage, no LEDGER_CONFIG, and one client for the whole test (inner units of
    work reuse it)."""
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    with database.connect():
        yield emptied(database)
