"""Specification of cache efficiency: hit ratio, write/read ratio and realised savings, from events
(per team/feature/model) and from the Admin API (per workspace/api key/model). Prices in tests/cache_data.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from allocation_data import with_list_prices
from cache_data import OPUS_41, T0, Use, admin_hour, emptied, send

from pipelines.cache.analysis import refresh_cache_analysis


@pytest.fixture(scope="module")
def database(module_ch):
    return with_list_prices(module_ch)


@pytest.fixture
def priced(database, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    return emptied(database)


def test_cached_traffic_shows_its_hit_ratio_and_realised_savings(priced):
    # 10 uses 30 s apart of a 10,000-token Sonnet 4.5 prefix: 1 5m write then 9 reads; 500 uncached each.
    send(priced, [Use(at=timedelta(seconds=30 * i), cache_read=i > 0, write_5m=i == 0) for i in range(10)])
    refresh = refresh_cache_analysis(priced)
    rows = priced.query_rows(
        "SELECT team, feature, requests, all_input_tokens, hit_ratio, write_read_ratio, realised_savings_usd "
        "FROM cache_efficiency_by_feature_daily")
    # hit ratio 90,000 / (5,000 + 90,000 + 10,000) = 0.8571; write/read 10,000 / 90,000 = 0.1111.
    # Savings: 100,000 cached tokens at $3/M = $0.30 - (10,000 x $3.75/M + 90,000 x $0.30/M = $0.0645) = $0.2355.
    assert rows == [("search", "query-rewrite", 10, 105_000, 0.8571, 0.1111, Decimal("0.2355"))]
    assert refresh.events_savings_usd == Decimal("0.2355")


def test_a_model_without_a_price_has_its_cache_tokens_flagged_not_priced(priced):
    send(priced, [Use(at=timedelta(0), write_5m=True), Use(at=timedelta(seconds=30), cache_read=True)],
         model="claude-mystery-9")
    refresh_cache_analysis(priced)
    assert priced.query_rows("SELECT realised_savings_usd, unpriced_cache_tokens "
                             "FROM cache_efficiency_by_feature_daily") == [(Decimal(0), 20_000)]


def test_admin_api_usage_shows_efficiency_per_workspace_and_api_key(priced):
    admin_hour(priced, T0, key="key1", uncached=1_000_000, cache_read=4_000_000, write_5m=500_000, write_1h=500_000)
    admin_hour(priced, T0, key="key2", model=OPUS_41, tier="batch", cache_read=1_000_000, write_1h=1_000_000)
    refresh = refresh_cache_analysis(priced)
    rows = priced.query_rows(
        "SELECT api_key_id, hit_ratio, write_read_ratio, realised_savings_usd FROM cache_efficiency_by_key_daily "
        "ORDER BY api_key_id")
    # key1, Sonnet 4.5: 5M cached tokens x $3/M = $15 - (0.5M x $3.75 + 0.5M x $6 + 4M x $0.30 = $6.075) = $8.925;
    #   hit ratio 4M / 6M, write/read 1M / 4M.
    # key2, Opus 4.1 batch: (2M x $15 - (1M x $30 + 1M x $1.50)) / 1M x 0.5 = -$0.75 (the 1h writes cost more).
    assert rows == [("key1", 0.6667, 0.25, Decimal("8.925")), ("key2", 0.5, 1.0, Decimal("-0.75"))]
    assert refresh.admin_savings_usd == Decimal("8.175")


def test_monthly_efficiency_is_the_ratio_of_the_months_sums(priced):
    admin_hour(priced, T0, cache_read=3_000_000, uncached=1_000_000)
    admin_hour(priced, T0 + timedelta(days=1), uncached=4_000_000, write_5m=1_000_000)
    refresh_cache_analysis(priced)
    # October: reads 3M of 9M input tokens = 0.3333 (not the mean of 0.75 and 0); writes/reads 1M / 3M.
    # Savings: 3M x ($3 - $0.30)/M - 1M x ($3.75 - $3)/M = $8.10 - $0.75 = $7.35.
    assert priced.query_rows(
        "SELECT month, api_key_id, all_input_tokens, hit_ratio, write_read_ratio, realised_savings_usd "
        "FROM cache_efficiency_by_key_monthly") == [(T0.date().replace(day=1), "key1", 9_000_000, 0.3333, 0.3333,
                                                     Decimal("7.35"))]


def test_a_rerun_rewrites_the_days_instead_of_adding_to_them(priced):
    send(priced, [Use(at=timedelta(seconds=30 * i), cache_read=i > 0, write_5m=i == 0) for i in range(10)])
    refresh_cache_analysis(priced)
    refresh_cache_analysis(priced)
    assert priced.query_rows("SELECT sum(realised_savings_usd) FROM cache_efficiency_by_feature_monthly") == [
        (Decimal("0.2355"),)]


def test_a_first_run_fills_the_days_before_the_window_too(priced):
    # A 1-day window ends at the last event (day 20); the empty rollup is filled from day 0 on.
    send(priced, [Use(at=timedelta(days=0), write_5m=True), Use(at=timedelta(days=20), cache_read=True)])
    refresh = refresh_cache_analysis(priced, lookback_days=1)
    assert refresh.refreshed_from == T0.date()
    assert priced.query_rows("SELECT date, cache_write_5m_tokens, cache_read_tokens "
                             "FROM cache_efficiency_by_feature_daily ORDER BY date") == [
        (T0.date(), 10_000, 0), ((T0 + timedelta(days=20)).date(), 0, 10_000)]
