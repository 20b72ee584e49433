"""The cache refresh: efficiency, waste and opportunities, computed in ClickHouse (docs/cache.md).

Python only picks the window and runs the SQL in ``sql/cache_*.sql``; every per-event step (ordering a
prefix's uses, the gap to the previous use, the next cache read after a write, pricing) is a ClickHouse
window function, ASOF JOIN or aggregate, so the work grows in the database, not in this process.

The window: the last ``lookback_days`` of usage events, ending at the latest event (not the wall clock,
so a late or replayed source is analysed as it is). The daily rollups are rewritten from the first day
of the window on (from the first day of data on a first run, or from the last day they hold after a
pause); the opportunities are replaced whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.cache.minimums import load_cache_minimums
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.rebuild import rebuilt
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

DAYS_PER_MONTH = 30  # the "monthly" saving is per 30 days


@dataclass(frozen=True)
class Opportunity:
    rank: int
    team: str
    feature: str
    model: str
    prompt_prefix_hash: str
    prefix_tokens: int
    uses: int
    recommended_ttl: str
    cache_writes: int
    cache_reads: int
    uncached_cost_usd: Decimal
    cached_cost_usd: Decimal
    saving_usd: Decimal
    monthly_saving_usd: Decimal


@dataclass(frozen=True)
class PrefixCoverage:
    """Prefixes sent uncached in the window, and how many the analysis had to leave out."""

    uncached_prefixes: int = 0
    below_minimum: int = 0
    no_minimum: int = 0
    unpriced: int = 0


@dataclass(frozen=True)
class CacheRefresh:
    window_start: datetime | None  # None: no usage events yet
    window_end: datetime | None
    refreshed_from: date | None  # the first day the rollups were rewritten from
    minimums: int
    coverage: PrefixCoverage
    events_savings_usd: Decimal  # this and the following figures: from the first day of the window on
    admin_savings_usd: Decimal
    wasted_tokens: int
    wasted_premium_usd: Decimal
    opportunities: int
    monthly_saving_usd: Decimal


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _rewrite_daily(client: Client, table: str, query: str, day: date, **parameters: object) -> None:
    client.command(sql("cache_rollup_clear_since"), parameters={"table": table, "from": day})
    client.command(query, parameters={"from": _day_start(day), **parameters})


def _resume_day(window_start: datetime, first_day: date, rollup_last_day: date | None) -> date:
    """The first day to rewrite: the window's, or earlier where the rollup stops before it (or is empty)."""
    return min(window_start.date(), rollup_last_day or first_day)


def _refresh_events(client: Client, start: datetime, end: datetime, day: date, lookback_days: int,
                    stamp: datetime, opportunities: str) -> PrefixCoverage:
    _rewrite_daily(client, "cache_feature_daily", sql("cache_feature_daily_from_events"), day, computed_at=stamp)
    _rewrite_daily(client, "cache_waste_daily", sql("cache_waste_daily_from_events"), day, until=end, computed_at=stamp)
    client.command(sql("cache_opportunities_from_events"), parameters={
        "target": opportunities, "start": start, "end": end, "lookback_days": lookback_days, "computed_at": stamp})
    window = {"start": start, "end": end}
    return PrefixCoverage(*client.query(sql("cache_prefix_coverage"), parameters=window).result_rows[0])


def refresh_cache_analysis(ch: ClickHouseResource, lookback_days: int = DAYS_PER_MONTH,
                           cache_minimums: Mapping[str, int] | None = None) -> CacheRefresh:
    """Reload the cache minimums (bundled, with ``cache_minimums`` from LEDGER_CONFIG on top), rewrite the
    rollups of the window and replace the opportunities (rebuilt whole and swapped in), one refresh at a time (the
    server lock ``cache_analysis``: two rewriting the same days at once would each delete them and both insert)."""
    if lookback_days < 1:
        raise ValueError("lookback_days must be at least 1")
    stamp = datetime.now(UTC)
    lookback = timedelta(days=lookback_days)
    coverage, start, rewritten_from = PrefixCoverage(), None, []
    with ch.exclusive("cache_analysis") as client:
        minimums = load_cache_minimums(client, cache_minimums or {})
        events_first, events_end, events_last, admin_first, admin_end, admin_last = \
            client.query(sql("cache_analysis_extent")).result_rows[0]
        events_end, admin_end = _utc(events_end), _utc(admin_end)
        with rebuilt(client, "cache_opportunities") as opportunities:
            if events_end:
                start = events_end - lookback
                rewritten_from.append(_resume_day(start, events_first, events_last))
                coverage = _refresh_events(client, start, events_end, rewritten_from[-1], lookback_days, stamp,
                                           opportunities)
        if admin_end:
            rewritten_from.append(_resume_day(admin_end - lookback, admin_first, admin_last))
            _rewrite_daily(client, "cache_key_daily", sql("cache_key_daily_from_admin"), rewritten_from[-1],
                           computed_at=stamp)
        window_day = (start or (admin_end - lookback if admin_end else stamp)).date()
        totals = client.query(sql("cache_analysis_totals"), parameters={"from": window_day}).result_rows[0]
    events_savings, admin_savings, wasted_tokens, wasted_premium, count, monthly = totals
    return CacheRefresh(
        window_start=start, window_end=events_end, refreshed_from=min(rewritten_from, default=None),
        minimums=len(minimums), coverage=coverage,
        events_savings_usd=Decimal(events_savings), admin_savings_usd=Decimal(admin_savings),
        wasted_tokens=int(wasted_tokens), wasted_premium_usd=Decimal(wasted_premium),
        opportunities=int(count), monthly_saving_usd=Decimal(monthly),
    )


def top_opportunities(ch: ClickHouseResource, limit: int = 10) -> list[Opportunity]:
    """The best opportunities of the latest analysis, largest estimated monthly saving first."""
    rows = ch.query_rows(sql("cache_opportunities_top"), {"limit": limit})
    return [Opportunity(*row) for row in rows]
