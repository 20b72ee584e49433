"""Anomalies' Dagster definitions: the spend_anomalies and cache_breaks assets, their job and hourly schedule,
and the anomaly_alerts sensor (which reads the rollups itself, so alerts do not wait for the schedule)."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, Definitions, ScheduleDefinition, define_asset_job

from pipelines.anomalies.assets import cache_breaks, spend_anomalies
from pipelines.anomalies.sensors import anomaly_alerts

refresh_anomalies = define_asset_job("refresh_anomalies", selection=[spend_anomalies, cache_breaks])

refresh_anomalies_schedule = ScheduleDefinition(
    job=refresh_anomalies,
    cron_schedule="20 * * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refreshes the spend_anomalies and cache_breaks tables every hour.",
)

defs = Definitions(assets=[spend_anomalies, cache_breaks], jobs=[refresh_anomalies],
                   schedules=[refresh_anomalies_schedule], sensors=[anomaly_alerts])
