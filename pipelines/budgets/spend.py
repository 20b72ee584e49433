"""The spend rollup behind budgets (``spend_hourly``) and the one read a budget tick makes of it.

Why a rollup table refreshed by an asset, and not a query over events per tick: a tick runs every
minute for every budget, and its cost must not grow with traffic. ``spend_hourly`` holds one row per
hour and (team, feature, env, workspace, api key, model family): its size grows with time and the number
of scopes only. The ``spend_hourly`` asset rewrites it after each ingest or allocation run (built aside and
exchanged with the table readers use, atomically), taking each hour from exactly one source, so nothing is
counted twice:

- hours before the allocation's end (``allocation_hourly``: Admin-API-authoritative, allocated cost),
- later hours from usage events priced at list price (the Admin API has not reported them yet).

Only what changed since the last refresh is rebuilt: from the earliest hour of the events written since
(``usage_events_changes``, filled by a view on every write to usage_events), of an allocation month that
was rewritten, or of the hours whose source moved with the allocation's end; hours before it in the same
month are copied from the rollup, earlier months attached as they are. Never earlier than the start of the
previous month (late data for the period that just ended still reaches its budgets). New prices, a first
refresh, or a rollup changed by anyone else rebuild that whole window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.budgets.periods import period_of
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.rebuild import rebuilt
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


# Tables whose partitions' state tells what changed (besides usage_events, which records its own changes).
# Price tables: any change rebuilds the whole window. A new price table belongs in PRICE_TABLES.
PRICE_TABLES = ("unit_prices",)  # the price lookup spend_hourly_from_events joins (rebuilt by refresh_prices)
ALLOCATION_TABLE = "allocation_hourly"
ROLLUP_TABLE = "spend_hourly"
# A write whose block was stamped up to this long before a refresh started may commit after the refresh read
# the changes: the next refresh reads this far back again and skips the changes the last one had seen.
IN_FLIGHT = timedelta(minutes=10)


@dataclass(frozen=True)
class RollupRefresh:
    refreshed_from: datetime | None  # the first hour rebuilt; None: nothing changed, nothing rebuilt
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
    person: str = ""  # a person's pseudonym: Claude Code spend, counted by person budgets only


def refresh_window_start(now: datetime) -> datetime:
    """The rollup is rewritten from the start of the previous month: late data for the period that
    just ended still reaches its budgets."""
    return period_of("month", now).previous().start


def _utc(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _month_start(hour: datetime) -> datetime:
    return hour.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _inputs(client: Client) -> dict[str, int]:
    tables = [*PRICE_TABLES, ALLOCATION_TABLE, ROLLUP_TABLE]
    return dict(client.query(sql("spend_inputs_state"), parameters={"tables": tables}).result_rows)


@dataclass(frozen=True)
class _Changes:
    start: datetime | None  # the earliest hour whose spend may differ from the rollup's; None: none
    seen: list[str]  # usage_events_changes ids recent enough that the next refresh reads them again


def _changed_from(client: Client, floor: datetime, until: datetime | None, inputs: dict[str, int],
                  stamp: datetime) -> _Changes:
    """What changed since the last refresh (never before ``floor``)."""
    last = client.query(sql("spend_last_refresh")).result_rows
    refreshed_at, last_until, last_inputs, seen_before = last[0] if last else (None, None, {}, [])
    since = (_utc(refreshed_at) if refreshed_at else floor) - IN_FLIGHT
    changes = client.query(sql("spend_events_changed_since"), parameters={"since": since}).result_rows
    seen = [str(id) for id, changed_at, _ in changes if _utc(changed_at) >= stamp - IN_FLIGHT]
    if not last:
        return _Changes(floor, seen)
    changed = {key.split("/", 1)[0] for key in inputs.keys() | last_inputs.keys()
               if inputs.get(key) != last_inputs.get(key)}
    if changed & {*PRICE_TABLES, ROLLUP_TABLE}:
        return _Changes(floor, seen)
    candidates = [datetime.strptime(key.split("/", 1)[1], "%Y%m%d").replace(tzinfo=UTC)
                  for key in inputs.keys() | last_inputs.keys()
                  if key.startswith(f"{ALLOCATION_TABLE}/") and inputs.get(key) != last_inputs.get(key)]
    last_until = _utc(last_until)
    if until != last_until:  # the hours between the two ends changed source
        candidates += [u for u in (until, last_until) if u is not None]
    skipped = {str(id) for id in seen_before}
    new_hours = [_utc(hour) for id, _, hour in changes if str(id) not in skipped]
    if new_hours:  # hours the allocation covers take nothing from events
        candidates.append(max(min(new_hours), until) if until is not None else min(new_hours))
    return _Changes(max(floor, min(candidates)) if candidates else None, seen)


def refresh_spend_rollup(ch: ClickHouseResource, now: datetime) -> RollupRefresh:
    """Rebuild the hours that changed since the last refresh in a table of its own and swap it in for the rollup."""
    floor = refresh_window_start(now)
    stamp = datetime.now(UTC)
    with ch.connect() as client:
        [[until]] = client.query(sql("spend_hourly_admin_priced_until")).result_rows
        until = _utc(until)
        changes = _changed_from(client, floor, until, _inputs(client), stamp)
        start = changes.start
        if start is not None:
            _rebuild(client, start, until, stamp)
        client.insert("spend_refreshes", [[stamp, start, until, _inputs(client), changes.seen]],
                      column_names=["refreshed_at", "rebuilt_from", "admin_priced_until", "inputs", "changes_seen"])
        [[rows, spend, unpriced]] = client.query(sql("spend_hourly_totals_since"),
                                                 parameters={"from": floor}).result_rows
    return RollupRefresh(start, until, rows, spend, unpriced)


def _rebuild(client: Client, start: datetime, until: datetime | None, stamp: datetime) -> None:
    """Build the whole rollup in a table of this refresh's own and exchange it with ``spend_hourly``
    (``pipelines.storage.rebuild``).

    The months before ``start``'s are attached as they are (hard links: no row is read), its earlier hours copied,
    the hours from ``start`` on rebuilt. The exchange is one rename on disk, so a reader, or a crash of the server,
    finds the old rollup or the new one; a month's REPLACE PARTITION is two renames (the new part, then the empty
    part covering the old ones), and a crash between them leaves the month twice. The build table is the refresh's
    own because on a server nothing serialises refreshes: two runs filling one shared staging table counted months
    twice or three times, or swapped in an empty rollup (tests/budgets/test_spend_crash.py).
    """
    with rebuilt(client, "spend_hourly") as build:
        month_start = _month_start(start)
        for [partition_id] in client.query(sql("spend_hourly_months_before"),
                                           parameters={"month_start": month_start}).result_rows:
            client.command(sql("spend_hourly_attach_month"), parameters={"build": build, "partition_id": partition_id})
        if start > month_start:
            client.command(sql("spend_hourly_keep_before"),
                           parameters={"build": build, "month_start": month_start, "from": start})
        if until is not None and until > start:
            client.command(sql("spend_hourly_from_allocation"),
                           parameters={"build": build, "from": start, "until": until, "refreshed_at": stamp})
        events_from = max(start, until) if until is not None else start
        client.command(sql("spend_hourly_from_events"),
                       parameters={"build": build, "from": events_from, "refreshed_at": stamp})


def read_daily_spend(client: Client, since: datetime, hour_of_day: int = 0) -> list[DailySpend]:
    """Spend per day and scope from ``since`` on; ``hour_of_day``: where ``spend_before_hour_usd`` stops
    (the forecast's hourly profile)."""
    rows = client.query(sql("spend_daily_since"), parameters={"since": since, "hour_of_day": hour_of_day}).result_rows
    return [DailySpend(day, team, feature, env, ws, key, spend, unpriced, until.replace(tzinfo=UTC), before)
            for day, team, feature, env, ws, key, spend, unpriced, until, before in rows]
