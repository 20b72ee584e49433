"""Budget spend of the hours the Admin API has not reported yet: usage events priced by every dimension Anthropic
bills by, a model newer than the price list at the rate the cost report last taught, and a model nobody has
priced shown as unpriced usage, never as $0 spend. Figures by hand from the pricing page (2026-10)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.pricing.assets import load_prices, rebuild_unit_prices
from pipelines.storage.clickhouse import ClickHouseResource

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
EVENT_COLUMNS = ["event_id", "ts", "team", "feature", "env", "workspace_id", "api_key_id", "model", "service_tier",
                 "speed", "inference_geo", "input_tokens", "output_tokens", "ingested_at"]


@pytest.fixture
def ch(ch: ClickHouseResource, tmp_path, monkeypatch) -> ClickHouseResource:
    """The test's database with the bundled list prices, and no LEDGER_CONFIG."""
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    load_prices(ch)
    return ch


def event(ch: ClickHouseResource, event_id: str, team: str, model: str, *, speed: str = "standard",
          geo: str = "global", tier: str = "standard", input: int = 0, output: int = 0) -> None:
    with ch.connect() as client:
        client.insert("usage_events", [[event_id, datetime(2026, 11, 20, 9, tzinfo=UTC), team, "f", "prod", "ws",
                                        "key", model, tier, speed, geo, input, output, datetime.now(UTC)]],
                      column_names=EVENT_COLUMNS)


def taught(ch: ClickHouseResource) -> None:
    """On Nov 18 the cost report billed claude-fable-5-2 (no list price): 1M input $8.00, 100K output $4.00."""
    with ch.connect() as client:
        client.insert("admin_usage_hourly", [[datetime(2026, 11, 18, 9, tzinfo=UTC), "ws", "key", "claude-fable-5-2",
                                              "standard", "0-200k", "global", "standard", 1_000_000, 0, 0, 0, 100_000,
                                              0, datetime.now(UTC)]],
                      column_names=["bucket_start", "workspace_id", "api_key_id", "model", "service_tier",
                                    "context_window", "inference_geo", "speed", "uncached_input_tokens",
                                    "cache_read_input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
                                    "output_tokens", "web_search_requests", "extracted_at"])
        client.insert("admin_cost_daily",
                      [[datetime(2026, 11, 18).date(), "ws", "d1", "tokens", "claude-fable-5-2", token_type,
                        "standard", "0-200k", "global", "", "USD", Decimal(usd), datetime.now(UTC)]
                       for token_type, usd in (("uncached_input_tokens", "8.00"), ("output_tokens", "4.00"))],
                      column_names=["date", "workspace_id", "description", "cost_type", "model", "token_type",
                                    "service_tier", "context_window", "inference_geo", "speed", "currency",
                                    "amount_usd", "extracted_at"])
    rebuild_unit_prices(ch)


def spend_by_team(ch: ClickHouseResource) -> dict[str, tuple[Decimal, int]]:
    rows = ch.query_rows("SELECT team, sum(spend_usd), sum(unpriced_units) FROM spend_hourly FINAL "
                         "WHERE source = 'events' GROUP BY team")
    return {team: (spend, unpriced) for team, spend, unpriced in rows}


def test_fast_mode_is_spend_at_its_multiple(ch):
    # Opus 4.8 fast (2x): 100K input at $10 + 10K output at $50 / MTok = $1.00 + $0.50.
    event(ch, "e1", "research", "claude-opus-4-8", speed="fast", input=100_000, output=10_000)
    refresh_spend_rollup(ch, NOW)
    assert spend_by_team(ch) == {"research": (Decimal("1.5"), 0)}


def test_us_inference_is_spend_at_a_tenth_more(ch):
    # Sonnet 4.6 in the US: 1M input at $3 x 1.1.
    event(ch, "e1", "support", "claude-sonnet-4-6", geo="us", input=1_000_000)
    refresh_spend_rollup(ch, NOW)
    assert spend_by_team(ch) == {"support": (Decimal("3.3"), 0)}


def test_a_model_newer_than_the_price_list_is_spend_at_the_rate_the_cost_report_taught(ch):
    # claude-fable-5-2 at the Nov 18 rates ($8 / $40 per MTok): 500K input + 50K output = $4.00 + $2.00.
    taught(ch)
    event(ch, "e1", "data", "claude-fable-5-2", input=500_000, output=50_000)
    refresh_spend_rollup(ch, NOW)
    assert spend_by_team(ch) == {"data": (Decimal("6"), 0)}


def test_a_model_nobody_has_priced_is_unpriced_usage_not_zero_spend_on_another_line(ch):
    event(ch, "e1", "growth", "claude-mystery-9", input=1_000, output=10)
    event(ch, "e2", "growth", "claude-haiku-4-5-20251001", input=1_000_000)  # $1.00, priced as usual
    refresh_spend_rollup(ch, NOW)
    assert spend_by_team(ch) == {"growth": (Decimal("1"), 1_010)}
