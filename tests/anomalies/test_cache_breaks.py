"""Cache breaks from the cache rollups: a hit ratio that dropped, or writes no longer read, priced in dollars
lost that day, with the model it was lost on; quiet when nothing changed or too little money is at stake.

Rows are written as the cache_opportunities asset writes them (docs/cache.md), with list prices per million
tokens: Sonnet 4.5 input 3, 5-minute write 3.75, read 0.30; Opus 4.1 input 15, 5-minute write 18.75."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from anomaly_traffic import emptied

from pipelines.anomalies.cache import find_cache_breaks
from pipelines.anomalies.config import AnomalyLines, CacheLines
from pipelines.storage.clickhouse import ClickHouseResource

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)  # the rollups hold 14 October .. 18 November (today, partial)
BROKEN = date(2026, 11, 17)  # yesterday, a Tuesday; its baseline: the four Tuesdays before
FEATURE_COLUMNS = ["date", "team", "feature", "model", "requests", "input_tokens", "cache_read_tokens",
                   "cache_write_5m_tokens", "cache_write_1h_tokens", "realised_savings_usd", "unpriced_cache_tokens",
                   "computed_at"]
WASTE_COLUMNS = ["date", "team", "feature", "model", "cache_write_5m_tokens", "cache_write_1h_tokens",
                 "wasted_5m_tokens", "wasted_1h_tokens", "pending_write_tokens", "wasted_write_usd",
                 "wasted_premium_usd", "unpriced_wasted_tokens", "computed_at"]
M = 1_000_000


@dataclass(frozen=True)
class Day:
    """One day of one feature and model: uncached input, cache reads, 5-minute writes, writes never read."""

    uncached: int
    reads: int
    writes: int
    wasted: int
    input_usd: Decimal  # per token
    write_usd: Decimal
    read_usd: Decimal

    @property
    def savings(self) -> Decimal:  # cached tokens at the input price - what the writes and reads cost
        return (self.reads + self.writes) * self.input_usd - self.writes * self.write_usd - self.reads * self.read_usd


def sonnet(uncached: int, reads: int, writes: int = M, wasted: int = M // 10) -> Day:
    return Day(uncached, reads, writes, wasted, Decimal("3e-6"), Decimal("3.75e-6"), Decimal("0.3e-6"))


def opus(writes: int, wasted: int) -> Day:
    return Day(M, M, writes, wasted, Decimal("15e-6"), Decimal("18.75e-6"), Decimal("1.5e-6"))


def write_days(ch: ClickHouseResource, feature: str, model: str, usual: Day, on_broken_day: Day | None = None,
               scale: int = 1) -> None:
    """``usual`` every day from 14 October to today, ``on_broken_day`` yesterday; all tokens x ``scale``."""
    features, waste, stamp = [], [], datetime.now(UTC)
    day = date(2026, 10, 14)
    while day <= NOW.date():
        d = on_broken_day if day == BROKEN and on_broken_day else usual
        features.append([day, "search", feature, model, 100, d.uncached * scale, d.reads * scale, d.writes * scale, 0,
                         d.savings * scale, 0, stamp])
        waste.append([day, "search", feature, model, d.writes * scale, 0, d.wasted * scale, 0, 0,
                      d.wasted * scale * d.write_usd, d.wasted * scale * (d.write_usd - d.input_usd), 0, stamp])
        day += timedelta(days=1)
    with ch.connect() as client:
        client.insert("cache_feature_daily", features, column_names=FEATURE_COLUMNS)
        client.insert("cache_waste_daily", waste, column_names=WASTE_COLUMNS)



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    return emptied(module_ch)


def breaks(ch: ClickHouseResource, lines: AnomalyLines | None = None):
    with ch.connect() as client:
        return find_cache_breaks(client, NOW, lines or AnomalyLines())


def test_a_hit_ratio_that_drops_is_a_break_priced_in_the_savings_lost(ch):
    # usually 10M input tokens a day, 8M of them cache reads (80 %), saving 9M x 3 - 1M x 3.75 - 8M x 0.30
    # = $20.85 a day ($2.085 per million input tokens); yesterday 1M reads (10 %), saving 6 - 3.75 - 0.30 = $1.95
    write_days(ch, "answer", "claude-sonnet-4-5", sonnet(M, 8 * M), sonnet(8 * M, M))
    [found] = breaks(ch)
    assert (found.kind, found.day, found.target) == ("cache_hit_drop", BROKEN, "search/answer")
    assert (found.actual_ratio, found.expected_ratio, found.tokens, found.baseline_weeks) == (0.1, 0.8, 10 * M, 4)
    assert found.lost_usd == Decimal("18.9")  # 10M x $2.085 per million - $1.95
    assert found.models == (("claude-sonnet-4-5", Decimal("18.9")),)
    assert found.key == "anomaly:cache_hit_drop:2026-11-17:feature:search/answer"


def test_the_loss_is_on_the_model_that_broke_not_on_the_others_of_the_feature(ch):
    write_days(ch, "answer", "claude-sonnet-4-5", sonnet(M, 8 * M), sonnet(8 * M, M))
    write_days(ch, "answer", "claude-haiku-4-5", sonnet(4 * M, M))  # unchanged (priced like Sonnet here)
    [found] = breaks(ch)
    # the feature: 10M + 6M input a day, 8M + 1M reads (56.25 %) usually, 1M + 1M (12.5 %) yesterday; Haiku
    # lost nothing
    assert (found.actual_ratio, found.expected_ratio) == (0.125, 0.5625)
    assert (found.lost_usd, found.models) == (Decimal("18.9"), (("claude-sonnet-4-5", Decimal("18.9")),))


def test_cache_writes_no_longer_read_are_a_break_priced_at_their_write_premium(ch):
    # 10M 5-minute writes a day, usually 1M (10 %) never read, yesterday 8M (80 %); the premium of a write over
    # plain input is 18.75 - 15 = $3.75 per million: 8M - 10 % of 10M = 7M unread beyond the usual, $26.25
    write_days(ch, "review", "claude-opus-4-1", opus(10 * M, M), opus(10 * M, 8 * M))
    [found] = breaks(ch)
    assert (found.kind, found.target, found.actual_ratio, found.expected_ratio) == (
        "cache_unread_writes", "search/review", 0.8, 0.1)
    assert (found.tokens, found.lost_usd) == (10 * M, Decimal("26.25"))


def test_a_feature_whose_cache_works_as_usual_is_not_a_break(ch):
    write_days(ch, "answer", "claude-sonnet-4-5", sonnet(M, 8 * M))
    write_days(ch, "review", "claude-opus-4-1", opus(10 * M, M))
    assert breaks(ch) == []


def test_a_break_that_loses_less_than_the_minimum_stays_quiet(ch):
    write_days(ch, "answer", "claude-sonnet-4-5", sonnet(M, 8 * M), sonnet(8 * M, M))  # $18.90 lost
    assert breaks(ch, AnomalyLines(cache=CacheLines(min_lost_usd_per_day=Decimal(20)))) == []


def test_a_feature_that_rarely_hit_the_cache_cannot_break_it(ch):
    # usually 1M reads of 10M input (10 %, under the 20 % line), yesterday none
    write_days(ch, "answer", "claude-sonnet-4-5", sonnet(8 * M, M, writes=M), sonnet(9 * M, 0, writes=M), scale=10)
    assert breaks(ch) == []
