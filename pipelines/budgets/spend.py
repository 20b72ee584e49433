"""The spend rollup behind budgets (``spend_hourly``) and the one read a budget tick makes of it.

Why a rollup table refreshed by an asset, and not a query over events per tick: a tick runs every
minute for every budget, and its cost must not grow with traffic. ``spend_hourly`` holds one row per
hour and (team, feature, env, workspace, api key, model family): its size grows with time and the number
of scopes only. The ``spend_hourly`` asset rewrites it from the start of the previous month after each ingest or
allocation run (whole months, swapped in atomically), taking each hour from exactly one source, so
nothing is counted twice:

- hours before the allocation's end (``allocation_hourly``: Admin-API-authoritative, allocated cost),
- later hours from usage events priced at list price (the Admin API has not reported them yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.budgets.periods import period_of
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


@dataclass(frozen=True)
class RollupRefresh:
    refreshed_from: datetime
    admin_priced_until: datetime | None  # None: nothing allocated yet, all hours event-priced
    rows: int
    spend_usd: Decimal
    unpriced_units: int


@dataclass(frozen=True)
class DailySpend:
    """Rollup spend of one day and scope, as a tick reads it."""

    day: date
    team: str
    feature: str
    env: str
    workspace_id: str
    api_key_id: str
    spend_usd: Decimal
    unpriced_units: int
    data_until: datetime
    spend_before_hour_usd: Decimal = Decimal(0)  # in the hours of the day before the hour of day asked for


def refresh_window_start(now: datetime) -> datetime:
    """The rollup is rewritten from the start of the previous month: late data for the period that
    just ended still reaches its budgets."""
    return period_of("month", now).previous().start


def refresh_spend_rollup(ch: ClickHouseResource, now: datetime) -> RollupRefresh:
    """Rebuild the months from the previous one on in a staging table and swap each into the rollup."""
    start = refresh_window_start(now)
    stamp = datetime.now(UTC)
    with ch.connect() as client:
        [[until]] = client.query(sql("spend_hourly_admin_priced_until")).result_rows
        until = until.replace(tzinfo=UTC) if until is not None else None
        client.command("TRUNCATE TABLE spend_hourly_staging")
        if until is not None and until > start:
            client.command(sql("spend_hourly_from_allocation"),
                           parameters={"from": start, "until": until, "refreshed_at": stamp})
        events_from = max(start, until) if until is not None else start
        client.command(sql("spend_hourly_from_events"), parameters={"from": events_from, "refreshed_at": stamp})
        months: dict[str, set[str]] = {}
        for partition_id, table in client.query(sql("spend_hourly_months_since"),
                                                parameters={"from": start}).result_rows:
            months.setdefault(partition_id, set()).add(table)
        for partition_id, tables in sorted(months.items()):
            rebuilt = "spend_hourly_staging" in tables
            swap = sql("spend_hourly_replace_month") if rebuilt else sql("spend_hourly_drop_month")
            client.command(swap, parameters={"partition_id": partition_id})
        [[rows, spend, unpriced]] = client.query(sql("spend_hourly_totals_since"),
                                                 parameters={"from": start}).result_rows
    return RollupRefresh(start, until, rows, spend, unpriced)


def read_daily_spend(client: Client, since: datetime, hour_of_day: int = 0) -> list[DailySpend]:
    """Spend per day and scope from ``since`` on; ``hour_of_day``: where ``spend_before_hour_usd`` stops
    (the forecast's hourly profile)."""
    rows = client.query(sql("spend_daily_since"), parameters={"since": since, "hour_of_day": hour_of_day}).result_rows
    return [DailySpend(day, team, feature, env, ws, key, spend, unpriced, until.replace(tzinfo=UTC), before)
            for day, team, feature, env, ws, key, spend, unpriced, until, before in rows]
