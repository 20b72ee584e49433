"""Today's bill, end to end: the Admin API simulator bills calls the way Anthropic's pricing page says, the
collector fetches both reports over real HTTP through Dagster, and the month's chargeback pays every line
its real price. Every expected figure is computed by hand in the test (https://platform.claude.com/docs/en/
about-claude/pricing, as read in 2026-10, and the simulator's unlisted claude-fable-5-2 at $8 / $40)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from admin_api_traffic import HAIKU, Traffic, simulator_for
from allocation_data import CONFIG
from dagster import DagsterInstance, build_sensor_context, materialize

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.assets import admin_cost_daily, admin_usage_hourly, range_tags
from pipelines.admin_api.client import AdminApiClient
from pipelines.alerts.clock import Clock
from pipelines.allocation.allocate import allocate_month, restated_months
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.checks import sums_to_authority, unknown_models
from pipelines.allocation.config import AttributionConfig
from pipelines.allocation.definitions import restatement_sensor
from pipelines.allocation.export import export_chargeback
from pipelines.allocation.focus import export_focus
from pipelines.ledger_config import LedgerConfig
from pipelines.pricing.assets import load_prices, rebuild_unit_prices
from pipelines.storage.clickhouse import ClickHouseResource

OCTOBER = date(2026, 10, 1)
DAY = datetime(2026, 10, 12, 10, tzinfo=UTC)  # after Haiku 5.5's release (2026-10-07)
M = 1_000_000
ATTRIBUTION = AttributionConfig.model_validate({**CONFIG, "owners": {"workspaces": {"wrkspc_search": "search"}}})


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def simulator(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(traffic, monkeypatch) as sim:
        yield sim


@pytest.fixture
def ch(ch: ClickHouseResource, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ClickHouseResource:
    """The test's database with the bundled list prices, and no LEDGER_CONFIG."""
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    load_prices(ch)
    return ch


def collect(ch: ClickHouseResource, first: date = OCTOBER, last: date = date(2026, 10, 31),
            cost_last: date | None = None) -> None:
    """The usage report of [first, last] and the cost report of [first, cost_last or last] through Dagster, then the
    price lookup (with what the cost report taught)."""
    api = AdminApiClient.from_env(backoff_base_s=0.01, backoff_max_s=0.05)
    resources = {"clickhouse": ch, "admin_api": api}
    hours = range_tags(f"{first:%Y-%m-%d}-00:00", f"{last:%Y-%m-%d}-23:00")
    days = range_tags(str(first), str(cost_last or last))
    for asset, tags in ((admin_usage_hourly, hours), (admin_cost_daily, days)):
        assert materialize([asset], resources=resources, tags=tags, instance=DagsterInstance.ephemeral()).success
    rebuild_unit_prices(ch)


def charge(ch: ClickHouseResource, exports: Path | None = None):
    allocate_month(ch, OCTOBER, ATTRIBUTION)
    lines = chargeback_lines_for(showback_lines(ch, OCTOBER), ATTRIBUTION, month_closed=True)
    write_chargeback(ch, OCTOBER, lines, ATTRIBUTION.shared_cost_policy)
    return export_chargeback(ch, OCTOBER, exports, "none") if exports else lines


def line_costs(ch: ClickHouseResource) -> dict[tuple[str, str], tuple[Decimal, Decimal, str]]:
    """(model, cost type) -> (list cost, allocated cost to the cent, priced from) of the month's chargeback."""
    return {(c.line.model, c.line.cost_type): (c.line.list_cost_usd, c.allocated_cost_usd, c.line.priced_from)
            for c in charge(ch)}


def report_total(ch: ClickHouseResource) -> Decimal:
    return ch.query_rows("SELECT sum(amount_usd) FROM admin_cost_daily FINAL")[0][0]


def test_fast_mode_is_billed_at_its_multiple_and_charged_back_at_that_price(simulator, traffic, ch):
    # Opus 4.8 fast mode is 2x: 1M input at $10 = $10.00 and 100K output at $50 / MTok = $5.00.
    traffic.add(DAY, model="claude-opus-4-8", input=M, output=100_000, speed="fast", inference_geo="global")
    collect(ch)
    assert line_costs(ch) == {("claude-opus-4-8", "tokens"): (Decimal("15.00"), Decimal("15.00"), "cost_report")}
    assert ch.query_rows("SELECT DISTINCT speed FROM allocation_hourly") == [("fast",)]


def test_us_inference_costs_a_tenth_more_on_every_token_type(simulator, traffic, ch):
    # Sonnet 4.6 in the US: 1M input at $3.30 and 200K output at $16.50 / MTok = $3.30 + $3.30.
    traffic.add(DAY, model="claude-sonnet-4-6", input=M, output=200_000, inference_geo="us")
    collect(ch)
    assert line_costs(ch) == {("claude-sonnet-4-6", "tokens"): (Decimal("6.60"), Decimal("6.60"), "cost_report")}


def test_the_batch_tier_is_half_price(simulator, traffic, ch):
    # Sonnet 4.6 batch output: 1M at $15 x 0.5 = $7.50.
    traffic.add(DAY, model="claude-sonnet-4-6", tier="batch", output=M, inference_geo="global")
    collect(ch)
    assert line_costs(ch) == {("claude-sonnet-4-6", "tokens"): (Decimal("7.50"), Decimal("7.50"), "cost_report")}


def test_a_haiku_5_5_request_above_100k_prompt_tokens_pays_the_higher_band_for_all_its_tokens(simulator, traffic, ch):
    # Big: 150K input + 10K output above 100K: 150K x $0.50 + 10K x $2.50 / MTok = $0.075 + $0.025 = $0.10.
    # Small: 10K input + 1K output: 10K x $0.10 + 1K x $0.50 / MTok = $0.001 + $0.0005 = $0.0015.
    big = traffic.add(DAY, model="claude-haiku-5-5", input=150_000, output=10_000, inference_geo="global")
    small = traffic.add(DAY + timedelta(minutes=1), model="claude-haiku-5-5", input=10_000, output=1_000,
                        inference_geo="global")
    collect(ch)
    assert report_total(ch) == Decimal("0.1015")
    # Events say which request was whose: each team pays its own request's price, to the 1e-12 USD.
    events = [("big", "search", "long-docs", big), ("small", "data", "snippets", small)]
    with ch.connect() as client:
        client.insert("usage_events", [[event_id, call.ts, team, feature, "prod", "wrkspc_search", "apikey_search",
                                        call.feature.model, "standard", "global", call.input_tokens,
                                        call.output_tokens, datetime.now(UTC)]
                                       for event_id, team, feature, call in events],
                      column_names=["event_id", "ts", "team", "feature", "env", "workspace_id", "api_key_id", "model",
                                    "service_tier", "inference_geo", "input_tokens", "output_tokens", "ingested_at"])
    allocate_month(ch, OCTOBER, ATTRIBUTION)
    by_team = dict(ch.query_rows("SELECT team, sum(allocated_cost_usd) FROM allocation_hourly GROUP BY team"))
    assert by_team == {"search": Decimal("0.1"), "data": Decimal("0.0015")}


def test_a_model_missing_from_the_price_list_is_charged_on_its_own_line_at_its_cost_report_price(
        simulator, traffic, ch, tmp_path):
    # claude-fable-5-2 (not in model_prices.csv; the simulator bills $8 / $40): 1M input + 100K output = $12.00.
    # Haiku 4.5 beside it: 100K input at $1 + 400K output at $5 / MTok = $0.10 + $2.00 = $2.10.
    traffic.add(DAY, model="claude-fable-5-2", input=M, output=100_000, inference_geo="global")
    traffic.add(DAY, model=HAIKU, input=100_000, output=400_000, inference_geo="not_available")
    collect(ch)
    export = charge(ch, tmp_path / "exports")
    with open(export.csv_path, newline="") as handle:
        lines = {row["model"]: (row["list_cost_usd"], row["allocated_cost_usd"], row["priced_from"], row["provisional"])
                 for row in csv.DictReader(handle)}
    assert lines == {"claude-fable-5-2": ("0.00", "12.00", "cost_report", "false"),
                     HAIKU: ("2.10", "2.10", "cost_report", "false")}
    assert (export.allocated_cost_usd, export.manifest["final"]) == (Decimal("14.10"), True)
    check = unknown_models(ch, OCTOBER)
    assert check.passed
    assert check.metadata["priced_from_cost_report"].value == ["claude-fable-5-2"]


def test_a_day_without_a_cost_report_yet_prices_a_model_missing_from_the_list_at_the_rate_the_report_taught(
        simulator, traffic, ch):
    # claude-fable-5-2 on Oct 12 (reported: the simulator bills $8 / $40 per MTok) and on Oct 13, whose cost report
    # is not out yet: 500K input + 50K output at the taught $8 / $40 = $4.00 + $2.00 = $6.00, provisional.
    traffic.add(DAY, model="claude-fable-5-2", input=M, output=100_000, inference_geo="global")
    traffic.add(DAY + timedelta(days=1), model="claude-fable-5-2", input=500_000, output=50_000,
                inference_geo="global")
    collect(ch, last=date(2026, 10, 13), cost_last=date(2026, 10, 12))
    allocate_month(ch, OCTOBER, ATTRIBUTION)
    by_day = ch.query_rows("SELECT toDate(hour), priced_from, provisional, sum(allocated_cost_usd), sum(list_cost_usd) "
                           "FROM allocation_hourly GROUP BY ALL ORDER BY ALL")
    assert by_day == [(date(2026, 10, 12), "cost_report", 0, Decimal("12"), Decimal(0)),
                      (date(2026, 10, 13), "learned_rate", 1, Decimal("6"), Decimal(0))]
    result = sums_to_authority(ch, OCTOBER)
    assert (result.passed, result.metadata["provisional"].value) == (True, 1)


def test_web_search_and_code_execution_are_charged_with_their_cost_type(simulator, traffic, ch):
    # 250 web searches at $10 / 1,000 = $2.50, with 1K Haiku 4.5 input ($0.001). A container run of 1,560
    # hours passes the 1,550 free hours of the month by 10 hours: 10 x $0.05 = $0.50, to the workspace owner.
    traffic.add(DAY, input=1_000, web_searches=250, inference_geo="not_available")
    traffic.add(DAY + timedelta(minutes=5), input=1, container_seconds=1_560 * 3600, inference_geo="not_available")
    collect(ch)
    costs = line_costs(ch)
    assert costs[(HAIKU, "web_search")] == (Decimal("2.50"), Decimal("2.50"), "cost_report")
    assert costs[("", "code_execution")] == (Decimal("0.00"), Decimal("0.50"), "cost_report")
    code = [c for c in charge(ch) if c.line.cost_type == "code_execution"]
    assert [(c.line.team, c.cost_center) for c in code] == [("search", "CC-100 Search")]
    assert sum(amount for *_, amount, _p in costs.values()) == report_total(ch).quantize(Decimal("0.01"))


def test_a_restated_day_after_the_export_is_issued_as_a_correction_and_the_original_stays(
        simulator, traffic, ch, tmp_path):
    # Exported: 1M Haiku 4.5 input on Oct 12 = $1.00. Then Anthropic restates Oct 12: 500K more input = $0.50.
    traffic.add(DAY, input=M, inference_geo="not_available")
    collect(ch)
    exports = tmp_path / "exports"
    first = charge(ch, exports)
    original = {path.name: path.read_bytes() for path in exports.iterdir()}
    assert (first.version, first.manifest["final"], first.allocated_cost_usd) == (1, True, Decimal("1.00"))

    late = Traffic().add(DAY + timedelta(minutes=30), input=500_000, inference_geo="not_available")
    simulator.state.restate(late)
    collect(ch)
    assert restated_months(ch, OCTOBER) == [OCTOBER]
    [rerun] = restatement_sensor(build_sensor_context(resources={
        "clickhouse": ch, "clock": Clock(frozen_at="2026-11-02T00:00:00+00:00"),
        "ledger_config": LedgerConfig(path="/absent.yaml")}))
    assert (rerun.partition_key, rerun.tags["reason"]) == ("2026-10-01", "restated")
    correction = charge(ch, exports)

    assert {path.name: path.read_bytes() for path in exports.iterdir() if path.name in original} == original
    assert (correction.version, correction.allocated_cost_usd) == (2, Decimal("1.50"))
    assert correction.csv_path.name == "chargeback-2026-10.v2.csv"
    manifest = json.loads(correction.manifest_path.read_text())
    assert manifest["supersedes"] == "chargeback-2026-10.manifest.json"
    assert manifest["correction"] == {"delta_usd": "0.50", "delta_by_cost_center": {"CC-100 Search": "0.50"},
                                      "delta_by_team": {"CC-100 Search/search": "0.50"}}
    assert correction.corrections_path.read_text() == (
        "cost_center,team,previous_usd,corrected_usd,delta_usd\nCC-100 Search,search,1.00,1.50,0.50\n")
    assert restated_months(ch, OCTOBER) == []
    assert charge(ch, exports).version == 2  # nothing changed since: no third version


def test_every_day_still_adds_up_to_the_cost_report_to_the_cent(simulator, traffic, ch):
    traffic.add(DAY, model="claude-opus-4-8", input=M, speed="fast", inference_geo="global")
    traffic.add(DAY, model="claude-fable-5-2", output=33_333, inference_geo="global")
    traffic.add(DAY + timedelta(days=1), model="claude-sonnet-4-6", input=777_777, inference_geo="us")
    collect(ch)
    allocate_month(ch, OCTOBER, ATTRIBUTION)
    result = sums_to_authority(ch, OCTOBER)
    assert result.passed
    assert result.metadata["with_cost_report"].value == 2


def test_the_focus_export_names_the_price_every_charge_was_billed_at(simulator, traffic, ch, tmp_path):
    # Opus 4.8 fast: 1M input at $10 / MTok. Sonnet 4.6 in the US: 1M input at $3.30. 250 web searches at
    # $10 / 1,000 (with 1K Haiku 4.5 input, $0.001). 10 container-hours beyond the free 1,550 at $0.05. The
    # unlisted claude-fable-5-2: 1M input at the $8 / MTok its cost report bills.
    traffic.add(DAY, model="claude-opus-4-8", input=M, speed="fast", inference_geo="global")
    traffic.add(DAY, model="claude-sonnet-4-6", input=M, inference_geo="us")
    traffic.add(DAY, input=1_000, web_searches=250, inference_geo="not_available")
    traffic.add(DAY + timedelta(minutes=5), input=1, container_seconds=1_560 * 3600, inference_geo="not_available")
    traffic.add(DAY, model="claude-fable-5-2", input=M, inference_geo="global")
    collect(ch)
    exports = tmp_path / "exports"
    version = charge(ch, exports).version
    export = export_focus(ch, OCTOBER, exports, version, ("org", None))
    with open(export.csv_path, newline="") as handle:
        rows = {(r["x_Model"], r["x_CostType"], r["x_TokenType"]): r for r in csv.DictReader(handle)}

    def priced(key):
        r = rows[key]
        return r["PricingQuantity"], r["PricingUnit"], r["ListUnitPrice"], r["BilledCost"], r["RegionId"]

    assert priced(("claude-opus-4-8", "tokens", "input")) == ("1000000", "Tokens", "0.00001", "10", "global")
    assert json.loads(rows[("claude-opus-4-8", "tokens", "input")]["SkuPriceDetails"])["x_Speed"] == "fast"
    assert priced(("claude-sonnet-4-6", "tokens", "input")) == ("1000000", "Tokens", "0.0000033", "3.3", "us")
    assert priced((HAIKU, "web_search", "web_search")) == ("250", "Requests", "0.01", "2.5", "")
    assert priced(("", "code_execution", "")) == ("10", "Hours", "0.05", "0.5", "")
    assert priced(("claude-fable-5-2", "tokens", "input")) == ("1000000", "Tokens", "0.000008", "8", "global")
    assert export.billed_cost_usd == report_total(ch).quantize(Decimal("0.01"))
