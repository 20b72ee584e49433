"""The Usage and Cost Analytics API (beta) cost report: fetch a range of days and replace it in ClickHouse.

Reference: the Claude Enterprise Analytics API reference guide
(https://support.claude.com/en/articles/13703965-claude-enterprise-analytics-api-reference-guide): base URL
``/v1/organizations/analytics/``, cursor pagination (``limit``, ``page`` = ``next_page`` while ``has_more``). The
cost endpoint's field list could not be read from the public reference when this was written; the fields follow
issue 14: ``amount`` (after discounts) and ``list_amount`` (decimal strings in cents, like the cost report),
``currency``, the page's ``data_refreshed_at`` watermark, at most the top 100 groups per bucket, and rows that
overlap (``row_type``: ``total``, ``group``, ``other``; docs/analytics_api.md). Overlapping rows are stored as
they are and never added up: a day's cost is its ``total`` row.

Off unless ``analytics_api.enabled`` in LEDGER_CONFIG; it uses the Admin API client (its retries, backoff and
key handling) and writes ``analytics_cost_daily`` and ``analytics_fetches``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pipelines.admin_api.client import AdminApiClient, AdminApiError, Log, RequestStats, rfc3339
from pipelines.admin_api.collect import amount_usd, fetch_time, parse_time
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost_report"
ROW_TYPES = ("total", "group", "other")
MAX_DAYS_PER_PAGE = 31
KEY_COLUMNS = ["date", "row_type", "workspace_id", "model", "currency"]
COLUMNS = [*KEY_COLUMNS, "groups", "list_amount_usd", "net_amount_usd", "data_refreshed_at", "extracted_at"]


@dataclass(frozen=True)
class AnalyticsRow:
    groups: int  # how many groups an 'other' row holds (0 otherwise)
    list_usd: Decimal
    net_usd: Decimal


@dataclass
class AnalyticsFetch:
    start: date
    end: date
    extracted_at: datetime
    data_refreshed_at: datetime
    days: int
    rows: int
    stats: RequestStats
    list_usd: Decimal = Decimal(0)  # the sum of the days' total rows, never of overlapping rows
    net_usd: Decimal = Decimal(0)
    capped_days: int = 0  # days whose groups went beyond the top groups (an 'other' row)
    by_day: list[tuple[date, Decimal, Decimal]] = field(default_factory=list)
    inconsistent_days: list[date] = field(default_factory=list)  # group rows + other differ from the total row


def inconsistent_days(rows: dict[tuple[date, str, str, str, str], AnalyticsRow]) -> list[date]:
    """Days whose group rows and 'other' row do not add up to the total row (a check only: the total is used)."""
    parts: dict[date, Decimal] = {}
    totals: dict[date, Decimal] = {}
    for (day, row_type, *_rest), row in rows.items():
        if row_type == "total":
            totals[day] = totals.get(day, Decimal(0)) + row.list_usd
        else:
            parts[day] = parts.get(day, Decimal(0)) + row.list_usd
    return sorted(day for day, total in totals.items() if day in parts and parts[day] != total)


def analytics_cost_rows(pages: list[dict], start: datetime, end: datetime
                        ) -> tuple[dict[tuple[date, str, str, str, str], AnalyticsRow], datetime]:
    """The pages' rows by (day, row_type, workspace, model, currency) and the oldest ``data_refreshed_at``.

    Null dimensions become ''; a null ``amount`` / ``list_amount``, an unknown ``row_type``, a row repeated in a
    bucket or a day without its total row is an error naming day, row and field (a guess could count twice)."""
    rows: dict[tuple[date, str, str, str, str], AnalyticsRow] = {}
    watermarks = []
    for body in pages:
        if not body.get("data_refreshed_at"):
            raise AdminApiError(f"Analytics API {ANALYTICS_COST_PATH}: data_refreshed_at is missing or null")
        watermarks.append(parse_time(str(body["data_refreshed_at"])))
        for bucket in body["data"]:
            bucket_start = parse_time(bucket["starting_at"])
            if not start <= bucket_start < end:
                raise AdminApiError(f"Analytics API {ANALYTICS_COST_PATH}: bucket {bucket['starting_at']} is outside "
                                    "the requested range")
            day = bucket_start.date()
            types = set()
            for index, result in enumerate(bucket["results"]):
                where = f"Analytics API {ANALYTICS_COST_PATH}: {day} results[{index}]"
                row_type = result.get("row_type")
                if row_type not in ROW_TYPES:
                    raise AdminApiError(f"{where}: row_type {row_type!r} is not one of {', '.join(ROW_TYPES)}")
                for name in ("amount", "list_amount"):
                    if result.get(name) is None:
                        raise AdminApiError(f"{where} ({row_type}): {name} is null")
                currency = result.get("currency") or "USD"
                key = (day, row_type, result.get("workspace_id") or "", result.get("model") or "", currency)
                if key in rows:
                    raise AdminApiError(f"{where}: the {row_type} row {key[2:4]} appears twice; rows are never added")
                rows[key] = AnalyticsRow(int(result.get("groups") or 0),
                                         amount_usd(str(result["list_amount"]), currency),
                                         amount_usd(str(result["amount"]), currency))
                types.add(row_type)
            if types and "total" not in types:
                raise AdminApiError(f"Analytics API {ANALYTICS_COST_PATH}: {day} has group rows but no total row")
    if not watermarks:
        raise AdminApiError(f"Analytics API {ANALYTICS_COST_PATH}: no page was returned")
    return rows, min(watermarks)


def fetch_analytics_cost(api: AdminApiClient, ch: ClickHouseResource, start: datetime, end: datetime,
                           group_by: tuple[str, ...], log: Log | None = None) -> AnalyticsFetch:
    """Daily Analytics API cost in [start, end) by ``group_by``, replacing the range; the fetch and its
    watermark are recorded in ``analytics_fetches``."""
    extracted_at = fetch_time()
    params: dict[str, Any] = {"starting_at": rfc3339(start), "ending_at": rfc3339(end), "bucket_width": "1d",
                              "group_by[]": list(group_by), "limit": MAX_DAYS_PER_PAGE}
    with api.session(log) as session:
        pages = list(session.report_pages(ANALYTICS_COST_PATH, params))
    rows, refreshed = analytics_cost_rows(pages, start, end)
    refreshed = refreshed.replace(microsecond=0)
    with ch.connect() as client:
        ch.replace("analytics_cost_daily", COLUMNS,
                   [[*key, r.groups, r.list_usd, r.net_usd, refreshed, extracted_at] for key, r in rows.items()],
                   sql("analytics_cost_daily_clear_stale"),
                   {"start": start.date(), "end": end.date(), "extracted_at": extracted_at})
        client.insert("analytics_fetches", [[extracted_at, start.date(), end.date(), refreshed, len(rows),
                                             session.stats.pages, session.stats.requests, session.stats.retries]],
                      column_names=["extracted_at", "start_date", "end_date", "data_refreshed_at", "rows", "pages",
                                    "requests", "retries"])
    totals = sorted((key[0], row.list_usd, row.net_usd) for key, row in rows.items() if key[1] == "total")
    return AnalyticsFetch(start.date(), end.date(), extracted_at, refreshed, len(totals), len(rows), session.stats,
                          list_usd=sum((t[1] for t in totals), Decimal(0)),
                          net_usd=sum((t[2] for t in totals), Decimal(0)),
                          capped_days=len({key[0] for key in rows if key[1] == "other"}), by_day=totals,
                          inconsistent_days=inconsistent_days(rows))
