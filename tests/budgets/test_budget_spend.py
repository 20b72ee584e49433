"""The spend rollup budgets read, and budget status: priced events, allocated hours, scopes, run rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from budget_helpers import allocate, budget, emptied, utc, write_config
from dagster import AssetMaterialization, DagsterInstance, evaluate_automation_conditions, materialize

from pipelines.alerts.clock import Clock
from pipelines.budgets.assets import budget_status, spend_hourly
from pipelines.budgets.model import Budget
from pipelines.budgets.spend import read_daily_spend, refresh_spend_rollup
from pipelines.budgets.status import budget_statuses
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.pricing.assets import load_prices, rebuild_unit_prices
from pipelines.storage.clickhouse import ClickHouseResource

EVENT_COLUMNS = ["event_id", "ts", "team", "feature", "env", "workspace_id", "api_key_id", "model", "service_tier",
                 "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "web_search_requests", "ingested_at"]
NOW = "2026-11-20 12:00"


@pytest.fixture(scope="module")
def module_ch(databases, tmp_path_factory) -> ClickHouseResource:
    with databases.resource(tmp_path_factory.mktemp("ledger")) as ch:
        load_prices(ch)
        yield ch


@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    """One embedded database per module, emptied before each test."""
    return emptied(module_ch)


@pytest.fixture
def priced(ch):
    """The module's database: prices loaded once, written tables emptied."""
    return ch


def add_event(ch, event_id, ts, model="claude-haiku-4-5-20251001", tier="standard", team="search",
              feature="query-rewrite", env="prod", workspace_id="wrkspc_1", api_key_id="apikey_1",
              input=0, output=0, cache_read=0, write_5m=0, write_1h=0, searches=0, ingested_at=None):
    row = [event_id, utc(ts), team, feature, env, workspace_id, api_key_id, model, tier, input, output, cache_read,
           write_5m, write_1h, searches, ingested_at or datetime.now(UTC)]
    with ch.connect() as client:
        client.insert("usage_events", [row], column_names=EVENT_COLUMNS)


def spend_by_hour(ch):
    return {(hour.strftime("%H:%M"), source): spend for hour, source, spend in ch.query_rows(
        "SELECT hour, source, sum(spend_usd) FROM spend_hourly FINAL GROUP BY hour, source ORDER BY hour")}


def test_events_are_priced_at_list_price_per_token_type_with_the_batch_discount(priced):
    # haiku 4.5: 100k input at $1/M + 10k output at $5/M = 0.10 + 0.05
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000, output=10_000)
    # sonnet 4.5 batch: (10k x 3 + 2k x 15 + 100k x 0.30 + 20k x 3.75 + 10k x 6) / 1M = 0.225, halved = 0.1125,
    # plus 2 web searches at $0.01 (not discounted)
    add_event(priced, "e2", "2026-11-20 09:50", model="claude-sonnet-4-5-20250929", tier="batch", input=10_000,
              output=2_000, cache_read=100_000, write_5m=20_000, write_1h=10_000, searches=2)
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.spend_usd == Decimal("0.2825")
    assert refresh.admin_priced_until is None
    assert spend_by_hour(priced) == {("09:00", "events"): Decimal("0.2825")}


def test_a_long_context_request_is_priced_at_the_long_context_rate(priced):
    # sonnet 4.5 above 200K input: $6/M input, $22.50/M output
    add_event(priced, "e1", "2026-11-20 09:10", model="claude-sonnet-4-5-20250929", input=250_000, output=1_000)
    assert refresh_spend_rollup(priced, utc(NOW)).spend_usd == Decimal("1.5225")


def test_an_unknown_model_is_counted_as_unpriced_never_priced_by_default(priced):
    add_event(priced, "e1", "2026-11-20 09:10", model="claude-mystery-9", input=700, output=300)
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert (refresh.spend_usd, refresh.unpriced_units) == (Decimal(0), 1000)


def test_hours_the_allocation_covers_come_from_it_and_later_hours_from_events(priced):
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000)  # $0.10, superseded by the allocation
    add_event(priced, "e2", "2026-11-20 10:10", input=200_000)  # $0.20, not allocated yet
    allocate(priced, "2026-11-20 09:00", "0.13")
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.admin_priced_until == utc("2026-11-20 10:00")
    assert spend_by_hour(priced) == {("09:00", "admin"): Decimal("0.13"), ("10:00", "events"): Decimal("0.2")}


def test_a_replayed_event_and_a_second_refresh_change_no_total(priced):
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000)
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000, ingested_at=datetime(2026, 11, 20, 13, tzinfo=UTC))
    assert refresh_spend_rollup(priced, utc(NOW)).spend_usd == Decimal("0.1")
    assert refresh_spend_rollup(priced, utc(NOW)).spend_usd == Decimal("0.1")
    with priced.connect() as client:
        assert sum(d.spend_usd for d in read_daily_spend(client, utc("2026-11-01 00:00"))) == Decimal("0.1")


def test_each_scope_counts_only_its_spend_and_env_filters(priced):
    allocate(priced, "2026-11-20 09:00", "1", team="search", feature="query-rewrite", env="prod")
    allocate(priced, "2026-11-20 09:00", "2", team="search", feature="query-rewrite", env="staging")
    allocate(priced, "2026-11-20 09:00", "4", team="support", feature="triage", workspace_id="", api_key_id="")
    allocate(priced, "2026-11-19 09:00", "8", team="search", feature="answer", api_key_id="apikey_2")
    refresh_spend_rollup(priced, utc(NOW))
    budgets = [
        Budget(id="org", scope="org", period="month", amount_usd=100, slack_channel="#c"),
        Budget(id="search", scope="team", target="search", period="month", amount_usd=100, slack_channel="#c"),
        Budget(id="search-prod", scope="team", target="search", env="prod", period="month", amount_usd=100,
               slack_channel="#c"),
        Budget(id="feature", scope="feature", target="query-rewrite", period="month", amount_usd=100,
               slack_channel="#c"),
        Budget(id="default-ws", scope="workspace", target="", period="month", amount_usd=100, slack_channel="#c"),
        Budget(id="console", scope="api_key", target="", period="month", amount_usd=100, slack_channel="#c"),
        Budget(id="key-day", scope="api_key", target="apikey_1", period="day", amount_usd=100, slack_channel="#c"),
    ]
    spend = {s.budget.id: s.spend_usd for s in budget_statuses(priced, budgets, utc(NOW))}
    assert spend == {"org": 15, "search": 11, "search-prod": 9, "feature": 3, "default-ws": 4, "console": 4,
                     "key-day": 3}


def test_status_has_percent_thresholds_crossed_and_the_run_rate_projection(priced):
    allocate(priced, "2026-11-20 02:00", "3")
    refresh_spend_rollup(priced, utc(NOW))
    daily = Budget(id="d", scope="org", period="day", amount_usd=8, slack_channel="#c")
    yesterday, status = budget_statuses(priced, [daily], utc("2026-11-20 06:00"))
    assert (yesterday.period.label, yesterday.spend_usd, yesterday.is_current) == ("2026-11-19", 0, False)
    assert status.period.label == "2026-11-20"
    assert status.percent == Decimal("37.5")
    assert status.crossed == ()
    assert status.projected_usd == Decimal(12)  # $3 in 6 hours: $12 by midnight
    assert status.projected_to_exceed  # 150 % projected, 37.5 % spent, a quarter of the day gone


def test_materialising_the_budget_assets_writes_budget_status_with_metadata(priced, tmp_path, monkeypatch):
    write_config(tmp_path / "ledger.yaml", monkeypatch, budget("search-monthly", amount_usd=10),
                 budget("support-daily", target="support", period="day", amount_usd=5))
    allocate(priced, "2026-11-20 09:00", "8")
    allocate(priced, "2026-11-20 10:00", "1", team="support")
    result = materialize([spend_hourly, budget_status],
                         resources={"clickhouse": priced, "clock": Clock(frozen_at="2026-11-20T12:00:00+00:00"),
                                    "ledger_config": LedgerConfig()})
    assert result.success
    assert result.asset_materializations_for_node("spend_hourly")[0].metadata["spend_usd"].value == "$9.00"
    metadata = result.asset_materializations_for_node("budget_status")[0].metadata
    assert metadata["budgets"].value == 2
    assert "| search-monthly | 2026-11 | team search | $8.00 | $10.00 | 80.0 % | 50 / 75 |" in metadata["status"].value
    rows = priced.query_rows("SELECT budget_id, period, spend_usd, percent, thresholds_crossed FROM budget_status "
                             "ORDER BY budget_id, period")
    assert rows == [
        ("search-monthly", "2026-11", Decimal(8), Decimal(80), [Decimal(50), Decimal(75)]),
        ("support-daily", "2026-11-19", Decimal(0), Decimal(0), []),
        ("support-daily", "2026-11-20", Decimal(1), Decimal(20), []),
    ]


@pytest.mark.parametrize(("upstream", "partition"), [("usage_events", None), ("allocation", "2026-11-01"),
                                                    ("unit_prices", None)])
def test_the_rollup_and_status_are_refreshed_after_an_ingest_an_allocation_or_new_prices(upstream, partition):
    with DagsterInstance.ephemeral() as instance:
        for key in ("spend_hourly", "budget_status"):
            instance.report_runless_asset_event(AssetMaterialization(key))
        quiet = evaluate_automation_conditions(defs=defs, instance=instance)
        instance.report_runless_asset_event(AssetMaterialization(upstream, partition=partition))
        after = evaluate_automation_conditions(defs=defs, instance=instance, cursor=quiet.cursor)
    requested = {r.key.to_user_string() for r in after.results if r.true_subset.size}
    assert (quiet.total_requested, requested) == (0, {"spend_hourly", "budget_status"})


def test_a_refresh_after_new_events_rebuilds_only_from_their_hour_and_keeps_the_earlier_hours(priced):
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000)  # haiku: $0.10
    refresh_spend_rollup(priced, utc(NOW))
    add_event(priced, "e2", "2026-11-20 11:40", input=30_000)  # $0.03
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.refreshed_from == utc("2026-11-20 11:00")
    assert refresh.spend_usd == Decimal("0.13")
    assert spend_by_hour(priced) == {("09:00", "events"): Decimal("0.1"), ("11:00", "events"): Decimal("0.03")}


def test_a_refresh_with_nothing_changed_rebuilds_nothing(priced):
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000)
    refresh_spend_rollup(priced, utc(NOW))
    again = refresh_spend_rollup(priced, utc(NOW))
    assert (again.refreshed_from, again.spend_usd) == (None, Decimal("0.1"))


def test_a_late_event_of_an_earlier_hour_rebuilds_from_that_hour(priced):
    add_event(priced, "e1", "2026-11-20 10:10", input=100_000)
    refresh_spend_rollup(priced, utc(NOW))
    add_event(priced, "late", "2026-11-19 23:59", input=20_000)  # $0.02, a day late
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.refreshed_from == utc("2026-11-19 23:00")
    assert spend_by_hour(priced) == {("23:00", "events"): Decimal("0.02"), ("10:00", "events"): Decimal("0.1")}


def test_a_rewritten_allocation_month_is_rebuilt_from_the_start_of_that_month(priced):
    allocate(priced, "2026-11-20 09:00", "0.13")
    refresh_spend_rollup(priced, utc(NOW))
    allocate(priced, "2026-11-20 09:00", "0.02", team="support")  # the allocation of November changed
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.refreshed_from == utc("2026-11-01 00:00")
    assert refresh.spend_usd == Decimal("0.15")


def test_events_the_allocation_already_covers_rebuild_nothing_before_its_end(priced):
    allocate(priced, "2026-11-20 09:00", "0.13")
    refresh_spend_rollup(priced, utc(NOW))
    add_event(priced, "e1", "2026-11-20 09:30", input=100_000)  # an hour priced by the allocation
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.refreshed_from == utc("2026-11-20 10:00")  # the allocation's end
    assert spend_by_hour(priced) == {("09:00", "admin"): Decimal("0.13")}



def test_a_refresh_drops_the_build_table_a_killed_refresh_left_but_not_one_an_overlapping_refresh_uses(priced):
    # Build tables are named by when their refresh started; one a day old belongs to a refresh that was killed.
    started = datetime.now(UTC)
    killed = f"spend_hourly_build_{started - timedelta(days=2):%Y%m%d%H%M%S%f}_killed"
    running = f"spend_hourly_build_{started - timedelta(minutes=1):%Y%m%d%H%M%S%f}_running"
    for name in (killed, running):
        priced.command("CREATE TABLE {name:Identifier} AS spend_hourly", {"name": name})
    allocate(priced, "2026-11-20 09:00", "0.40")
    refresh_spend_rollup(priced, utc(NOW))
    builds = priced.query_rows("SELECT name FROM system.tables WHERE database = currentDatabase() "
                               "AND startsWith(name, 'spend_hourly_build_')")
    priced.command("DROP TABLE {name:Identifier}", {"name": running})
    assert builds == [(running,)]

def test_a_rollup_emptied_by_someone_else_is_rebuilt_whole(priced):
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000)
    refresh_spend_rollup(priced, utc(NOW))
    priced.command("TRUNCATE TABLE spend_hourly")
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.refreshed_from == utc("2026-10-01 00:00")  # the start of the previous month
    assert refresh.spend_usd == Decimal("0.1")


def test_a_rebuilt_price_lookup_reprices_the_whole_window(priced):
    # refresh_prices rebuilds unit_prices (a new list price, a rate the cost report taught): every hour of the
    # window may be priced differently, so the next refresh rebuilds from the window's start.
    add_event(priced, "e1", "2026-11-20 09:10", input=100_000)
    refresh_spend_rollup(priced, utc(NOW))
    rebuild_unit_prices(priced)
    refresh = refresh_spend_rollup(priced, utc(NOW))
    assert refresh.refreshed_from == utc("2026-10-01 00:00")  # the start of the previous month
    assert refresh.spend_usd == Decimal("0.1")
