"""The budget forecast: weekday shape, level, hourly profile, interval, fallbacks; its backtest against the
straight run rate on generated months and on the demo organisation; budget_status and its table use it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from budget_helpers import ALLOCATION_COLUMNS, emptied, utc
from dagster import materialize

from bench.forecast_backtest import (
    DEMO_MONTHS,
    GENERATED_MONTHS,
    backtest_month,
    demo_series,
    generated_cases,
    score,
)
from pipelines.alerts.clock import Clock
from pipelines.budgets.assets import budget_status
from pipelines.budgets.forecast import DayTotal, forecast_period
from pipelines.budgets.model import Budget
from pipelines.budgets.periods import period_of
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.budgets.status import budget_statuses
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource

MONDAY = datetime(2026, 11, 16, tzinfo=UTC)  # the four weeks before it: Monday 19 October .. Sunday 15 November
NOVEMBER = period_of("month", MONDAY)
HISTORY_START = date(2026, 10, 19)


def weekdays_and_weekends(first: date, last: date, weekday_usd: str, weekend_usd: str) -> dict[date, DayTotal]:
    """A day's spend, all of it before 00:00's hour profile matters (the forecasts below are made at 00:00)."""
    days = {}
    day = first
    while day <= last:
        days[day] = DayTotal(Decimal(weekend_usd if day.weekday() >= 5 else weekday_usd))
        day += timedelta(days=1)
    return days


def test_each_remaining_day_costs_what_its_weekday_costs():
    days = weekdays_and_weekends(HISTORY_START, date(2026, 11, 15), "10", "2")
    forecast = forecast_period(days, NOVEMBER.start, NOVEMBER.end, MONDAY, HISTORY_START)
    # spent 1-15 November: Sunday 1st 2 + two working weeks 2 x 50 + two weekends 2 x 4 = 110;
    # to come 16-30 November: two working weeks 2 x 50 + two weekends 2 x 4 + Monday 30th 10 = 118
    assert (forecast.method, forecast.history_days) == ("seasonal", 28)
    assert forecast.p50_usd == Decimal(228)
    assert forecast.p10_usd == forecast.p90_usd == Decimal(228)  # no day-to-day noise: no spread


def test_the_interval_comes_from_the_day_to_day_noise_and_the_level_of_the_last_week():
    # weeks of 8, 12, 8, 12 a day: every weekday's mean is 10, each day 20 % off it, the last week's level 12
    days = {}
    for week, usd in enumerate(("8", "12", "8", "12")):
        for i in range(7):
            days[HISTORY_START + timedelta(days=7 * week + i)] = DayTotal(Decimal(usd))
    today = period_of("day", MONDAY)
    forecast = forecast_period(days, today.start, today.end, MONDAY, HISTORY_START)
    # cv^2 = 28 x 0.2^2 / (28 - 7) = 0.053333; sd^2 = cv^2 x (12^2 + 12^2 / 7) = 8.777143, sd = 2.962624;
    # p10 / p90 = 12 -/+ 1.2815516 x 2.962624 = 12 -/+ 3.796756
    assert forecast.p50_usd == Decimal(12)
    assert (round(forecast.p10_usd, 4), round(forecast.p90_usd, 4)) == (Decimal("8.2032"), Decimal("15.7968"))


def test_the_rest_of_today_follows_the_weekdays_hourly_profile():
    # two weeks of history: working days $6 before noon and $4 after it, weekends $2 before noon
    days = {}
    for i in range(14):
        day = date(2026, 11, 2) + timedelta(days=i)
        days[day] = DayTotal(Decimal(10), Decimal(6)) if day.weekday() < 5 else DayTotal(Decimal(2), Decimal(2))
    days[MONDAY.date()] = DayTotal(Decimal(10), Decimal(9))  # today: $9 before noon, $1 in the noon hour so far
    noon = MONDAY + timedelta(hours=12)
    today = period_of("day", noon)
    forecast = forecast_period(days, today.start, today.end, noon, date(2026, 11, 2))
    # a Monday costs 10, 40 % of it after noon: 4, less the $1 the noon hour has spent: 3 more; the run rate
    # would say 10 x 24 / 12 = 20
    assert forecast.p50_usd == Decimal(13)


def test_with_less_than_two_weeks_of_history_the_projection_is_the_run_rate():
    days = weekdays_and_weekends(date(2026, 11, 3), date(2026, 11, 15), "10", "2")
    forecast = forecast_period(days, NOVEMBER.start, NOVEMBER.end, MONDAY, date(2026, 11, 3))
    # 13 days of history; spent 3-15 November: Tuesday to Friday 40, a weekend 4, a working week 50, a weekend 4
    # = 98; after 15 of 30 days: 98 x 2 = 196
    assert (forecast.method, forecast.p10_usd, forecast.p50_usd, forecast.p90_usd) == (
        "run_rate", Decimal(196), Decimal(196), Decimal(196))


def test_a_closed_period_is_projected_at_its_spend():
    days = weekdays_and_weekends(HISTORY_START, date(2026, 11, 30), "10", "2")
    october = period_of("month", datetime(2026, 10, 1, tzinfo=UTC))
    forecast = forecast_period(days, october.start, october.end, MONDAY, HISTORY_START)
    # 19-31 October: ten working days (Monday 19th .. Friday 30th) 100, a weekend 4, Saturday 31st 2
    assert (forecast.method, forecast.p50_usd) == ("closed", Decimal(106))


@pytest.mark.parametrize("month", GENERATED_MONTHS, ids=str)
def test_on_each_generated_weekday_patterned_month_the_forecast_is_closer_than_the_run_rate(month):
    series = generated_cases()["weekday pattern, 10 % noise"]
    result = score(backtest_month(series, month))
    assert result.forecast_mape < result.run_rate_mape


@pytest.mark.parametrize("name", ["weekday pattern, 20 % noise", "weekday pattern, +3 %/week growth"])
def test_over_noisier_and_growing_generated_months_the_forecast_is_closer_than_the_run_rate(name):
    result = score(p for month in GENERATED_MONTHS for p in backtest_month(generated_cases()[name], month))
    assert result.forecast_mape < result.run_rate_mape
    assert result.early_forecast_mape < result.early_run_rate_mape


def test_on_the_demo_organisation_the_forecast_is_closer_than_the_run_rate(tmp_path: Path):
    series = demo_series(tmp_path)
    overall = {name: score(p for month in DEMO_MONTHS for p in backtest_month(s, month)) for name, s in series.items()}
    assert {"organisation", "team search", "team support", "team research", "team data"} <= set(overall)
    assert [name for name, r in overall.items() if r.forecast_mape >= r.run_rate_mape] == []
    monthly = [score(backtest_month(series["organisation"], month)) for month in DEMO_MONTHS]
    assert [r.forecast_mape < r.run_rate_mape for r in monthly] == [True, True, True]



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    return emptied(module_ch)


def four_weeks_of_allocated_spend(ch: ClickHouseResource) -> None:
    """Working days $10 and weekends $2 at 09:00, 19 October .. 15 November, as the allocation writes it."""
    rows = [[day.replace(day=1), datetime(day.year, day.month, day.day, 9, tzinfo=UTC), "wrkspc_1", "apikey_1",
             "claude-sonnet-4-5", "standard", "0-200k", "output", "search", "query-rewrite", "prod", "CC-100", "events",
             1, total.spend_usd, total.spend_usd, 0, datetime.now(UTC)]
            for day, total in weekdays_and_weekends(HISTORY_START, date(2026, 11, 15), "10", "2").items()]
    with ch.connect() as client:
        client.insert("allocation_hourly", rows, column_names=ALLOCATION_COLUMNS)
    refresh_spend_rollup(ch, MONDAY)


def test_budget_status_projects_with_the_forecast_read_from_the_rollup(ch):
    four_weeks_of_allocated_spend(ch)
    monthly = Budget(id="m", scope="team", target="search", period="month", amount_usd=220, slack_channel="#c")
    [status] = budget_statuses(ch, [monthly], utc("2026-11-16 00:00"))
    # as in the first test: 110 spent, 118 to come; the run rate would have said 110 x 30 / 15 = 220
    assert (status.spend_usd, status.projected_usd, status.forecast.method) == (110, 228, "seasonal")
    assert status.projected_to_exceed  # 228 of 220: over, on the forecast (the run rate said exactly 100 %)


def test_the_budget_status_table_has_the_interval_and_the_method(ch, tmp_path, monkeypatch):
    four_weeks_of_allocated_spend(ch)
    config = tmp_path / "ledger.yaml"
    config.write_text("budgets:\n  - {id: m, scope: team, target: search, period: month, amount_usd: 300, "
                      "slack_channel: '#c'}\n")
    result = materialize([budget_status], resources={
        "clickhouse": ch, "clock": Clock(frozen_at="2026-11-16T00:00:00+00:00"),
        "ledger_config": LedgerConfig(path=str(config))})
    assert result.success
    rows = ch.query_rows("SELECT projected_p10_usd, projected_usd, projected_p90_usd, forecast_method "
                         "FROM budget_status")
    assert rows == [(Decimal(228), Decimal(228), Decimal(228), "seasonal")]
    table = result.asset_materializations_for_node("budget_status")[0].metadata["status"].value
    assert "| projected $228.00 (76.0 %, p10-p90 $228.00-$228.00) |" in table
