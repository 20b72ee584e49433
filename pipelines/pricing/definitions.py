"""Pricing's Dagster definitions: the price assets, the job that refreshes them, and the automation that
rebuilds the price lookup whenever prices or the Admin API's reports change."""

from __future__ import annotations

from dagster import (
                                  AssetSelection,
                                  AutomationConditionSensorDefinition,
                                  DefaultSensorStatus,
                                  Definitions,
                                  define_asset_job,
)

from pipelines.pricing.assets import model_prices, unit_prices

refresh_prices = define_asset_job("refresh_prices", selection=[model_prices, unit_prices],
                                  description="Reload the price files and LEDGER_CONFIG `prices:`, relearn the cost "
                                  "report's rates, rebuild the price lookup.")

price_lookup_automation = AutomationConditionSensorDefinition(
    "price_lookup_automation",
    target=AssetSelection.assets(unit_prices),
    default_status=DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Rebuilds unit_prices after new list prices or a new fetch of the usage or cost report.",
)

defs = Definitions(assets=[model_prices, unit_prices], jobs=[refresh_prices], sensors=[price_lookup_automation])
