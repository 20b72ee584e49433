"""Crash safety of the Admin API collectors: a real process that collects over and over from the simulator is
SIGKILLed at random moments, and after each kill the tables read whole, each figure once (no loss, no double count).

Hand figures: 1M Haiku 4.5 input at $1 / MTok and 200K output at $5 / MTok on 2026-10-05 are $1.00 + $1.00; the
analytics simulator discounts 10 % (net $1.80).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from admin_api_traffic import HAIKU, HOUR, Traffic, simulator_for
from crash import killed_repeatedly
from dagster import DagsterInstance, materialize

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.assets import admin_workspaces
from pipelines.admin_api.client import AdminApiClient

START, END = "2026-10-05T00:00:00+00:00", "2026-10-06T00:00:00+00:00"
# Each script repeats one collector's whole write path in one session, on the test's database (from_env).
PREAMBLE = f"""
import sys
from datetime import datetime
from pipelines.admin_api.client import AdminApiClient
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
start, end = datetime.fromisoformat("{START}"), datetime.fromisoformat("{END}")
"""
COLLECT_REPORTS = PREAMBLE + """
from pipelines.admin_api.collect import collect_cost, collect_usage
with ch.connect():
    while True:
        collect_usage(AdminApiClient.from_env(), ch, start, end)
        collect_cost(AdminApiClient.from_env(), ch, start, end)
        print("written", flush=True)
"""
COLLECT_RATE_LIMITS = PREAMBLE + """
from pipelines.admin_api.rate_limits import collect_rate_limits
with ch.connect():
    while True:
        collect_rate_limits(AdminApiClient.from_env(), ch)
        print("written", flush=True)
"""
COLLECT_ANALYTICS = PREAMBLE + """
from pipelines.admin_api.analytics import fetch_analytics_cost
with ch.connect():
    while True:
        fetch_analytics_cost(AdminApiClient.from_env(), ch, start, end, ("model",))
        print("written", flush=True)
"""


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    traffic = Traffic()
    traffic.add(HOUR, input=600_000, output=200_000)
    traffic.add(HOUR.replace(hour=15), input=400_000)
    with simulator_for(traffic, monkeypatch, now=lambda: datetime(2026, 11, 20, 12, tzinfo=UTC)) as sim:
        yield sim


def test_a_usage_and_cost_collection_killed_at_any_moment_leaves_each_token_and_cent_once(simulator, ch):
    def stored() -> tuple:
        return (*ch.query_rows("SELECT count(), sum(uncached_input_tokens), sum(output_tokens) "
                               "FROM admin_usage_hourly FINAL")[0],
                *ch.query_rows("SELECT sum(amount_usd) FROM admin_cost_daily FINAL")[0])

    # two hours of usage; the day's cost report is $2.00 however its rows are split
    assert killed_repeatedly(COLLECT_REPORTS, [], stored, ch=ch, seed=3) == [
        (2, 1_000_000, 200_000, Decimal("2"))] * 5


def test_a_rate_limit_collection_killed_at_any_moment_leaves_every_limit_once(simulator, ch):
    resources = {"clickhouse": ch, "admin_api": AdminApiClient.from_env()}
    assert materialize([admin_workspaces], resources=resources, instance=DagsterInstance.ephemeral()).success

    def stored() -> tuple:
        return (ch.query_rows("SELECT count() FROM admin_rate_limits FINAL")[0][0],
                ch.query_rows("SELECT value FROM admin_rate_limits FINAL WHERE scope = 'wrkspc_01SearchProd' "
                              "AND group_id = 'rlg_01HaikuFour' AND limit_type = 'input_tokens_per_minute'")[0][0])

    # the demo organisation's 4 model groups x 3 limits, for the organisation and its 4 workspaces; Search's
    # Haiku override of 30,000 input tokens a minute (test_rate_limits.py)
    assert killed_repeatedly(COLLECT_RATE_LIMITS, [], stored, ch=ch, seed=5) == [(60, 30_000)] * 5


def test_an_analytics_fetch_killed_at_any_moment_leaves_the_day_s_rows_once(simulator, ch):
    def stored() -> list[tuple]:
        return ch.query_rows("SELECT date, row_type, model, list_amount_usd, net_amount_usd "
                             "FROM analytics_cost_daily FINAL ORDER BY row_type")

    day = date(2026, 10, 5)
    assert killed_repeatedly(COLLECT_ANALYTICS, [], stored, ch=ch, seed=9) == [
        [(day, "group", HAIKU, Decimal(2), Decimal("1.8")),
         (day, "total", "", Decimal(2), Decimal("1.8"))]] * 5
