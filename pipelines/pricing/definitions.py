"""Pricing's Dagster definitions: the model_prices asset and the job that refreshes it."""

from __future__ import annotations

from dagster import Definitions, define_asset_job

from pipelines.pricing.assets import model_prices

refresh_prices = define_asset_job("refresh_prices", selection=[model_prices],
                                  description="Reload the price files and LEDGER_CONFIG `prices:` into ClickHouse.")

defs = Definitions(assets=[model_prices], jobs=[refresh_prices])
