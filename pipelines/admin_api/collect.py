"""Fetch a time range of Admin API reports and replace that range in ClickHouse.

A fetch is written with one ``extracted_at`` (newer than any earlier fetch); rows of the range written
by an earlier fetch are then deleted. The tables are ReplacingMergeTree(extracted_at), so a re-run never
doubles a total, a bucket whose values changed (late data) ends at the new values, and a group that
disappeared between fetches leaves no stale row. HTTP happens before the database is opened.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from dagster import get_dagster_logger

from pipelines.admin_api.client import AdminApiClient, AdminApiError, Log, RequestStats
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

# Every dimension that changes the price (usage_report/messages: "group by any subset"; speed needs the
# fast-mode beta header, which the client sends). account_id / service_account_id do not change the price.
USAGE_GROUP_BY = ("api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo", "speed")
COST_GROUP_BY = ("workspace_id", "description")
USAGE_KEY_COLUMNS = ["bucket_start", "workspace_id", "api_key_id", "model", "service_tier", "context_window",
                     "inference_geo", "speed"]
TOKEN_COLUMNS = ["uncached_input_tokens", "cache_read_input_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "output_tokens", "web_search_requests"]
COST_KEY_COLUMNS = ["date", "workspace_id", "description", "cost_type", "model", "token_type", "service_tier",
                    "context_window", "inference_geo", "speed", "currency"]
USD_PLACES = Decimal("1e-12")  # admin_cost_daily.amount_usd is Decimal(38, 12)
DEFAULT_WORKSPACE_NAME = "Default workspace"


@dataclass
class Fetch:
    start: datetime
    end: datetime
    extracted_at: datetime
    buckets: int
    rows: int
    stats: RequestStats


@dataclass
class UsageFetch(Fetch):
    tokens: dict[str, int] = field(default_factory=dict)  # total per token column
    by_model: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class CostFetch(Fetch):
    total_usd: Decimal = Decimal(0)
    by_workspace: dict[str, Decimal] = field(default_factory=dict)


def fetch_time() -> datetime:
    """Now, truncated to the millisecond that ``extracted_at`` (DateTime64(3)) can hold."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _in_window(bucket: dict, start: datetime, end: datetime, path: str) -> datetime:
    bucket_start = parse_time(bucket["starting_at"])
    if not start <= bucket_start < end:
        raise AdminApiError(f"Admin API {path}: bucket {bucket['starting_at']} is outside the requested range")
    return bucket_start


def usage_tokens(result: dict) -> list[int]:
    """The token columns of one usage result, nested fields flattened, missing counts as 0."""
    creation = result.get("cache_creation") or {}
    tools = result.get("server_tool_use") or {}
    return [int(result.get("uncached_input_tokens") or 0), int(result.get("cache_read_input_tokens") or 0),
            int(creation.get("ephemeral_5m_input_tokens") or 0), int(creation.get("ephemeral_1h_input_tokens") or 0),
            int(result.get("output_tokens") or 0), int(tools.get("web_search_requests") or 0)]


def usage_rows(buckets: list[dict], start: datetime, end: datetime) -> dict[tuple, list[int]]:
    """(bucket_start, workspace, api key, model, tier, context window, geo, speed) -> token columns; null ids
    become '' and a null speed 'standard'."""
    rows: dict[tuple, list[int]] = {}
    for bucket in buckets:
        bucket_start = _in_window(bucket, start, end, "usage_report/messages")
        for result in bucket["results"]:
            key = (bucket_start, result.get("workspace_id") or "", result.get("api_key_id") or "",
                   result.get("model") or "", result.get("service_tier") or "", result.get("context_window") or "",
                   result.get("inference_geo") or "", result.get("speed") or "standard")
            tokens = usage_tokens(result)
            previous = rows.get(key)  # the same group twice in a bucket: add, never let one replace the other
            rows[key] = [a + b for a, b in zip(previous, tokens, strict=True)] if previous else tokens
    return rows


def amount_usd(amount: str, currency: str) -> Decimal:
    """The cost report's ``amount`` (a decimal string in cents) in USD, exactly: "0.01" -> 0.0001."""
    if currency != "USD":
        raise AdminApiError(f"Admin API cost_report: currency {currency!r} is not USD; amounts are not converted")
    usd = Decimal(amount).scaleb(-2)
    if usd != usd.quantize(USD_PLACES):
        raise AdminApiError(f"Admin API cost_report: amount {amount!r} cents has more places than Decimal(38, 12) USD")
    return usd


def cost_rows(buckets: list[dict], start: datetime, end: datetime) -> dict[tuple, Decimal]:
    rows: dict[tuple, Decimal] = defaultdict(Decimal)
    for bucket in buckets:
        day = _in_window(bucket, start, end, "cost_report").date()
        for result in bucket["results"]:
            currency = result.get("currency") or "USD"
            key = (day, result.get("workspace_id") or "", result.get("description") or "",
                   result.get("cost_type") or "", result.get("model") or "", result.get("token_type") or "",
                   result.get("service_tier") or "", result.get("context_window") or "",
                   result.get("inference_geo") or "", result.get("speed") or "", currency)
            rows[key] += amount_usd(str(result["amount"]), currency)
    return dict(rows)


def replace_usage_range(ch: ClickHouseResource, rows: list[list[Any]], start: datetime, end: datetime,
                        extracted_at: datetime) -> None:
    """Write a fetched range of hourly usage rows (key and token columns) and delete what earlier fetches left."""
    ch.replace("admin_usage_hourly", [*USAGE_KEY_COLUMNS, *TOKEN_COLUMNS, "extracted_at"],
                   [[*row, extracted_at] for row in rows], sql("admin_usage_hourly_clear_stale"),
                   {"start": start, "end": end, "extracted_at": extracted_at})


def collect_usage(api: AdminApiClient, ch: ClickHouseResource, start: datetime, end: datetime,
                  log: Log | None = None) -> UsageFetch:
    """Hourly usage in [start, end), grouped by every dimension the tables keep, replacing the range."""
    extracted_at = fetch_time()
    with api.session(log) as session:
        buckets = list(session.usage_report(start, end, "1h", USAGE_GROUP_BY))
    rows = usage_rows(buckets, start, end)
    replace_usage_range(ch, [[*key, *tokens] for key, tokens in rows.items()], start, end, extracted_at)
    totals: Counter[str] = Counter()
    by_model: dict[str, Counter[str]] = defaultdict(Counter)
    for key, tokens in rows.items():
        totals.update(dict(zip(TOKEN_COLUMNS, tokens, strict=True)))
        by_model[key[3]].update(dict(zip(TOKEN_COLUMNS, tokens, strict=True)))
    return UsageFetch(start, end, extracted_at, len(buckets), len(rows), session.stats,
                      tokens={c: totals[c] for c in TOKEN_COLUMNS},
                      by_model={m: {c: t[c] for c in TOKEN_COLUMNS} for m, t in sorted(by_model.items())})


def collect_cost(api: AdminApiClient, ch: ClickHouseResource, start: datetime, end: datetime,
                 log: Log | None = None) -> CostFetch:
    """Daily cost in [start, end) by workspace and description, replacing the range."""
    extracted_at = fetch_time()
    with api.session(log) as session:
        buckets = list(session.cost_report(start, end, COST_GROUP_BY))
    rows = cost_rows(buckets, start, end)
    ch.replace("admin_cost_daily", [*COST_KEY_COLUMNS, "amount_usd", "extracted_at"],
                   [[*key, usd, extracted_at] for key, usd in rows.items()],
                   sql("admin_cost_daily_clear_stale"),
                   {"start": start.date(), "end": end.date(), "extracted_at": extracted_at})
    by_workspace: dict[str, Decimal] = defaultdict(Decimal)
    for key, usd in rows.items():
        by_workspace[key[1]] += usd
    return CostFetch(start, end, extracted_at, len(buckets), len(rows), session.stats,
                     total_usd=sum(rows.values(), Decimal(0)), by_workspace=dict(sorted(by_workspace.items())))


def _optional_time(value: str | None) -> datetime | None:
    return parse_time(value) if value else None


@dataclass
class WorkspacesFetch:
    workspaces: int
    tagged: int  # workspaces with at least one tag stored
    malformed: list[str]  # one reason per tag (or tags value) not stored, naming the workspace
    stats: RequestStats


def workspace_tags(workspace: dict) -> tuple[dict[str, str], list[str]]:
    """A workspace's ``tags`` as stored, and why any part of it was not.

    The Admin API's workspace object carries ``tags``, user-defined string key-value pairs (keys may not begin
    with ``anthropic``): https://platform.claude.com/docs/en/api/admin-api/workspaces/get-workspace (Returns:
    ``tags``), set with create / update (https://platform.claude.com/docs/en/api/admin/workspaces/update.md).
    Missing or null is no tags. A tag whose key or value is not a string is left out with a reason naming the
    workspace and the tag; the workspace and its other tags are stored.
    """
    raw = workspace.get("tags")
    if raw is None:
        return {}, []
    wid = workspace["id"]
    if not isinstance(raw, dict):
        return {}, [f"workspace {wid}: tags is {type(raw).__name__} {raw!r:.80}, not a map of strings; no tags stored"]
    tags, problems = {}, []
    for key, value in raw.items():
        if isinstance(key, str) and isinstance(value, str):
            tags[key] = value
        else:
            problems.append(f"workspace {wid}: tag {key!r:.80} is {type(value).__name__} {value!r:.80}, not a "
                            "string; that tag is not stored")
    return tags, problems


def collect_workspaces(api: AdminApiClient, ch: ClickHouseResource, log: Log | None = None) -> WorkspacesFetch:
    """Workspaces (archived too) with their tags, plus the default workspace as '' so every usage row's id has
    a name. A malformed tag is logged (workspace id and tag) and left out; the other workspaces are unaffected."""
    extracted_at = fetch_time()
    with api.session(log) as session:
        workspaces = list(session.workspaces())
    rows: list[list[Any]] = [["", DEFAULT_WORKSPACE_NAME, "", {}, None, None, extracted_at]]
    malformed: list[str] = []
    for w in workspaces:
        tags, problems = workspace_tags(w)
        malformed += problems
        rows.append([w["id"], w.get("name") or "", w.get("display_color") or "", tags,
                     _optional_time(w.get("created_at")), _optional_time(w.get("archived_at")), extracted_at])
    for problem in malformed:
        (log or get_dagster_logger()).warning("Admin API workspaces: %s", problem)
    with ch.connect() as client:
        client.insert("admin_workspaces", rows, column_names=["workspace_id", "name", "display_color", "tags",
                                                              "created_at", "archived_at", "extracted_at"])
    return WorkspacesFetch(len(workspaces), sum(1 for row in rows if row[3]), malformed, session.stats)


def collect_api_keys(api: AdminApiClient, ch: ClickHouseResource, log: Log | None = None) -> tuple[int, RequestStats]:
    """API keys of every status (names, workspace, status; the API never returns key material)."""
    extracted_at = fetch_time()
    with api.session(log) as session:
        keys = list(session.api_keys())
    rows = [[k["id"], k.get("name") or "", k.get("workspace_id") or "", k.get("status") or "",
             k.get("partial_key_hint") or "", _optional_time(k.get("created_at")), extracted_at] for k in keys]
    if rows:
        with ch.connect() as client:
            client.insert("admin_api_keys", rows, column_names=["api_key_id", "name", "workspace_id", "status",
                                                                "partial_key_hint", "created_at", "extracted_at"])
    return len(keys), session.stats
