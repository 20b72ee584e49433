"""The cache analysis' Dagster definitions: the cache_opportunities asset, its job and daily schedule."""

from __future__ import annotations

from dagster import DefaultScheduleStatus, Definitions, ScheduleDefinition, define_asset_job

from pipelines.cache.assets import cache_opportunities

cache_analysis = define_asset_job("cache_analysis", selection=[cache_opportunities])

cache_analysis_schedule = ScheduleDefinition(
    job=cache_analysis,
    cron_schedule="30 6 * * *",
    execution_timezone="UTC",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Refreshes the cache efficiency, waste and opportunities once a day.",
)

defs = Definitions(assets=[cache_opportunities], jobs=[cache_analysis], schedules=[cache_analysis_schedule])
