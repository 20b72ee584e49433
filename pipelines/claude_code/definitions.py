"""Claude Code's Dagster definitions: the collector and team-spend assets, one job, a daily schedule.

The schedule (02:30 UTC, after the cost report's 02:20) re-fetches the last ``admin_api.restatement_days``
(LEDGER_CONFIG, default 31) whole days in one run: one report call per day, plus a call per further page.
It skips while no Admin API key is configured.
"""

from __future__ import annotations

from dagster import (
    DefaultScheduleStatus,
    Definitions,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from pipelines.admin_api.assets import last_days_request
from pipelines.admin_api.client import AdminApiClient
from pipelines.admin_api.config import AdminApiConfig
from pipelines.admin_api.definitions import NO_KEY
from pipelines.claude_code.assets import claude_code_team_daily, claude_code_usage_daily
from pipelines.ledger_config import LedgerConfig

collect_claude_code = define_asset_job(
    "collect_claude_code", selection=[claude_code_usage_daily, claude_code_team_daily],
    description="Claude Code usage of a range of days, then its spend per team and reconciliation.")


@schedule(job=collect_claude_code, cron_schedule="30 2 * * *", execution_timezone="UTC",
          default_status=DefaultScheduleStatus.RUNNING)
def claude_code_schedule(context: ScheduleEvaluationContext, admin_api: AdminApiClient, ledger_config: LedgerConfig):
    """Daily at 02:30: the last restatement_days whole days in one run."""
    if not admin_api.configured:
        return SkipReason(NO_KEY)
    days = ledger_config.section(AdminApiConfig).admin_api.restatement_days
    return last_days_request("claude-code", context.scheduled_execution_time, days)


defs = Definitions(assets=[claude_code_usage_daily, claude_code_team_daily], jobs=[collect_claude_code],
                   schedules=[claude_code_schedule])
