"""Dagster side of the Admin API collector: partitioned usage and cost assets and the dimension assets.

Partitions start on the earliest day with data, or ``LEDGER_PARTITIONS_START`` (``pipelines.storage.partitions``;
the allocation's monthly partitions start with that day's month). Every asset uses a single-run backfill policy:
a backfill of any range, e.g. a month of hours, is one run that fetches the range with pagination and replaces it
in one go.
"""

import warnings
from datetime import UTC, datetime, timedelta

from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    BetaWarning,
    DailyPartitionsDefinition,
    HourlyPartitionsDefinition,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    asset,
)

from pipelines.admin_api.client import AdminApiClient, RequestStats
from pipelines.admin_api.collect import (
    TOKEN_COLUMNS,
    collect_api_keys,
    collect_cost,
    collect_usage,
    collect_workspaces,
)
from pipelines.admin_api.rate_limits import ORGANIZATION, collect_rate_limits
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.partitions import partitions_start

PARTITIONS_START = partitions_start()
hourly_partitions = HourlyPartitionsDefinition(start_date=f"{PARTITIONS_START:%Y-%m-%d}-00:00", timezone="UTC")
daily_partitions = DailyPartitionsDefinition(start_date=f"{PARTITIONS_START:%Y-%m-%d}", timezone="UTC")
USAGE_LATE_HOURS = 6  # the hourly run re-fetches this many hours: usage data can arrive late
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"  # Dagster's tags for a one-run range
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def range_tags(first_key: str, last_key: str) -> dict[str, str]:
    """Run tags that make one run materialise partitions first_key..last_key (inclusive)."""
    return {PARTITION_RANGE_START_TAG: first_key, PARTITION_RANGE_END_TAG: last_key}


def last_days_request(run_key: str, scheduled: datetime, days: int) -> RunRequest:
    """One run of the ``days`` whole UTC days before ``scheduled``'s day (a daily schedule's re-fetch window),
    keyed ``run_key``-<the last day>."""
    today = scheduled.astimezone(UTC).date()
    last, first = today - timedelta(days=1), today - timedelta(days=days)
    return RunRequest(run_key=f"{run_key}-{last.isoformat()}", tags=range_tags(first.isoformat(), last.isoformat()))


def range_asset(**kwargs):
    """``@asset`` whose backfills run as one run per range (Dagster flags the parameter beta: noise here)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", BetaWarning)
        return asset(backfill_policy=BackfillPolicy.single_run(), **kwargs)


def request_metadata(stats: RequestStats) -> dict:
    """Every Admin API asset's request counts: pages, requests, retries and why."""
    return {
        "pages": stats.pages,
        "requests": stats.requests,
        "retries": stats.retries,
        "retry_reasons": ", ".join(f"{r}: {n}" for r, n in stats.retry_reasons.most_common()) or "none",
    }


@range_asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    partitions_def=hourly_partitions,
    description="Admin API usage_report/messages in 1h buckets grouped by api_key_id, workspace_id, model, "
    "service_tier and context_window: every token type (uncached input, cache read, 5m and 1h cache writes, "
    "output, web search requests). A re-fetched range replaces its rows (newest extracted_at wins, stale rows "
    "are deleted). Null ids are stored as '' (default workspace, console).",
)
def admin_usage_hourly(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient
) -> MaterializeResult:
    window = context.partition_time_window
    fetch = collect_usage(admin_api, clickhouse, window.start, window.end, log=context.log)
    context.log.info("admin_usage_hourly %s .. %s: %d buckets, %d rows, %d pages, %d retries",
                     window.start, window.end, fetch.buckets, fetch.rows, fetch.stats.pages, fetch.stats.retries)
    return MaterializeResult(metadata={
        "range": f"{window.start:%Y-%m-%d %H:00} .. {window.end:%Y-%m-%d %H:00} UTC",
        "buckets": fetch.buckets,
        "rows": fetch.rows,
        **request_metadata(fetch.stats),
        **{f"tokens_{column}": total for column, total in fetch.tokens.items()},
        "tokens_by_model": MetadataValue.md(markdown_table(
            ["model", *TOKEN_COLUMNS],
            [(model or "(none)", *(f"{t[c]:,}" for c in TOKEN_COLUMNS)) for model, t in fetch.by_model.items()])),
        "extracted_at": fetch.extracted_at.isoformat(),
    })


@range_asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    partitions_def=daily_partitions,
    description="Admin API cost_report per day grouped by workspace_id and description (cost_type, model, "
    "token_type, service_tier, context_window). amount_usd = the report's amount (a decimal string in cents) / "
    "100, exactly. Priority-tier cost is not in the report. A re-fetched range replaces its rows.",
)
def admin_cost_daily(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient
) -> MaterializeResult:
    window = context.partition_time_window
    fetch = collect_cost(admin_api, clickhouse, window.start, window.end, log=context.log)
    context.log.info("admin_cost_daily %s .. %s: %d buckets, %d rows, %s USD", window.start.date(),
                     window.end.date(), fetch.buckets, fetch.rows, fetch.total_usd)
    return MaterializeResult(metadata={
        "range": f"{window.start:%Y-%m-%d} .. {window.end:%Y-%m-%d} (exclusive)",
        "buckets": fetch.buckets,
        "rows": fetch.rows,
        **request_metadata(fetch.stats),
        "cost_usd": float(fetch.total_usd),  # for the UI's plot; the exact amount is in the table below
        "cost_by_workspace": MetadataValue.md(markdown_table(
            ["workspace", "USD"],
            [*((ws or "(default)", usd) for ws, usd in fetch.by_workspace.items()), ("total", fetch.total_usd)])),
        "extracted_at": fetch.extracted_at.isoformat(),
    })


@asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    description="Workspaces (ids -> names and tags, archived too) from the Admin API; '' is the default workspace. "
    "A malformed tag is logged with the workspace id and left out (docs/finance.md \"Cost centres from workspace "
    "tags\").",
)
def admin_workspaces(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient
) -> MaterializeResult:
    fetch = collect_workspaces(admin_api, clickhouse, log=context.log)
    return MaterializeResult(metadata={
        "workspaces": fetch.workspaces, "tagged_workspaces": fetch.tagged, "malformed_tags": len(fetch.malformed),
        **({"malformed": MetadataValue.md("\n".join(f"- {p}" for p in fetch.malformed))} if fetch.malformed else {}),
        **request_metadata(fetch.stats)})


@asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    description="API keys (ids -> names, workspace, status) from the Admin API; key material is never returned.",
)
def admin_api_keys(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient
) -> MaterializeResult:
    found, stats = collect_api_keys(admin_api, clickhouse, log=context.log)
    return MaterializeResult(metadata={"api_keys": found, **request_metadata(stats)})


@asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    deps=[AssetKey("admin_workspaces")],
    description="Configured rate limits from the Rate Limits API (table admin_rate_limits): the organisation's "
    "limits per rate-limit group (model groups list their models) and limiter type (requests, input and output "
    "tokens per minute, …), and each active workspace's, its overrides and what it inherits (include_inherited). "
    "One request for the organisation plus one per workspace; each fetch replaces the table (docs/monitoring.md).",
)
def admin_rate_limits(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient
) -> MaterializeResult:
    fetch = collect_rate_limits(admin_api, clickhouse, log=context.log)
    shown = [limit for limit in fetch.limits if limit.scope == ORGANIZATION] + fetch.overrides
    context.log.info("admin_rate_limits: %d limits of the organisation and %d workspaces, %d of them overrides",
                     len(fetch.limits), fetch.workspaces, len(fetch.overrides))
    return MaterializeResult(metadata={
        "workspaces": fetch.workspaces,
        "limits": len(fetch.limits),
        "workspace_overrides": len(fetch.overrides),
        **request_metadata(fetch.stats),
        "configured_limits": MetadataValue.md(markdown_table(
            ["scope", "group", "limiter", "value"],
            [(limit.scope, limit.group, limit.limit_type, f"{limit.value:,}") for limit in shown])),
        "fetched_at": fetch.fetched_at.isoformat(),
    })


def hour_partition_key(moment: datetime) -> str:
    """The key of the hourly partition starting at ``moment`` (a whole UTC hour)."""
    return moment.strftime("%Y-%m-%d-%H:00")
