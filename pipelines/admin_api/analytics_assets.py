"""Dagster side of the optional Analytics API source: the daily ``analytics_cost_daily`` asset, its check, job
and schedule (``analytics``, an optional source). Off (the default, ``analytics_api.enabled: false``) none of them
is in the code location, so nothing of it shows in the UI; nothing else in the pipeline changes."""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    DefaultScheduleStatus,
    Definitions,
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
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.metadata import markdown_table
from pipelines.sources import OptionalSource
from pipelines.storage.clickhouse import ClickHouseResource

NO_KEY = "ANTHROPIC_ADMIN_API_KEY is not set: the Analytics API collector is idle"
CHECK = "groups_add_up_to_the_total"


@range_asset(
    group_name="admin_api",
    kinds={"clickhouse"},
    partitions_def=daily_partitions,
    check_specs=[AssetCheckSpec(CHECK, asset="analytics_cost_daily",
                                description="Each day's group rows add up to its total. They fall short on a day "
                                "with more than 100 groups: the API reports only the top 100, and no remainder.")],
    description="Optional (LEDGER_CONFIG analytics_api.enabled; off, not in the code location): the Usage and Cost "
    "Analytics API (beta) cost report per day, list_amount and amount (net of discounts): the day's total (an "
    "ungrouped query) and its rows by analytics_api.group_by (a second query, never added up to the total). "
    "docs/analytics_api.md.",
)
def analytics_cost_daily(context: AssetExecutionContext, clickhouse: ClickHouseResource, admin_api: AdminApiClient,
                         ledger_config: LedgerConfig) -> MaterializeResult:
    settings = ledger_config.section(AnalyticsApiConfig).analytics_api
    window = context.partition_time_window
    fetch = fetch_analytics_cost(admin_api, clickhouse, window.start, window.end, settings.group_by, context.log)
    context.log.info("analytics_cost_daily %s .. %s: %d days, %d rows, list %s USD, net %s USD",
                     fetch.start, fetch.end, fetch.days, fetch.rows, fetch.list_usd, fetch.net_usd)
    return MaterializeResult(
        metadata={
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
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    return last_days_request("analytics-cost", context.scheduled_execution_time, settings.refetch_days)


def analytics_on(ledger_config: LedgerConfig) -> bool:
    """On with analytics_api.enabled; also when the section cannot be read, so its runs fail naming the problem."""
    try:
        return ledger_config.section(AnalyticsApiConfig).analytics_api.enabled
    except LedgerConfigError:
        return True


analytics = OptionalSource(
    Definitions(assets=[analytics_cost_daily], jobs=[collect_analytics_cost], schedules=[analytics_cost_schedule]),
    analytics_on, feeds=(AssetKey("chargeback_export"),))  # the export adds list, net and discount per line
