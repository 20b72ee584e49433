"""The reports' Dagster definitions: the monthly statement and the automation that rewrites it after an export."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultSensorStatus,
    Definitions,
    define_asset_job,
)

from pipelines.reports.assets import monthly_statement

publish_statement = define_asset_job("publish_statement", selection=[monthly_statement],
                                     description="The statement of one month (after its chargeback export).")

statement_automation = AutomationConditionSensorDefinition(
    "statement_automation",
    target=AssetSelection.assets(monthly_statement),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Rewrites a month's statement after its chargeback export was rewritten.",
)

defs = Definitions(assets=[monthly_statement], jobs=[publish_statement], sensors=[statement_automation])
