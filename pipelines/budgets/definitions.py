"""The budgets' Dagster definitions: the spend rollup and budget_status, the automation that refreshes them
after upstream changes, the budget_alerts sensor, and budget_guard_publish (the call-time guard's state)."""

from __future__ import annotations

from dagster import (
    AssetKey,
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    define_asset_job,
)

from pipelines.budgets.assets import budget_alerts, budget_status, spend_hourly
from pipelines.budgets.guard import budget_guard_publish

# Prices first: spend is priced with them (make demo and a manual refresh run this job).
refresh_budget_status = define_asset_job(
    "refresh_budget_status",
    selection=AssetSelection.assets(AssetKey("model_prices"), AssetKey("unit_prices"), spend_hourly, budget_status))

budget_rollup_automation = AutomationConditionSensorDefinition(
    "budget_rollup_automation",
    target=AssetSelection.assets(spend_hourly, budget_status),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Refreshes the spend rollup and budget_status after each ingest, allocation or price load.",
)

defs = Definitions(assets=[spend_hourly, budget_status], jobs=[refresh_budget_status],
                   sensors=[budget_alerts, budget_rollup_automation, budget_guard_publish])
