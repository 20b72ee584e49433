"""The allocation's Dagster definitions: showback, chargeback and export of a month, and their schedule."""

from __future__ import annotations

from datetime import UTC

from dagster import (
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from pipelines.allocation.assets import allocation, chargeback, chargeback_export
from pipelines.allocation.months import month_start, previous_month

RECHECK_PREVIOUS_MONTH_DAYS = 7  # cost reports of a month's last days still arrive in the next month's first week

allocate_month = define_asset_job(
    "allocate_month", selection=[allocation, chargeback, chargeback_export],
    description="Showback, chargeback and export of one month.",
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


defs = Definitions(assets=[allocation, chargeback, chargeback_export], jobs=[allocate_month],
                   schedules=[allocation_schedule])
