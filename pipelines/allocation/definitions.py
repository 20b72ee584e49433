"""The allocation's Dagster definitions: showback, chargeback and export of a month, their daily schedule, and
the restatement sensor that re-allocates a month when Anthropic changes its usage or cost afterwards."""

from __future__ import annotations

from datetime import UTC, timedelta

from dagster import (
    DefaultScheduleStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
    sensor,
)

from pipelines.admin_api.config import AdminApiConfig
from pipelines.alerts.clock import Clock
from pipelines.allocation.allocate import restated_months
from pipelines.allocation.assets import allocation, chargeback, chargeback_export, focus_export
from pipelines.allocation.months import month_start, previous_month
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource

RECHECK_PREVIOUS_MONTH_DAYS = 7  # cost reports of a month's last days still arrive in the next month's first week

allocate_month = define_asset_job(
    "allocate_month", selection=[allocation, chargeback, chargeback_export, focus_export],
    description="Showback, chargeback and exports (ledger columns and FOCUS 1.3) of one month.",
)


@schedule(job=allocate_month, cron_schedule="30 6 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.STOPPED)
def allocation_schedule(context: ScheduleEvaluationContext):
    """Daily: the current (provisional) month, and the previous one while its cost reports may still arrive."""
    today = context.scheduled_execution_time.astimezone(UTC).date()
    months = [month_start(today)]
    if today.day <= RECHECK_PREVIOUS_MONTH_DAYS:
        months.append(previous_month(months[0]))
    for month in months:
        yield RunRequest(run_key=f"{month.isoformat()}@{today.isoformat()}", partition_key=month.isoformat())


@sensor(job=allocate_month, minimum_interval_seconds=600, default_status=DefaultSensorStatus.RUNNING,
        description="Re-allocates, charges back and re-exports a month whose Admin API usage or cost report changed "
        "after it was allocated (Anthropic restates days for weeks): a final export then gets a correction.")
def restatement_sensor(context: SensorEvaluationContext, clickhouse: ClickHouseResource, clock: Clock,
                       ledger_config: LedgerConfig):
    days = ledger_config.section(AdminApiConfig).admin_api.restatement_days
    since = month_start(clock.now().date() - timedelta(days=days))
    months = restated_months(clickhouse, since)
    if not months:
        return SkipReason(f"no month since {since:%Y-%m} changed after its allocation")
    return [RunRequest(run_key=f"restated-{month.isoformat()}@{clock.now():%Y-%m-%dT%H:%M}",
                       partition_key=month.isoformat(), tags={"reason": "restated"}) for month in months]


defs = Definitions(assets=[allocation, chargeback, chargeback_export, focus_export], jobs=[allocate_month],
                   schedules=[allocation_schedule], sensors=[restatement_sensor])
