"""The pipeline side of the call-time budget guard: what budget_guard_publish publishes (guarded budgets, each
current period's spend from the rollup, unit prices from the shared unit_prices view), to Redis and to the
landing zone; how a publication resets drift; and a guard without Redis refusing on what was published."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import anthropic
import pytest
from budget_helpers import allocate, budget, emptied, utc, write_config
from dagster import build_sensor_context
from dagster_cli import run_dagster
from guard_helpers import events_in, frozen, now_utc
from messages_api_server import FakeMessagesApi

from pipelines.alerts.clock import Clock
from pipelines.budgets.guard import budget_guard_publish, period_spend, publish_redis, read_prices
from pipelines.budgets.guard_resource import GuardRedis
from pipelines.budgets.periods import period_of
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.emitter import BudgetExceeded, BudgetGuard, JsonlFileSink, instrument
from pipelines.emitter.guard_state import (
    BUDGETS_FILE,
    BUDGETS_KEY,
    PRICES_FILE,
    PRICES_KEY,
    BudgetsDocument,
    GuardBudget,
    PeriodSpend,
    PricesDocument,
    holds_key,
    hour_of,
    period_end,
    period_label,
    period_start,
    spend_key,
)
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.ledger_config import LedgerConfig
from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource

NOW = "2026-11-20 12:30"
PER_MTOK = Decimal("0.000001")


@pytest.fixture(scope="module")
def module_ch(databases, tmp_path_factory) -> ClickHouseResource:
    with databases.resource(tmp_path_factory.mktemp("ledger")) as ch:
        load_prices(ch)
        yield ch


@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    return emptied(module_ch)


def team_budget(id: str, period: str, policy: str = "block", amount: str = "10") -> GuardBudget:
    return GuardBudget(id, "team", "search", None, period, Decimal(amount), policy)


@pytest.mark.parametrize("moment", ["2026-11-20 12:30", "2026-12-31 23:59", "2027-01-01 00:00", "2028-02-29 07:00"])
def test_the_guard_s_periods_are_the_budgets_periods(moment):
    for kind in ("day", "month"):
        period = period_of(kind, utc(moment))
        start = period_start(kind, utc(moment))
        assert (start, period_end(kind, start), period_label(kind, start)) == (period.start, period.end,
                                                                               period.label)


def test_spend_is_published_as_a_base_before_the_recent_hours_and_hour_by_hour_after(ch):
    allocate(ch, "2026-11-03 10:00", "4")      # this month, another day
    allocate(ch, "2026-11-20 02:00", "1")      # today, before 09:00 (NOW 12:30 - 3 hours, to the hour)
    allocate(ch, "2026-11-20 09:00", "0.5")    # today, the recent hours
    allocate(ch, "2026-11-20 11:00", "0.25")
    allocate(ch, "2026-11-20 11:00", "7", team="support")  # another team
    refresh_spend_rollup(ch, utc(NOW))
    daily, monthly = team_budget("d", "day"), team_budget("m", "month")

    with ch.connect() as client:
        published = period_spend(client, (daily, monthly), utc(NOW))

    nine, eleven = hour_of(utc("2026-11-20 09:00")), hour_of(utc("2026-11-20 11:00"))
    # micro-USD: day base $1 (02:00); month base $4 + $1; both then $0.50 at 09:00 and $0.25 at 11:00.
    assert published == {
        "ledger:{guard}:spend:d:2026-11-20": PeriodSpend(nine, 1_000_000, {nine: 500_000, eleven: 250_000}),
        "ledger:{guard}:spend:m:2026-11": PeriodSpend(nine, 5_000_000, {nine: 500_000, eleven: 250_000}),
    }


def test_a_period_that_began_within_the_recent_hours_has_no_base(ch):
    allocate(ch, "2026-11-19 23:00", "2")  # yesterday: not today's
    allocate(ch, "2026-11-20 00:00", "3")
    refresh_spend_rollup(ch, utc("2026-11-20 01:10"))
    with ch.connect() as client:
        [spend] = period_spend(client, (team_budget("d", "day"),), utc("2026-11-20 01:10")).values()
    midnight = hour_of(utc("2026-11-20 00:00"))
    assert spend == PeriodSpend(midnight, 0, {midnight: 3_000_000})


def test_prices_are_published_per_model_id_from_the_shared_unit_prices(ch):
    with ch.connect() as client:
        client.insert("usage_events", [["e1", utc("2026-11-19 10:00"), "claude-sonnet-4-5-20250929",
                                        datetime.now(UTC)]], column_names=["event_id", "ts", "model", "ingested_at"])
        prices = read_prices(client, utc(NOW), ["claude-haiku-4-5-20251001", "claude-new-9"]).prices

    # A dated id seen in usage and one asked for are priced as their families; families are published too.
    assert {"claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-haiku-4-5",
            "claude-opus-4-6"} <= set(prices)
    assert "claude-new-9" not in prices  # no price: the guard applies the budget's policy
    haiku = {(r.context_window, *r.dimensions.values()): r for r in prices["claude-haiku-4-5-20251001"]}
    # Haiku 4.5 has no fast mode and no US inference (price_multipliers.csv): standard speed, global or
    # not_available geo, in every prompt band and tier.
    assert set(haiku) == {(band, tier, "standard", geo) for band in ("0-100k", "100k-200k", "200k-1M")
                          for tier in ("standard", "batch", "priority") for geo in ("global", "not_available")}
    # Haiku 4.5 (model_prices.csv): $1 / $5 / $1.25 / $2 / $0.10 per MTok, web search $0.01; batch halves tokens.
    assert haiku["0-100k", "standard", "standard", "global"].usd_per_unit == {
        "input": 1 * PER_MTOK, "output": 5 * PER_MTOK, "cache_write_5m": Decimal("1.25") * PER_MTOK,
        "cache_write_1h": 2 * PER_MTOK, "cache_read": Decimal("0.10") * PER_MTOK, "web_search": Decimal("0.01")}
    assert haiku["0-100k", "batch", "standard", "global"].usd_per_unit["output"] == Decimal("2.5") * PER_MTOK
    # The bands start at the first prompt size the shared rule puts in them: 100,001 and 200,001 tokens.
    windows = {(r.context_window, r.from_prompt_tokens) for r in prices["claude-opus-4-6"]}
    assert windows == {("0-100k", 0), ("100k-200k", 100_001), ("200k-1M", 200_001)}


def test_a_publication_resets_drift_the_rollup_being_the_authority(redis_server):
    now = now_utc()  # Redis expires keys by its own clock: a period of today
    budget = team_budget("d", "month")
    key = spend_key("d", "month", period_start("month", now))
    redis = redis_server.client()
    ten, eleven = hour_of(now) - 1, hour_of(now)  # two hours of the recent window

    def publish(spend: PeriodSpend) -> dict[str, int]:
        publish_redis(redis, BudgetsDocument(now, (budget,), {key: spend}), None, now)
        return {k.decode(): int(v) for k, v in redis.hgetall(key).items()}

    publish(PeriodSpend(ten, 0, {}))
    # The guard settled 300 at 10:00 and 50 at 11:00 (what its SETTLE script books).
    redis.hset(key, mapping={f"g:{ten}": 300, f"g:{eleven}": 50, "recent": 350})

    # The rollup lags (100 of 10:00 ingested so far): the guard's own 300 counts, not both.
    assert publish(PeriodSpend(ten, 0, {ten: 100}))["recent"] == 300 + 50
    # The rollup caught up and has more (calls made without the guard): it counts instead.
    assert publish(PeriodSpend(ten, 0, {ten: 420, eleven: 50}))["recent"] == 420 + 50
    # 10:00 is settled into the base: the guard's bucket for it is dropped, its estimate errors with it.
    counters = publish(PeriodSpend(eleven, 430, {eleven: 60}))
    assert (counters["base"], counters["recent"], f"g:{ten}" in counters) == (430, 60, False)
    assert redis.expiretime(key) == int(period_end("month", period_start("month", now)).timestamp()) + 3600
    assert redis.exists(holds_key(key)) == 0


def tick(ch, tmp_path, now, redis_url="", cursor=None):
    context = build_sensor_context(cursor=cursor, resources={
        "clickhouse": ch, "clock": Clock(frozen_at=now), "ledger_config": LedgerConfig(),
        "landing_zone": LandingZone(events_dir=str(tmp_path / "events")), "guard_redis": GuardRedis(url=redis_url)})
    result = budget_guard_publish(context)
    return result, context.cursor


def test_the_sensor_publishes_to_redis_and_to_the_landing_zone(ch, tmp_path, monkeypatch, redis_server):
    now = now_utc()  # Redis expires a period's keys by its own clock
    write_config(tmp_path / "ledger.yaml", monkeypatch, budget("search-daily", period="day", policy="block"),
                 budget("search-alerts"))
    allocate(ch, f"{now:%Y-%m-%d} 00:00", "1.5")
    refresh_spend_rollup(ch, now)

    result, cursor = tick(ch, tmp_path, now.isoformat(), redis_server.url)

    state = tmp_path / "events" / ".budget-guard"
    published = BudgetsDocument.from_json((state / BUDGETS_FILE).read_text())
    assert [b.id for b in published.budgets] == ["search-daily"]  # an alert budget is Slack's only
    key = f"ledger:{{guard}}:spend:search-daily:{now:%Y-%m-%d}"
    spend = published.spend[key]
    assert spend.base + sum(spend.hours.values()) == 1_500_000  # in the base, or per hour in the first 3 hours
    redis = redis_server.client()
    assert BudgetsDocument.from_json(redis.get(BUDGETS_KEY)) == published
    assert PricesDocument.from_json(redis.get(PRICES_KEY)) == PricesDocument.from_json(
        (state / PRICES_FILE).read_text())
    counters = {k.decode(): int(v) for k, v in redis.hgetall(key).items()}
    assert counters["base"] + counters["recent"] == 1_500_000
    # The 19 families of model_prices.csv (no event names another model yet).
    assert result.skip_message == ("published 1 guarded budgets (1 current periods), prices of 19 models to files "
                                   "and redis")
    assert json.loads(cursor)["prices_at"] == now.isoformat()

    # A minute later the spend is published again, the prices only every 10 minutes.
    result, cursor = tick(ch, tmp_path, (now + timedelta(minutes=1)).isoformat(), redis_server.url, cursor)
    assert "prices" not in result.skip_message


def test_a_model_a_guard_asked_for_is_priced_at_the_next_tick(ch, tmp_path, monkeypatch, redis_server):
    write_config(tmp_path / "ledger.yaml", monkeypatch, budget("search-daily", period="day", policy="block"))
    _, cursor = tick(ch, tmp_path, NOW, redis_server.url)
    redis = redis_server.client()
    assert "claude-opus-4-1-20250805" not in PricesDocument.from_json(redis.get(PRICES_KEY)).prices
    redis.sadd("ledger:{guard}:wanted", "claude-opus-4-1-20250805")

    result, _ = tick(ch, tmp_path, "2026-11-20 12:31", redis_server.url, cursor)  # within 10 minutes

    assert "prices of" in result.skip_message
    assert "claude-opus-4-1-20250805" in PricesDocument.from_json(redis.get(PRICES_KEY)).prices


def test_without_redis_a_guard_refuses_on_what_the_sensor_published(ch, tmp_path, monkeypatch):
    write_config(tmp_path / "ledger.yaml", monkeypatch,
                 budget("search-daily", period="day", policy="block", amount_usd="2"))
    allocate(ch, "2026-11-20 02:00", "1.99")
    refresh_spend_rollup(ch, utc(NOW))
    result, cursor = tick(ch, tmp_path, NOW)
    assert result.skip_message.endswith("to files")
    api = FakeMessagesApi()
    guard = BudgetGuard(redis_url="", state_dir_path=tmp_path / "events" / ".budget-guard", clock=frozen(utc(NOW)),
                        refresh_seconds=0)
    client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=api.url, max_retries=0),
                        sink=JsonlFileSink(tmp_path / "out"), team="search", guard=guard)
    ask = {"model": "claude-haiku-4-5-20251001", "messages": [{"role": "user", "content": "hi"}]}
    try:
        # A dated id never used yet has no price: refused, and asked for; the next tick prices it from SQL.
        with pytest.raises(BudgetExceeded, match="claude-haiku-4-5-20251001 has no published price"):
            client.messages.create(**ask, max_tokens=4000)
        tick(ch, tmp_path, "2026-11-20 12:31", cursor=cursor)
        # 12 x $1 + 4000 x $5 per MTok = $0.020012; $1.99 + $0.020012 > $2
        with pytest.raises(BudgetExceeded, match=re.escape("$1.99 of $2.00 spent or held, and this call to "
                                                           "claude-haiku-4-5-20251001 is estimated at $0.020012")):
            client.messages.create(**ask, max_tokens=4000)
        client.messages.create(**ask, max_tokens=1000)  # $0.005012 fits
    finally:
        api.close()
    assert len(api.requests) == 1
    assert [e["guard_action"] for e in events_in(tmp_path / "out")] == ["block", "block", None]


def test_budget_status_counts_the_guard_s_blocks_and_downgrades(ch, tmp_path, monkeypatch):
    from dagster import materialize

    from pipelines.budgets.assets import budget_status

    write_config(tmp_path / "ledger.yaml", monkeypatch, budget("search-daily", period="day", policy="block"))
    rows = [["b1", utc("2026-11-20 09:00"), "block", "search-daily"], ["b2", utc("2026-11-20 10:00"), "block",
            "search-daily"], ["d1", utc("2026-11-20 11:00"), "downgrade", "search-daily"],
            ["old", utc("2026-11-18 11:00"), "block", "search-daily"], ["x", utc("2026-11-20 11:00"), "", ""]]
    with ch.connect() as client:
        client.insert("usage_events", [[*r, datetime.now(UTC)] for r in rows],
                      column_names=["event_id", "ts", "guard_action", "guard_budget", "ingested_at"])
    assert materialize([budget_status], resources={
        "clickhouse": ch, "clock": Clock(frozen_at=NOW), "ledger_config": LedgerConfig()}).success

    # Today: two blocks and one downgrade (the 18th's block is another day's; yesterday's period is also shown).
    assert ch.query_rows("SELECT period, guard_blocked, guard_downgraded FROM budget_status ORDER BY period") == [
        ("2026-11-19", 0, 0), ("2026-11-20", 2, 1)]


def test_budgets_only_for_slack_publish_that_nothing_is_guarded(ch, tmp_path, monkeypatch):
    write_config(tmp_path / "ledger.yaml", monkeypatch, budget("search-alerts"))
    result, _ = tick(ch, tmp_path, NOW)
    assert result.skip_message.startswith("no block / downgrade budgets in LEDGER_CONFIG")
    state = Path(tmp_path / "events" / ".budget-guard")
    assert BudgetsDocument.from_json((state / BUDGETS_FILE).read_text()).budgets == ()
    assert not (state / PRICES_FILE).exists()


def test_published_documents_are_replaced_whole(tmp_path):
    from pipelines.budgets.guard import publish_files

    now = utc(NOW)
    first = BudgetsDocument(now, (team_budget("a", "day"),))
    publish_files(tmp_path, first, None)
    publish_files(tmp_path, BudgetsDocument(now + timedelta(minutes=1), ()), None)
    assert BudgetsDocument.from_json((tmp_path / BUDGETS_FILE).read_text()).budgets == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == [BUDGETS_FILE]  # no temporary file left behind


def test_the_dagster_cli_runs_the_publishing_sensor_of_the_project_definitions(tmp_path, monkeypatch, redis_server,
                                                                             databases):
    config = write_config(tmp_path / "ledger.yaml", monkeypatch, budget("search-daily", period="day", policy="block"))
    with databases.resource(tmp_path / "ledger") as fresh:
        completed = run_dagster("sensor", "preview", "budget_guard_publish", home=tmp_path / "dagster", ch=fresh,
                                LEDGER_CONFIG=str(config), LEDGER_EVENTS_DIR=str(tmp_path / "events"),
                                LEDGER_REDIS_URL=redis_server.url)
    assert completed.returncode == 0, completed.stderr[-3000:]
    # A fresh database: no price loaded yet (the model_prices asset has not run), so no model is priced.
    assert ("skipping: published 1 guarded budgets (1 current periods), prices of 0 models to files and redis"
            in completed.stdout + completed.stderr)
    assert redis_server.url not in completed.stdout + completed.stderr  # the secret stays out of the output
    assert [b.id for b in BudgetsDocument.from_json(redis_server.client().get(BUDGETS_KEY)).budgets] == [
        "search-daily"]
