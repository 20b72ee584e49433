"""The price lookup (unit_prices): per price cell and day, the rate the pricing page gives
(https://platform.claude.com/docs/en/about-claude/pricing, read 2026-10), every dimension multiplied in."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from dagster_cli import run_dagster

from pipelines.pricing.assets import load_prices, price_rows
from pipelines.pricing.config import PriceOverride
from pipelines.storage.clickhouse import ClickHouseResource

M = Decimal(1_000_000)


@pytest.fixture(scope="module")
def ch(databases, tmp_path_factory) -> ClickHouseResource:
    with databases.resource(tmp_path_factory.mktemp("ledger")) as ch:
        load_prices(ch)
        yield ch


def usd_per_mtok(ch: ClickHouseResource, model: str, band: str, tier: str, speed: str, geo: str, token_type: str,
                 day: date) -> Decimal | None:
    rows = ch.query_rows(
        "SELECT p.usd_per_unit FROM (SELECT ledger_price_cell({model:String}, {band:String}, {tier:String}, "
        "{speed:String}, {geo:String}) AS cell, {token_type:String} AS token_type, {day:Date} AS day) AS u "
        "ASOF LEFT JOIN unit_prices AS p ON p.price_cell = u.cell AND p.token_type = u.token_type "
        "AND p.effective_from <= u.day SETTINGS join_use_nulls = 1",
        {"model": model, "band": band, "tier": tier, "speed": speed, "geo": geo, "token_type": token_type,
         "day": day})
    return None if rows[0][0] is None else (rows[0][0] * M).normalize()


@pytest.mark.parametrize(("day", "expected"), [(date(2026, 2, 10), Decimal(10)), (date(2026, 3, 20), Decimal(5))])
def test_opus_4_6_long_context_pays_a_premium_until_2026_03_13_then_the_standard_rate(ch, day, expected):
    assert usd_per_mtok(ch, "claude-opus-4-6", "200k-1M", "standard", "standard", "global", "input", day) == expected


def test_sonnet_4_5_keeps_its_long_context_premium(ch):
    # $6 input and $22.50 output above 200K prompt tokens.
    assert usd_per_mtok(ch, "claude-sonnet-4-5-20250929", "200k-1M", "", "", "", "output",
                        date(2026, 9, 30)) == Decimal("22.5")


@pytest.mark.parametrize(("day", "expected"), [(date(2026, 10, 1), Decimal("0.2")), (date(2026, 10, 8),
                                                                                       Decimal("0.1"))])
def test_a_cache_read_rate_that_is_not_a_tenth_of_input_is_its_own_row(ch, day, expected):
    # Sonnet 5.5 cache hits: $0.20, then from 2026-10-07 $0.10 (0.05x of its $2 input).
    assert usd_per_mtok(ch, "claude-sonnet-5-5", "0-100k", "standard", "standard", "global", "cache_read",
                        day) == expected


def test_haiku_5_5_is_priced_by_prompt_length_and_batch_halves_each_band(ch):
    day = date(2026, 10, 12)
    assert usd_per_mtok(ch, "claude-haiku-5-5", "0-100k", "standard", "standard", "global", "input", day) == \
        Decimal("0.1")
    assert usd_per_mtok(ch, "claude-haiku-5-5", "100k-200k", "standard", "standard", "global", "input", day) == \
        Decimal("0.5")
    assert usd_per_mtok(ch, "claude-haiku-5-5", "100k-200k", "batch", "standard", "global", "output", day) == \
        Decimal("1.25")


def test_fast_mode_and_us_inference_stack(ch):
    # Opus 4.6 fast (6x) in the US (1.1x): $5 x 6 x 1.1 = $33 per MTok of input.
    assert usd_per_mtok(ch, "claude-opus-4-6", "0-100k", "standard", "fast", "us", "input", date(2026, 3, 1)) == \
        Decimal(33)


@pytest.mark.parametrize(("model", "tier", "speed", "geo"), [
    ("claude-sonnet-4-6", "flex", "standard", "global"),  # no published flex price
    ("claude-sonnet-4-6", "standard", "fast", "global"),  # fast mode is Opus only
    ("claude-haiku-4-5-20251001", "standard", "standard", "us"),  # US inference is for 4.6 and later models
])
def test_a_combination_anthropic_does_not_price_has_no_price(ch, model, tier, speed, geo):
    assert usd_per_mtok(ch, model, "0-100k", tier, speed, geo, "input", date(2026, 10, 12)) is None


def test_web_search_is_a_cent_a_request_in_every_cell(ch):
    assert usd_per_mtok(ch, "claude-opus-4-8", "200k-1M", "batch", "standard", "us", "web_search",
                        date(2026, 10, 12)) == Decimal(10_000)  # $0.01 per request = $10,000 per million


def test_a_config_price_replaces_the_bundled_row_of_the_same_schedule():
    negotiated = PriceOverride(model="claude-haiku-4-5", effective_from=date(2025, 10, 15), input=Decimal("0.9"),
                               cache_write_5m=Decimal("1.125"), cache_write_1h=Decimal("1.8"),
                               cache_read=Decimal("0.09"), output=Decimal("4.5"))
    rows = {(row[0], row[1], row[3]): (row[4], row[5]) for row in price_rows([negotiated])}
    assert rows[("claude-haiku-4-5", date(2025, 10, 15), "input")] == (Decimal("0.0000009"), "config")


def test_a_schedule_without_a_base_row_is_refused_with_the_schedule_named():
    long_only = PriceOverride(model="claude-opus-9", effective_from=date(2026, 12, 1), prompt_tokens_above=200_000,
                              input=Decimal(1), cache_write_5m=Decimal(1), cache_write_1h=Decimal(1),
                              cache_read=Decimal(1), output=Decimal(1))
    with pytest.raises(ValueError, match=r"needs a base row .*claude-opus-9 from 2026-12-01"):
        price_rows([long_only])


def test_the_dagster_cli_loads_the_prices_and_builds_the_lookup(tmp_path, databases):
    with databases.resource(tmp_path / "ledger") as lookup:
        completed = run_dagster("asset", "materialize", "--select", "model_prices,unit_prices", home=tmp_path,
                                ch=lookup, LEDGER_CONFIG=str(tmp_path / "absent.yaml"))
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert "RUN_SUCCESS" in completed.stderr
        assert usd_per_mtok(lookup, "claude-opus-4-6", "200k-1M", "standard", "standard", "global", "input",
                            date(2026, 2, 10)) == Decimal(10)
