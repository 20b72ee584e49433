"""Specification of cache waste: writes never read within their lifetime, by team and feature.

Opus 4.5 (tests/cache_data.py): input $5/M, 5m write $6.25/M, 1h write $10/M. The premium of an
unread write is what it cost above sending the tokens uncached: 5m $1.25/M, 1h $5/M.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from allocation_data import with_list_prices
from cache_data import OPUS_45, Use, emptied, send

from pipelines.cache.analysis import refresh_cache_analysis

MINUTES = timedelta(minutes=1)


@pytest.fixture(scope="module")
def database(module_ch):
    return with_list_prices(module_ch)


@pytest.fixture
def priced(database, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    return emptied(database)


def data_ends_at(ch, at: timedelta) -> None:
    """An unrelated call that marks the end of the data."""
    send(ch, [Use(at=at)], team="other", feature="marker", prefix_hash="marker")


def waste(ch) -> list[tuple]:
    return ch.query_rows(
        "SELECT team, feature, cache_write_tokens, wasted_5m_tokens, wasted_1h_tokens, wasted_write_share, "
        "pending_write_tokens, wasted_write_usd, wasted_premium_usd FROM cache_waste_by_feature_monthly "
        "WHERE team = 'support'")


def test_cache_writes_never_read_are_waste(priced):
    send(priced, [Use(at=40 * MINUTES * i, prefix_tokens=8_000, write_5m=True) for i in range(3)],
         team="support", feature="reply-draft", model=OPUS_45)
    data_ends_at(priced, 3 * 60 * MINUTES)
    refresh_cache_analysis(priced)
    # 3 x 8,000 tokens written, none read: paid 24,000 x $6.25/M = $0.15, $0.03 above the input price.
    assert waste(priced) == [("support", "reply-draft", 24_000, 24_000, 0, 1.0, 0, Decimal("0.15"),
                              Decimal("0.03"))]


def test_a_write_read_within_its_lifetime_is_not_waste(priced):
    send(priced, [
        Use(at=0 * MINUTES, prefix_tokens=8_000, write_5m=True),
        Use(at=4 * MINUTES, prefix_tokens=8_000, cache_read=True),    # read 4 min later: not waste
        Use(at=60 * MINUTES, prefix_tokens=8_000, write_5m=True),
        Use(at=70 * MINUTES, prefix_tokens=8_000, cache_read=True),   # 10 min later: the 5m write had expired
        Use(at=120 * MINUTES, prefix_tokens=8_000, write_1h=True),
        Use(at=150 * MINUTES, prefix_tokens=8_000, cache_read=True),  # 30 min later: within the hour
    ], team="support", feature="reply-draft", model=OPUS_45)
    data_ends_at(priced, 5 * 60 * MINUTES)
    refresh_cache_analysis(priced)
    # Wasted: the second 5m write only, 8,000 x $6.25/M = $0.05 paid, $0.01 above the input price.
    assert waste(priced) == [("support", "reply-draft", 24_000, 8_000, 0, 0.3333, 0, Decimal("0.05"),
                              Decimal("0.01"))]


def test_an_unread_write_whose_lifetime_has_not_ended_is_pending_not_waste(priced):
    send(priced, [Use(at=0 * MINUTES, prefix_tokens=8_000, write_1h=True)],
         team="support", feature="reply-draft", model=OPUS_45)
    data_ends_at(priced, 30 * MINUTES)
    refresh_cache_analysis(priced)
    assert waste(priced) == [("support", "reply-draft", 8_000, 0, 0, 0.0, 8_000, Decimal(0), Decimal(0))]


def test_an_unread_one_hour_write_costs_its_one_hour_premium(priced):
    send(priced, [Use(at=0 * MINUTES, prefix_tokens=8_000, write_1h=True)],
         team="support", feature="reply-draft", model=OPUS_45)
    data_ends_at(priced, 90 * MINUTES)
    refresh_cache_analysis(priced)
    # 8,000 x $10/M = $0.08 paid, 8,000 x $5/M = $0.04 above the input price.
    assert waste(priced) == [("support", "reply-draft", 8_000, 0, 8_000, 1.0, 0, Decimal("0.08"), Decimal("0.04"))]
