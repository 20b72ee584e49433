"""Where the time partitions start: LEDGER_PARTITIONS_START, else the earliest day with data (remembered once
found), else the first day of the previous month — so the UI shows no years of empty partitions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.partitions import REMEMBERED, resolve_start

TODAY = date(2026, 1, 10)


@pytest.fixture(autouse=True)
def no_setting(monkeypatch):
    monkeypatch.delenv("LEDGER_PARTITIONS_START", raising=False)  # tests/conftest.py sets it for the other tests


def event_at(ch: ClickHouseResource, event_id: str, ts: datetime) -> None:
    ch.command("INSERT INTO usage_events (event_id, ts, team, model) VALUES ({id:String}, {ts:DateTime64(3, 'UTC')}, "
               "'search', 'claude-haiku-4-5')", {"id": event_id, "ts": ts})


def test_the_setting_wins_and_nothing_is_remembered(ch, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_PARTITIONS_START", "2025-03-15")
    event_at(ch, "e1", datetime(2024, 1, 1, tzinfo=UTC))
    assert resolve_start(ch, tmp_path, TODAY) == date(2025, 3, 15)
    assert not (tmp_path / REMEMBERED).exists()


def test_a_setting_that_is_not_a_date_is_named(ch, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_PARTITIONS_START", "March")
    with pytest.raises(ValueError, match=r"^LEDGER_PARTITIONS_START must be a date \(YYYY-MM-DD\), not 'March'$"):
        resolve_start(ch, tmp_path, TODAY)


def test_with_no_data_the_partitions_start_on_the_first_day_of_the_previous_month(ch, tmp_path):
    assert resolve_start(ch, tmp_path, TODAY) == date(2025, 12, 1)  # January 10: December 1
    assert not (tmp_path / REMEMBERED).exists()  # nothing to remember until there is data


def test_the_earliest_day_of_any_source_is_the_start_and_is_remembered(ch, tmp_path):
    event_at(ch, "e1", datetime(2025, 11, 20, 23, 59, tzinfo=UTC))
    ch.command("INSERT INTO admin_cost_daily (date, workspace_id, amount_usd) VALUES ('2025-11-18', 'ws1', 1)")
    ch.command("INSERT INTO admin_usage_hourly (bucket_start, workspace_id) VALUES ('2025-11-19 05:00:00', 'ws1')")
    assert resolve_start(ch, tmp_path, TODAY) == date(2025, 11, 18)  # the cost report's day is the earliest
    assert json.loads((tmp_path / REMEMBERED).read_text()) == {"database": ch.describe(), "start": "2025-11-18"}


def test_a_remembered_start_does_not_move_when_older_data_arrives(ch, tmp_path):
    event_at(ch, "e1", datetime(2025, 11, 20, tzinfo=UTC))
    assert resolve_start(ch, tmp_path, TODAY) == date(2025, 11, 20)
    event_at(ch, "e0", datetime(2025, 6, 1, tzinfo=UTC))  # a late backfill: set LEDGER_PARTITIONS_START for it
    assert resolve_start(ch, tmp_path, TODAY) == date(2025, 11, 20)


def test_a_start_remembered_for_another_database_is_not_used(ch, tmp_path):
    (tmp_path / REMEMBERED).write_text(json.dumps({"database": "http://other:8123/db", "start": "2020-01-01"}))
    event_at(ch, "e1", datetime(2025, 11, 20, tzinfo=UTC))
    assert resolve_start(ch, tmp_path, TODAY) == date(2025, 11, 20)


def test_an_unreachable_database_falls_back_to_the_previous_month(tmp_path):
    unreachable = ClickHouseResource(dsn="http://127.0.0.1:9/db", ledger_home=str(tmp_path))
    assert resolve_start(unreachable, tmp_path, TODAY) == date(2025, 12, 1)
