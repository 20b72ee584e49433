"""The Usage and Cost Analytics API (beta) cost report: fetch a range of days and replace it in ClickHouse.

The contract (docs/analytics_api.md; the anthropic Python SDK, ``resources/beta/organization/analytics/
cost_report.py`` and ``types/beta/organization/beta_analytics_cost_bucketed_result.py``, read 2026-12):
``GET /v1/organizations/analytics/cost_report`` with the ``analytics-usage-cost-2026-08-24`` beta header, daily
buckets of at most 31 days per query, cursor pages (``next_page``). Each bucket's ``results`` hold ``amount`` (after
discounts, before credits) and ``list_amount`` in fractional cents, a ``currency`` and the grouped dimensions.
Ungrouped, a bucket has one combined row: the day's total. Grouped, at most the top 100 groups and no remainder
row, so group rows can fall short of the total. The collector therefore asks twice: without ``group_by[]`` for each
day's total (the only figure the chargeback uses, row_type 'total') and with it for the breakdown (row_type
'group'); it never adds group rows up to a total.

Off unless ``analytics_api.enabled`` in LEDGER_CONFIG; it uses the Admin API client (its retries, backoff and
key handling) and writes ``analytics_cost_daily`` and ``analytics_fetches``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from pipelines.admin_api.client import ANALYTICS_COST_PATH, AdminApiClient, AdminApiError, Log, RequestStats
from pipelines.admin_api.collect import amount_usd, fetch_time, parse_time
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

MAX_DAYS_PER_QUERY = 31  # "The range may span at most 31 days"
TOP_GROUPS = 100  # a bucket's group rows at most; beyond them the API reports nothing
KEY_COLUMNS = ["date", "row_type", "product", "model", "currency"]
COLUMNS = [*KEY_COLUMNS, "list_amount_usd", "net_amount_usd", "extracted_at"]
Key = tuple[date, str, str, str, str]


@dataclass(frozen=True)
class AnalyticsRow:
    list_usd: Decimal
    net_usd: Decimal


@dataclass
class AnalyticsFetch:
    start: date
    end: date
    extracted_at: datetime
    days: int
    rows: int
    stats: RequestStats
    list_usd: Decimal = Decimal(0)  # the sum of the days' totals, never of group rows
    net_usd: Decimal = Decimal(0)
    capped_days: int = 0  # days with the top 100 groups: groups beyond them are not reported
    by_day: list[tuple[date, Decimal, Decimal]] = field(default_factory=list)
    short_days: list[date] = field(default_factory=list)  # group rows fall short of (or exceed) the total


def short_days(rows: dict[Key, AnalyticsRow]) -> list[date]:
    """Days whose group rows do not add up to the day's total (a check only: the total is what is used)."""
    parts: dict[date, Decimal] = {}
    totals: dict[date, Decimal] = {}
    for (day, row_type, *_rest), row in rows.items():
        target = totals if row_type == "total" else parts
        target[day] = target.get(day, Decimal(0)) + row.list_usd
    return sorted(day for day, listed in parts.items() if listed != totals.get(day))


def analytics_cost_rows(buckets: Iterable[dict], start: datetime, end: datetime, row_type: str
                        ) -> dict[Key, AnalyticsRow]:
    """The buckets' rows by (day, row_type, product, model, currency); ``row_type`` 'total' (an ungrouped query:
    one row a bucket at most) or 'group'. Null dimensions become ''; a null ``amount`` / ``list_amount``, a
    second row in an ungrouped bucket or a group repeated in a bucket is an error naming day, row and field (a
    guess could count twice)."""
    rows: dict[Key, AnalyticsRow] = {}
    for bucket in buckets:
        bucket_start = parse_time(bucket["starting_at"])
        if not start <= bucket_start < end:
            raise AdminApiError(f"Analytics API {ANALYTICS_COST_PATH}: bucket {bucket['starting_at']} is outside "
                                "the requested range")
        day = bucket_start.date()
        results = bucket["results"]
        if row_type == "total" and len(results) > 1:
            raise AdminApiError(f"Analytics API {ANALYTICS_COST_PATH}: {day} has {len(results)} rows without "
                                "group_by[]; one total was expected")
        for index, result in enumerate(results):
            where = f"Analytics API {ANALYTICS_COST_PATH}: {day} results[{index}] ({row_type})"
            for name in ("amount", "list_amount"):
                if result.get(name) is None:
                    raise AdminApiError(f"{where}: {name} is null")
            currency = result.get("currency") or "USD"
            key = (day, row_type, result.get("product") or "", result.get("model") or "", currency)
            if key in rows:
                raise AdminApiError(f"{where}: the group {key[2:4]} appears twice; rows are never added")
            rows[key] = AnalyticsRow(amount_usd(str(result["list_amount"]), currency),
                                     amount_usd(str(result["amount"]), currency))
    return rows


def query_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[start, end) in consecutive windows of at most 31 days, the longest range one query may span."""
    windows = []
    while start < end:
        windows.append((start, min(start + timedelta(days=MAX_DAYS_PER_QUERY), end)))
        start = windows[-1][1]
    return windows


def fetch_analytics_cost(api: AdminApiClient, ch: ClickHouseResource, start: datetime, end: datetime,
                         group_by: tuple[str, ...], log: Log | None = None) -> AnalyticsFetch:
    """Daily Analytics API cost in [start, end): each day's total and its rows by ``group_by``, replacing the
    range; the fetch is recorded in ``analytics_fetches``."""
    extracted_at = fetch_time()
    rows: dict[Key, AnalyticsRow] = {}
    with api.session(log) as session:
        for window_start, window_end in query_windows(start, end):
            rows |= analytics_cost_rows(session.analytics_cost_report(window_start, window_end, ()),
                                        window_start, window_end, "total")
            if group_by:
                rows |= analytics_cost_rows(session.analytics_cost_report(window_start, window_end, group_by),
                                            window_start, window_end, "group")
    with ch.connect() as client:
        ch.replace("analytics_cost_daily", COLUMNS,
                   [[*key, r.list_usd, r.net_usd, extracted_at] for key, r in rows.items()],
                   sql("analytics_cost_daily_clear_stale"),
                   {"start": start.date(), "end": end.date(), "extracted_at": extracted_at})
        client.insert("analytics_fetches", [[extracted_at, start.date(), end.date(), len(rows),
                                             session.stats.pages, session.stats.requests, session.stats.retries]],
                      column_names=["extracted_at", "start_date", "end_date", "rows", "pages", "requests",
                                    "retries"])
    totals = sorted((key[0], row.list_usd, row.net_usd) for key, row in rows.items() if key[1] == "total")
    groups_per_day = Counter(key[0] for key in rows if key[1] == "group")
    return AnalyticsFetch(start.date(), end.date(), extracted_at, len(totals), len(rows), session.stats,
                          list_usd=sum((t[1] for t in totals), Decimal(0)),
                          net_usd=sum((t[2] for t in totals), Decimal(0)),
                          capped_days=sum(1 for n in groups_per_day.values() if n >= TOP_GROUPS), by_day=totals,
                          short_days=short_days(rows))
