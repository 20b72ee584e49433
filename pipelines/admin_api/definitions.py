"""The Admin API collector's Dagster definitions: its assets, one job per report, and their schedules.

Schedules (UTC) skip with a reason while no Admin API key is configured. A scheduled run covers a range
of partitions (``range_tags``), fetched with pagination in one run. Anthropic restates usage and cost for
weeks, so the daily runs re-fetch the last ``admin_api.restatement_days`` (LEDGER_CONFIG, default 31) days.
The optional Analytics API source (``analytics_assets.analytics``: its asset, job and schedule) joins the code
location only with ``analytics_api.enabled`` (``pipelines.sources``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dagster import (
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from pipelines.admin_api.assets import (
    USAGE_LATE_HOURS,
    admin_api_keys,
    admin_cost_daily,
    admin_rate_limits,
    admin_usage_hourly,
    admin_workspaces,
    hour_partition_key,
    last_days_request,
    range_tags,
)
from pipelines.admin_api.client import AdminApiClient
from pipelines.admin_api.config import AdminApiConfig
from pipelines.ledger_config import LedgerConfig

NO_KEY = "ANTHROPIC_ADMIN_API_KEY is not set: the Admin API collector is idle"

collect_admin_usage = define_asset_job("collect_admin_usage", selection=[admin_usage_hourly],
                                       description="Admin API hourly usage of a range of hours.")
collect_admin_cost = define_asset_job("collect_admin_cost", selection=[admin_cost_daily],
                                      description="Admin API daily cost of a range of days.")
collect_admin_dimensions = define_asset_job(
    "collect_admin_dimensions", selection=[admin_workspaces, admin_api_keys, admin_rate_limits],
    description="Admin API workspaces, API keys and the configured rate limits (after the workspaces).")


@schedule(job=collect_admin_usage, cron_schedule="7 * * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING)
def admin_usage_schedule(context: ScheduleEvaluationContext, admin_api: AdminApiClient):
    """Hourly at :07: the last USAGE_LATE_HOURS whole hours in one run (late data is picked up)."""
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    now = context.scheduled_execution_time.astimezone(UTC)
    last = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    first = last - timedelta(hours=USAGE_LATE_HOURS - 1)
    return RunRequest(run_key=f"admin-usage-{hour_partition_key(last)}",
                      tags=range_tags(hour_partition_key(first), hour_partition_key(last)))


@schedule(job=collect_admin_usage, cron_schedule="40 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING)
def admin_restatement_schedule(context: ScheduleEvaluationContext, admin_api: AdminApiClient,
                               ledger_config: LedgerConfig):
    """Daily at 02:40: the hourly usage of the last restatement_days whole days again, in one run."""
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    days = ledger_config.section(AdminApiConfig).admin_api.restatement_days
    today = context.scheduled_execution_time.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    first, last = today - timedelta(days=days), today - timedelta(hours=1)
    return RunRequest(run_key=f"admin-usage-restated-{today:%Y-%m-%d}",
                      tags=range_tags(hour_partition_key(first), hour_partition_key(last)))


@schedule(job=collect_admin_cost, cron_schedule="20 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING)
def admin_cost_schedule(context: ScheduleEvaluationContext, admin_api: AdminApiClient, ledger_config: LedgerConfig):
    """Daily at 02:20: the last restatement_days whole days in one run."""
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    days = ledger_config.section(AdminApiConfig).admin_api.restatement_days
    return last_days_request("admin-cost", context.scheduled_execution_time, days)


@schedule(job=collect_admin_dimensions, cron_schedule="10 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING)
def admin_dimensions_schedule(context: ScheduleEvaluationContext, admin_api: AdminApiClient):
    """Daily at 02:10: workspaces and API keys (names for the reports), then the configured rate limits."""
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    scheduled: datetime = context.scheduled_execution_time
    return RunRequest(run_key=f"admin-dimensions-{scheduled:%Y-%m-%d}")


defs = Definitions(
    assets=[admin_usage_hourly, admin_cost_daily, admin_workspaces, admin_api_keys, admin_rate_limits],
    jobs=[collect_admin_usage, collect_admin_cost, collect_admin_dimensions],
    schedules=[admin_usage_schedule, admin_restatement_schedule, admin_cost_schedule, admin_dimensions_schedule],
)
