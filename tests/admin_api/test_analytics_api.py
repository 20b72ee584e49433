"""The optional Usage and Cost Analytics API (beta) source against the simulator over real HTTP: the endpoint's
contract, pagination, retries, nulls, overlapping rows never summed, the top-groups cap, the watermark, and off.

Hand figures: Haiku 4.5 lists 1 USD per million input tokens, Sonnet 4.5 15 USD per million output tokens; the
simulator's discount is 10 % (amount = 0.9 x list_amount).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from admin_api_traffic import HOUR, SONNET, Traffic, simulator_for
from dagster import DagsterInstance, EnvVar, materialize

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.analytics import ANALYTICS_COST_PATH, analytics_cost_rows, fetch_analytics_cost
from pipelines.admin_api.analytics_assets import OFF, analytics_cost_daily
from pipelines.admin_api.client import AdminApiClient, AdminApiError
from pipelines.ledger_config import LedgerConfig

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}
ADMIN_KEY = EnvVar("ANTHROPIC_ADMIN_API_KEY")
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)  # the simulator's watermark: now - 6 h = 2026-11-20T06:00:00Z
DAY = datetime(2026, 10, 5, tzinfo=UTC)


@pytest.fixture
def traffic() -> Traffic:
    """2026-10-05: wrkspc_a 1 M Haiku input (1.00 USD list), wrkspc_b 1 M Sonnet output (15.00), wrkspc_c 1 M Haiku
    input on the 6th (1.00)."""
    traffic = Traffic()
    traffic.add(HOUR, workspace="wrkspc_a", input=1_000_000)
    traffic.add(HOUR, workspace="wrkspc_b", model=SONNET, output=1_000_000)
    traffic.add(HOUR + timedelta(days=1), workspace="wrkspc_c", input=1_000_000)
    return traffic


@pytest.fixture
def simulator(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(traffic, monkeypatch, now=lambda: NOW) as sim:
        yield sim


def get(simulator: AdminApiSimulator, path: str = ANALYTICS_COST_PATH, **params: object) -> httpx.Response:
    return httpx.get(simulator.base_url + path, params=params,  # type: ignore[arg-type]
                     headers={"x-api-key": simulator.api_key, "anthropic-version": "2023-06-01"})


def stored(ch) -> list[tuple]:
    return ch.query_rows("SELECT date, row_type, workspace_id, model, groups, list_amount_usd, net_amount_usd "
                         "FROM analytics_cost_daily FINAL ORDER BY date, row_type, workspace_id")


def test_the_simulator_rejects_a_bad_bucket_width_with_an_error_body(simulator):
    response = get(simulator, starting_at="2026-10-05T00:00:00Z", bucket_width="1h")
    assert response.status_code == 400
    assert response.json() == {"type": "error", "error": {
        "type": "invalid_request_error", "message": "bucket_width: the analytics reports support only '1d', got '1h'"}}


def test_the_simulator_rejects_an_unknown_group_by(simulator):
    response = get(simulator, starting_at="2026-10-05T00:00:00Z", **{"group_by[]": "team"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "group_by: 'team' is not one of workspace_id, model"


def test_a_bucket_holds_a_total_row_that_overlaps_its_group_rows(simulator):
    body = get(simulator, starting_at="2026-10-05T00:00:00Z", ending_at="2026-10-06T00:00:00Z",
               **{"group_by[]": "workspace_id"}).json()
    assert body["data_refreshed_at"] == "2026-11-20T06:00:00Z"
    assert [(r["row_type"], r["workspace_id"], r["list_amount"], r["amount"]) for r in body["data"][0]["results"]] == [
        ("total", None, "1600", "1440"), ("group", "wrkspc_b", "1500", "1350"), ("group", "wrkspc_a", "100", "90")]


def test_the_usage_report_has_the_same_overlapping_rows_with_tokens(simulator):
    body = get(simulator, "/v1/organizations/analytics/usage_report", starting_at="2026-10-05T00:00:00Z",
               ending_at="2026-10-06T00:00:00Z", **{"group_by[]": "workspace_id"}).json()
    assert [(r["row_type"], r["workspace_id"], r["input_tokens"], r["output_tokens"])
            for r in body["data"][0]["results"]] == [
        ("total", None, 1_000_000, 1_000_000), ("group", "wrkspc_a", 1_000_000, 0), ("group", "wrkspc_b", 0, 1_000_000)]


def test_the_collector_stores_every_row_and_counts_only_the_total_rows(simulator, ch):
    fetch = fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, DAY, DAY + timedelta(days=2),
                                 ("workspace_id",))
    assert (fetch.list_usd, fetch.net_usd) == (Decimal("17.00"), Decimal("15.30"))  # 16 + 1, not 34
    assert stored(ch) == [
        (date(2026, 10, 5), "group", "wrkspc_a", "", 0, Decimal("1"), Decimal("0.9")),
        (date(2026, 10, 5), "group", "wrkspc_b", "", 0, Decimal("15"), Decimal("13.5")),
        (date(2026, 10, 5), "total", "", "", 0, Decimal("16"), Decimal("14.4")),
        (date(2026, 10, 6), "group", "wrkspc_c", "", 0, Decimal("1"), Decimal("0.9")),
        (date(2026, 10, 6), "total", "", "", 0, Decimal("1"), Decimal("0.9")),
    ]


def test_a_bucket_holds_the_top_100_groups_and_the_rest_as_one_other_row(monkeypatch, ch):
    traffic = Traffic()  # 101 workspaces; wrkspc_000 lists 0.01 USD (10k Haiku input), wrkspc_100 1.01 USD
    for i in range(101):
        traffic.add(HOUR, workspace=f"wrkspc_{i:03}", input=(i + 1) * 10_000)
    with simulator_for(traffic, monkeypatch, now=lambda: NOW):
        fetch = fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, DAY, DAY + timedelta(days=1),
                                     ("workspace_id",))
    rows = stored(ch)
    assert sum(1 for r in rows if r[1] == "group") == 100
    assert [r for r in rows if r[1] != "group"] == [
        (date(2026, 10, 5), "other", "", "", 1, Decimal("0.01"), Decimal("0.009")),
        (date(2026, 10, 5), "total", "", "", 0, Decimal("51.51"), Decimal("46.359")),  # 1 + 2 + ... + 101 cents
    ]
    assert "wrkspc_000" not in {r[2] for r in rows}
    assert (fetch.list_usd, fetch.capped_days, fetch.inconsistent_days) == (Decimal("51.51"), 1, [])


def test_a_range_longer_than_a_page_is_followed_page_by_page(simulator, ch):
    start = datetime(2026, 9, 1, tzinfo=UTC)
    fetch = fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, start, start + timedelta(days=40),
                                 ("workspace_id",))
    assert (fetch.stats.pages, fetch.days, fetch.list_usd) == (2, 2, Decimal("17"))  # 31 + 9 days; 2 with traffic
    assert [r.query.get("page") is not None for r in simulator.state.requests_to(ANALYTICS_COST_PATH)] == [False, True]


def test_429_5xx_and_a_torn_body_are_retried_and_change_no_figure(simulator, ch):
    simulator.inject("429", "503", "malformed")
    fetch = fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, DAY, DAY + timedelta(days=2),
                                 ("workspace_id",))
    assert (fetch.stats.requests, fetch.stats.retries) == (4, 3)
    assert set(fetch.stats.retry_reasons) == {"HTTP 429", "HTTP 503", "malformed JSON body"}
    assert (fetch.list_usd, fetch.net_usd) == (Decimal("17.00"), Decimal("15.30"))


def test_the_watermark_of_each_fetch_is_recorded(simulator, ch):
    fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, DAY, DAY + timedelta(days=2), ("model",))
    assert ch.query_rows("SELECT start_date, end_date, data_refreshed_at, rows FROM analytics_fetches") == [
        (date(2026, 10, 5), date(2026, 10, 7), datetime(2026, 11, 20, 6), 5)]
    watermarks = ch.query_rows("SELECT DISTINCT data_refreshed_at FROM analytics_cost_daily")
    assert watermarks == [(datetime(2026, 11, 20, 6),)]


def test_an_ungrouped_dimension_is_null_and_stored_as_empty(simulator, ch):
    fetch_analytics_cost(AdminApiClient(api_key=ADMIN_KEY, **FAST), ch, DAY, DAY + timedelta(days=1), ("model",))
    assert [(r[1], r[2], r[3]) for r in stored(ch)] == [
        ("group", "", "claude-haiku-4-5-20251001"), ("group", "", SONNET), ("total", "", "")]


def test_a_null_amount_is_an_error_naming_the_day_row_and_field():
    page = {"data_refreshed_at": "2026-11-20T06:00:00Z", "has_more": False, "data": [
        {"starting_at": "2026-10-05T00:00:00Z", "results": [
            {"row_type": "total", "amount": "90", "list_amount": None, "currency": "USD"}]}]}
    with pytest.raises(AdminApiError, match=r"2026-10-05 results\[0\] \(total\): list_amount is null"):
        analytics_cost_rows([page], DAY, DAY + timedelta(days=1))


def test_a_page_without_its_watermark_is_an_error():
    with pytest.raises(AdminApiError, match="data_refreshed_at is missing or null"):
        analytics_cost_rows([{"data": [], "has_more": False, "data_refreshed_at": None}], DAY, DAY + timedelta(days=1))


def test_off_the_asset_fetches_nothing_and_says_why(simulator, ch, tmp_path):
    result = materialize([analytics_cost_daily], partition_key="2026-10-05", instance=DagsterInstance.ephemeral(),
                         resources={"clickhouse": ch, "admin_api": AdminApiClient(api_key=ADMIN_KEY, **FAST),
                                    "ledger_config": LedgerConfig(path=str(tmp_path / "no-config.yaml"))})
    [materialization] = result.asset_materializations_for_node("analytics_cost_daily")
    assert materialization.metadata["reason"].value == OFF
    assert simulator.state.requests_to(ANALYTICS_COST_PATH) == []


def test_on_the_asset_fetches_its_day(simulator, ch, tmp_path):
    config = tmp_path / "ledger.yaml"
    config.write_text("analytics_api:\n  enabled: true\n")
    result = materialize([analytics_cost_daily], partition_key="2026-10-05", instance=DagsterInstance.ephemeral(),
                         resources={"clickhouse": ch, "admin_api": AdminApiClient(api_key=ADMIN_KEY, **FAST),
                                    "ledger_config": LedgerConfig(path=str(config))})
    [materialization] = result.asset_materializations_for_node("analytics_cost_daily")
    assert (materialization.metadata["list_cost_usd"].value, materialization.metadata["net_cost_usd"].value,
            materialization.metadata["discount_usd"].value) == ("16", "14.4", "1.6")
    assert materialization.metadata["data_refreshed_at"].value == "2026-11-20T06:00:00+00:00"
