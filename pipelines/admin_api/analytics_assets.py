"""Dagster side of the optional Analytics API source: the daily ``analytics_cost_daily`` asset, its check, job
and schedule. Off (the default, ``analytics_api.enabled: false``) the schedule skips with the reason and a
launched run fetches nothing and says so in its metadata; nothing else in the pipeline changes."""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    DefaultScheduleStatus,
    MaterializeResult,
    MetadataValue,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from pipelines.admin_api.analytics import fetch_analytics_cost
from pipelines.admin_api.assets import daily_partitions, last_days_request, range_asset, request_metadata
from pipelines.admin_api.client import AdminApiClient
from pipelines.admin_api.config import AnalyticsApiConfig
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource

OFF = "analytics_api.enabled is false in LEDGER_CONFIG: the Analytics API source is off, nothing was fetched"
NO_KEY = "ANTHROPIC_ADMIN_API_KEY is not set: the Analytics API collector is idle"
CHECK = "groups_add_up_to_the_total"


@range_asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    partitions_def=daily_partitions,
    check_specs=[AssetCheckSpec(CHECK, asset="analytics_cost_daily",
                                description="Each day's group rows add up to its total. They fall short on a day "
                                "with more than 100 groups: the API reports only the top 100, and no remainder.")],
    description="Optional (LEDGER_CONFIG analytics_api.enabled): the Usage and Cost Analytics API (beta) cost report "
    "per day, list_amount and amount (net of discounts): the day's total (an ungrouped query) and its rows by "
    "analytics_api.group_by (a second query, never added up to the total). Off: fetches nothing. "
    "docs/analytics_api.md.",
)
def analytics_cost_daily(context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient,
                         ledger_config: LedgerConfig) -> MaterializeResult:
    settings = ledger_config.section(AnalyticsApiConfig).analytics_api
    if not settings.enabled:
        context.log.info(OFF)
        return MaterializeResult(metadata={"analytics_api": "off", "reason": OFF, "rows": 0},
                                 check_results=[AssetCheckResult(check_name=CHECK, passed=True,
                                                                 metadata={"analytics_api": "off"})])
    window = context.partition_time_window
    fetch = fetch_analytics_cost(admin_api, clickhouse, window.start, window.end, settings.group_by, context.log)
    context.log.info("analytics_cost_daily %s .. %s: %d days, %d rows, list %s USD, net %s USD",
                     fetch.start, fetch.end, fetch.days, fetch.rows, fetch.list_usd, fetch.net_usd)
    return MaterializeResult(
        metadata={
            "analytics_api": "on",
            "range": f"{fetch.start} .. {fetch.end} (exclusive)",
            "days": fetch.days,
            "rows": fetch.rows,
            "days_at_top_groups": fetch.capped_days,
            **request_metadata(fetch.stats),
            "list_cost_usd": str(fetch.list_usd.normalize()),  # exact, as text: money is never a float
            "net_cost_usd": str(fetch.net_usd.normalize()),
            "discount_usd": str((fetch.list_usd - fetch.net_usd).normalize()),
            "by_day": MetadataValue.md(markdown_table(
                ["day", "list USD", "net USD", "discount USD"],
                [(day, f"{lst:,.2f}", f"{net:,.2f}", f"{lst - net:,.2f}") for day, lst, net in fetch.by_day])),
            "extracted_at": fetch.extracted_at.isoformat(),
        },
        check_results=[AssetCheckResult(
            check_name=CHECK, passed=not fetch.short_days, severity=AssetCheckSeverity.WARN,
            metadata={"days": ", ".join(str(d) for d in fetch.short_days) or "none"})],
    )


collect_analytics_cost = define_asset_job(
    "collect_analytics_cost", selection=[analytics_cost_daily],
    description="Analytics API daily cost of a range of days (optional source, analytics_api.enabled).")


@schedule(job=collect_analytics_cost, cron_schedule="50 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING)
def analytics_cost_schedule(context: ScheduleEvaluationContext, admin_api: AdminApiClient,
                            ledger_config: LedgerConfig):
    """Daily at 02:50: the last analytics_api.refetch_days whole days (final only after ~30 days), in one run."""
    settings = ledger_config.section(AnalyticsApiConfig).analytics_api
    if not settings.enabled:
        return SkipReason(OFF)
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    return last_days_request("analytics-cost", context.scheduled_execution_time, settings.refetch_days)
