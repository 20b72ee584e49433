"""The generated month behind the allocation and incremental benchmarks (bench/month.py): its shape,
and that the allocation of it accounts for exactly the Admin API's tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.incremental import sql as incremental_sql
from bench.month import END, MONTH, build_month, ledger_config
from bench.month import sql as bench_sql
from pipelines.admin_api.assets import USAGE_LATE_HOURS
from pipelines.admin_api.collect import fetch_time, replace_usage_range
from pipelines.allocation.allocate import allocate_month
from pipelines.events.load import stored_events
from pipelines.storage.clickhouse import ClickHouseResource

EVENTS = 744 * 10  # ten events in every hour of October


@pytest.fixture(scope="module")
def month(module_ch: ClickHouseResource) -> ClickHouseResource:
    build_month(module_ch, EVENTS)
    return module_ch


def test_every_hour_of_october_has_the_same_number_of_events(month) -> None:
    rows = month.query_rows("SELECT toStartOfHour(ts) AS hour, count() FROM usage_events GROUP BY hour")
    assert len(rows) == 744
    assert {count for _, count in rows} == {10}


def test_the_admin_api_reports_console_use_in_every_hour_of_every_workspace(month) -> None:
    [[rows, hours]] = month.query_rows(
        "SELECT count(), uniqExact(bucket_start) FROM admin_usage_hourly WHERE api_key_id = ''")
    assert (rows, hours) == (744 * 4, 744)


def test_the_cost_report_leaves_the_last_two_days_of_the_month_out(month) -> None:
    [[days, first, last]] = month.query_rows("SELECT uniqExact(date), min(date), max(date) FROM admin_cost_daily")
    assert (days, str(first), str(last)) == (29, "2026-10-01", "2026-10-29")


def test_a_month_built_again_with_the_same_size_is_reused(month) -> None:
    build_month(month, EVENTS)
    assert stored_events(month).count == EVENTS


def test_the_allocation_of_the_month_accounts_for_exactly_the_admin_api_tokens(month) -> None:
    allocate_month(month, MONTH, ledger_config())
    [[_rows, _cells, tokens, authority, residual, _usd]] = month.query_rows(
        bench_sql("allocation_of_month_summary"), {"month": MONTH})
    assert tokens == authority
    assert residual > 0  # console use and the cells reporting more than the events


def test_the_incremental_benchmark_writes_back_the_hours_it_reads_as_a_re_fetch(month) -> None:
    """bench/incremental.py re-fetches the month's last hours from admin_usage_hourly and writes them back."""
    start = END - timedelta(hours=USAGE_LATE_HOURS)
    before = month.query_rows("SELECT count(), sum(output_tokens) FROM admin_usage_hourly FINAL")
    rows = month.query_rows(incremental_sql("admin_usage_hourly_between"), {"start": start, "end": END})
    replace_usage_range(month, rows, start, END, fetch_time())
    assert rows
    assert month.query_rows("SELECT count(), sum(output_tokens) FROM admin_usage_hourly FINAL") == before
