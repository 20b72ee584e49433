"""The optional Usage and Cost Analytics API (beta) source against the simulator over real HTTP: the endpoint's
contract as the anthropic SDK states it (beta header, 31-day ranges, one total per ungrouped bucket, the top groups
without a remainder row), the two queries of a fetch, retries and nulls (off, the source is not in the code
location: tests/project/test_code_location.py).

Hand figures: Haiku 4.5 lists 1 USD per million input tokens, Sonnet 4.5 15 USD per million output tokens; the
simulator's discount is 10 % (amount = 0.9 x list_amount). Amounts are in cents.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from admin_api_traffic import HAIKU, HOUR, SONNET, Traffic, simulator_for
from dagster import DagsterInstance, EnvVar, materialize

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.analytics import analytics_cost_rows, fetch_analytics_cost, query_windows
from pipelines.admin_api.analytics_assets import analytics_cost_daily
from pipelines.admin_api.client import ANALYTICS_BETA, ANALYTICS_COST_PATH, AdminApiClient, AdminApiError
from pipelines.ledger_config import LedgerConfig

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}
ADMIN_KEY = EnvVar("ANTHROPIC_ADMIN_API_KEY")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DAY = datetime(2026, 10, 5, tzinfo=UTC)
TWO_DAYS = (DAY, DAY + timedelta(days=2))


@pytest.fixture
def traffic() -> Traffic:
    """2026-10-05: wrkspc_a 1 M Haiku input (100 cents list), wrkspc_b 1 M Sonnet output (1500); 2026-10-06:
    wrkspc_c 1 M Haiku input (100)."""
    traffic = Traffic()
    traffic.add(HOUR, workspace="wrkspc_a", input=1_000_000)
    traffic.add(HOUR, workspace="wrkspc_b", model=SONNET, output=1_000_000)
    traffic.add(HOUR + timedelta(days=1), workspace="wrkspc_c", input=1_000_000)
    return traffic


@pytest.fixture
def simulator(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(traffic, monkeypatch, now=lambda: NOW) as sim:
        yield sim


def get(simulator: AdminApiSimulator, beta: str | None = ANALYTICS_BETA, **params: object) -> httpx.Response:
    headers = {"x-api-key": simulator.api_key, "anthropic-version": "2023-06-01"}
    return httpx.get(simulator.base_url + ANALYTICS_COST_PATH, params=params,  # type: ignore[arg-type]
                     headers={**headers, "anthropic-beta": beta} if beta else headers)


def fetch(ch, group_by: tuple[str, ...] = ("model",), window: tuple[datetime, datetime] = TWO_DAYS):
    return fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, *window, group_by)


def stored(ch) -> list[tuple]:
    return ch.query_rows("SELECT date, row_type, product, model, list_amount_usd, net_amount_usd "
                         "FROM analytics_cost_daily FINAL ORDER BY date, row_type, model")


def error(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["message"]


# ---------------------------------------------------------------- the simulator's contract


def test_the_simulator_requires_the_analytics_beta_header(simulator):
    assert error(get(simulator, beta=None, starting_at="2026-10-05T00:00:00Z")) == (
        400, "anthropic-beta: the Analytics API requires the analytics-usage-cost-2026-08-24 beta header")


def test_the_simulator_rejects_a_dimension_the_api_does_not_document(simulator):
    status, message = error(get(simulator, starting_at="2026-10-05T00:00:00Z", **{"group_by[]": "workspace_id"}))
    assert (status, message.split(" is not one of ")[0]) == (400, "group_by: 'workspace_id'")


def test_the_simulator_rejects_a_range_of_more_than_31_days(simulator):
    assert error(get(simulator, starting_at="2026-09-01T00:00:00Z", ending_at="2026-10-03T00:00:00Z")) == (
        400, "ending_at: the range may span at most 31 days")


def test_an_ungrouped_bucket_holds_one_combined_row_and_an_empty_day_none(simulator):
    body = get(simulator, starting_at="2026-10-04T00:00:00Z", ending_at="2026-10-06T00:00:00Z").json()
    assert body["next_page"] is None
    assert [bucket["results"] for bucket in body["data"]] == [[], [
        {"amount": "1440", "list_amount": "1600", "currency": "USD", "requests": 2, "product": None, "model": None}]]


def test_a_grouped_bucket_holds_its_groups_by_amount_and_no_total_row(simulator):
    body = get(simulator, starting_at="2026-10-05T00:00:00Z", ending_at="2026-10-06T00:00:00Z",
               **{"group_by[]": "model"}).json()
    assert [(r["model"], r["list_amount"], r["amount"]) for r in body["data"][0]["results"]] == [
        (SONNET, "1500", "1350"), (HAIKU, "100", "90")]


def test_claude_code_workspace_usage_is_the_claude_code_product(traffic, monkeypatch):
    traffic.add(HOUR, workspace="wrkspc_01ClaudeCode", input=2_000_000)  # 200 cents
    with simulator_for(traffic, monkeypatch, now=lambda: NOW) as simulator:
        body = get(simulator, starting_at="2026-10-05T00:00:00Z", ending_at="2026-10-06T00:00:00Z",
                   **{"group_by[]": "product"}).json()
    assert [(r["product"], r["list_amount"]) for r in body["data"][0]["results"]] == [
        (None, "1600"), ("claude_code", "200")]


# ---------------------------------------------------------------- the collector


def test_a_fetch_stores_each_day_s_total_and_its_groups_and_counts_only_the_totals(simulator, ch):
    result = fetch(ch)
    assert (result.list_usd, result.net_usd) == (Decimal("17.00"), Decimal("15.30"))  # 16 + 1, not 34
    assert stored(ch) == [
        (date(2026, 10, 5), "group", "", HAIKU, Decimal("1"), Decimal("0.9")),
        (date(2026, 10, 5), "group", "", SONNET, Decimal("15"), Decimal("13.5")),
        (date(2026, 10, 5), "total", "", "", Decimal("16"), Decimal("14.4")),
        (date(2026, 10, 6), "group", "", HAIKU, Decimal("1"), Decimal("0.9")),
        (date(2026, 10, 6), "total", "", "", Decimal("1"), Decimal("0.9")),
    ]
    assert result.short_days == []


def test_every_request_carries_the_beta_header_and_asks_once_ungrouped_and_once_grouped(simulator, ch):
    fetch(ch, ("product", "model"))
    requests = simulator.state.requests_to(ANALYTICS_COST_PATH)
    assert [r.headers.get("anthropic-beta") for r in requests] == [ANALYTICS_BETA] * 2
    assert [r.query.get("group_by[]") for r in requests] == [None, ["product", "model"]]


def test_groups_beyond_the_api_s_cap_leave_the_day_s_total_whole_and_the_day_flagged(traffic, monkeypatch, ch):
    with simulator_for(traffic, monkeypatch, now=lambda: NOW, analytics_top_groups=1):
        result = fetch(ch, window=(DAY, DAY + timedelta(days=1)))
    assert [(r[1], r[3], r[4]) for r in stored(ch)] == [("group", SONNET, Decimal(15)), ("total", "", Decimal(16))]
    assert (result.list_usd, result.short_days) == (Decimal("16.00"), [date(2026, 10, 5)])


def test_a_range_longer_than_31_days_is_asked_in_windows_of_at_most_31_days(simulator, ch):
    start = datetime(2026, 9, 1, tzinfo=UTC)
    assert query_windows(start, start + timedelta(days=40)) == [
        (start, datetime(2026, 10, 2, tzinfo=UTC)), (datetime(2026, 10, 2, tzinfo=UTC), start + timedelta(days=40))]
    result = fetch(ch, (), (start, start + timedelta(days=40)))
    assert (result.stats.requests, result.days, result.list_usd) == (2, 2, Decimal("17"))  # 2 of the days had traffic


def test_429_5xx_and_a_torn_body_are_retried_and_change_no_figure(simulator, ch):
    simulator.inject("429", "503", "malformed")
    result = fetch(ch)
    assert (result.stats.requests, result.stats.retries) == (5, 3)  # two queries, three retries
    assert set(result.stats.retry_reasons) == {"HTTP 429", "HTTP 503", "malformed JSON body"}
    assert (result.list_usd, result.net_usd) == (Decimal("17.00"), Decimal("15.30"))


def test_each_fetch_is_recorded_with_its_days_rows_and_requests(simulator, ch):
    fetch(ch)
    assert ch.query_rows("SELECT start_date, end_date, rows, pages, requests, retries FROM analytics_fetches") == [
        (date(2026, 10, 5), date(2026, 10, 7), 5, 2, 2, 0)]


def test_a_null_amount_is_an_error_naming_the_day_row_and_field():
    bucket = {"starting_at": "2026-10-05T00:00:00Z", "results": [
        {"amount": "90", "list_amount": None, "currency": "USD"}]}
    with pytest.raises(AdminApiError, match=r"2026-10-05 results\[0\] \(total\): list_amount is null"):
        analytics_cost_rows([bucket], DAY, DAY + timedelta(days=1), "total")


def test_two_rows_in_an_ungrouped_bucket_are_an_error_never_a_sum():
    row = {"amount": "90", "list_amount": "100", "currency": "USD"}
    with pytest.raises(AdminApiError, match="2026-10-05 has 2 rows without group_by"):
        analytics_cost_rows([{"starting_at": "2026-10-05T00:00:00Z", "results": [row, row]}], DAY,
                            DAY + timedelta(days=1), "total")


def test_on_the_asset_fetches_its_day(simulator, ch, tmp_path):
    config = tmp_path / "ledger.yaml"
    config.write_text("analytics_api:\n  enabled: true\n")
    result = materialize([analytics_cost_daily], partition_key="2026-10-05", instance=DagsterInstance.ephemeral(),
                         resources={"clickhouse": ch, "admin_api": AdminApiClient(api_key=ADMIN_KEY, **FAST),
                                    "ledger_config": LedgerConfig(path=str(config))})
    [materialization] = result.asset_materializations_for_node("analytics_cost_daily")
    assert (materialization.metadata["list_cost_usd"].value, materialization.metadata["net_cost_usd"].value,
            materialization.metadata["discount_usd"].value) == ("16", "14.4", "1.6")
    assert [c.passed for c in result.get_asset_check_evaluations()] == [True]
