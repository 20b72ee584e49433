"""Specification of cache opportunities: prefixes sent uncached that a prompt cache would make cheaper.

Prices in tests/cache_data.py. Prefix 10,000 tokens on Sonnet 4.5 unless said otherwise:
uncached use 10,000 x $3/M = $0.03; 5m write $0.0375; 1h write $0.06; cache read $0.003.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from allocation_data import with_list_prices
from cache_data import HAIKU, Use, emptied, every, send

from pipelines.cache.analysis import refresh_cache_analysis, top_opportunities
from pipelines.cache.config import CacheConfig
from pipelines.ledger_config import LedgerConfig

SECONDS = timedelta(seconds=1)
MINUTES = timedelta(minutes=1)


@pytest.fixture(scope="module")
def database(module_ch):
    return with_list_prices(module_ch)


@pytest.fixture
def priced(database, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    return emptied(database)


def opportunities(ch) -> dict[str, dict[str, object]]:
    rows = ch.query_rows(
        "SELECT prompt_prefix_hash, uses, windows_5m, windows_1h, uncached_cost_usd, cost_5m_usd, cost_1h_usd, "
        "recommended_ttl, saving_usd, monthly_saving_usd FROM cache_opportunities")
    keys = ["uses", "windows_5m", "windows_1h", "uncached", "cost_5m", "cost_1h", "ttl", "saving", "monthly"]
    return {row[0]: dict(zip(keys, row[1:], strict=True)) for row in rows}


def test_a_prefix_reused_ten_times_in_five_minutes_is_worth_the_hand_computed_saving(priced):
    send(priced, every(30 * SECONDS, 10))  # 0 s .. 270 s
    refresh_cache_analysis(priced, lookback_days=30)
    # uncached: 10 x $0.03 = $0.30.
    # 5m cache: 1 write $0.0375 + 9 reads x $0.003 = $0.0645 -> saves $0.2355.
    # 1h cache: 1 write $0.06 + 9 reads = $0.087 -> saves $0.213. The 5m cache saves more.
    assert opportunities(priced) == {"prefix-a": {
        "uses": 10, "windows_5m": 1, "windows_1h": 1, "uncached": Decimal("0.30"), "cost_5m": Decimal("0.0645"),
        "cost_1h": Decimal("0.087"), "ttl": "5m", "saving": Decimal("0.2355"), "monthly": Decimal("0.2355")}}


def test_the_monthly_saving_scales_the_window_to_thirty_days(priced):
    send(priced, every(30 * SECONDS, 10))
    refresh_cache_analysis(priced, lookback_days=15)
    assert opportunities(priced)["prefix-a"]["monthly"] == Decimal("0.471")  # $0.2355 x 30 / 15


def test_the_same_traffic_already_cached_is_no_opportunity(priced):
    uses = [Use(at=30 * SECONDS * i, cache_read=i > 0, write_5m=i == 0) for i in range(10)]
    send(priced, uses)
    refresh_cache_analysis(priced)
    assert opportunities(priced) == {}


def test_a_prefix_shorter_than_the_models_minimum_is_ignored(priced):
    # Haiku 4.5 caches prefixes of at least 4,096 tokens: 2,400 is never cached, 4,096 is.
    send(priced, every(30 * SECONDS, 10, prefix_tokens=2_400), model=HAIKU, prefix_hash="short")
    send(priced, every(30 * SECONDS, 10, prefix_tokens=4_096), model=HAIKU, prefix_hash="at-minimum")
    refresh = refresh_cache_analysis(priced)
    assert set(opportunities(priced)) == {"at-minimum"}
    assert (refresh.coverage.uncached_prefixes, refresh.coverage.below_minimum) == (2, 1)


def test_reuse_spread_over_more_than_an_hour_saves_nothing(priced):
    send(priced, every(61 * MINUTES, 5))
    refresh_cache_analysis(priced)
    # Every use opens a new window under both lifetimes: uncached 5 x $0.03 = $0.15, cached
    # 5 x $0.0375 (5m) or 5 x $0.06 (1h): caching would cost more.
    assert opportunities(priced) == {}


def test_reuse_every_ten_minutes_recommends_the_one_hour_cache(priced):
    send(priced, every(10 * MINUTES, 7))  # 0 .. 60 min
    refresh_cache_analysis(priced)
    # uncached 7 x $0.03 = $0.21. 5m: gaps of 600 s > 300 s, 7 writes x $0.0375 = $0.2625 (costs more).
    # 1h: 1 write $0.06 + 6 reads x $0.003 = $0.078 -> saves $0.132.
    found = opportunities(priced)["prefix-a"]
    assert (found["windows_5m"], found["cost_5m"]) == (7, Decimal("0.2625"))
    assert (found["windows_1h"], found["cost_1h"]) == (1, Decimal("0.078"))
    assert (found["ttl"], found["saving"]) == ("1h", Decimal("0.132"))


def test_each_use_refreshes_the_five_minute_lifetime(priced):
    send(priced, every(4 * MINUTES, 4))  # 0, 4, 8, 12 min: every gap within 5 minutes
    refresh_cache_analysis(priced)
    # 5m: 1 write $0.0375 + 3 reads $0.009 = $0.0465 of uncached $0.12 -> saves $0.0735 (1h: $0.069).
    found = opportunities(priced)["prefix-a"]
    assert (found["windows_5m"], found["ttl"], found["saving"]) == (1, "5m", Decimal("0.0735"))


def test_batch_traffic_saves_at_batch_prices(priced):
    send(priced, every(30 * SECONDS, 10), tier="batch")
    refresh_cache_analysis(priced)
    assert opportunities(priced)["prefix-a"]["saving"] == Decimal("0.11775")  # $0.2355 x 0.5


def test_opportunities_are_ranked_by_estimated_monthly_saving(priced):
    send(priced, every(10 * MINUTES, 7), feature="doc-summarise", prefix_hash="prefix-b")  # saves $0.132
    send(priced, every(30 * SECONDS, 10), feature="query-rewrite", prefix_hash="prefix-a")  # saves $0.2355
    refresh_cache_analysis(priced)
    ranked = [(o.rank, o.feature, o.recommended_ttl, o.cache_writes, o.cache_reads, o.monthly_saving_usd)
              for o in top_opportunities(priced)]
    assert ranked == [(1, "query-rewrite", "5m", 1, 9, Decimal("0.2355")),
                      (2, "doc-summarise", "1h", 1, 6, Decimal("0.132"))]


def test_an_unknown_model_is_left_out_instead_of_priced_as_a_default(priced, tmp_path):
    config = tmp_path / "ledger.yaml"
    config.write_text("cache_minimums:\n  claude-mystery-9: 1024\n")  # a minimum, but no price
    send(priced, every(30 * SECONDS, 10), model="claude-mystery-9")
    refresh = refresh_cache_analysis(priced, cache_minimums=LedgerConfig(path=str(config)).section(CacheConfig)
                                     .cache_minimums)
    assert opportunities(priced) == {}
    assert (refresh.coverage.no_minimum, refresh.coverage.unpriced) == (0, 1)


def test_a_model_without_a_known_minimum_is_left_out(priced):
    send(priced, every(30 * SECONDS, 10), model="claude-mystery-9")
    refresh = refresh_cache_analysis(priced)
    assert opportunities(priced) == {}
    assert refresh.coverage.no_minimum == 1
