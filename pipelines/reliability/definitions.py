"""Rate-limit health's Dagster definitions: the asset, its job and hourly schedule, and the alert sensor."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, Definitions, ScheduleDefinition, define_asset_job

from pipelines.reliability.assets import rate_limit_health
from pipelines.reliability.sensors import rate_limit_alerts

refresh_rate_limit_health = define_asset_job("refresh_rate_limit_health", selection=[rate_limit_health])

rate_limit_health_schedule = ScheduleDefinition(
    job=refresh_rate_limit_health,
    cron_schedule="5 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refreshes rate-limit health every hour.",
)

defs = Definitions(assets=[rate_limit_health], jobs=[refresh_rate_limit_health],
                   schedules=[rate_limit_health_schedule], sensors=[rate_limit_alerts])
