"""The one Dagster ``Definitions`` object of claude-ledger (loaded by ``workspace.yaml``)."""

from __future__ import annotations

from dagster import Definitions

from pipelines.events.assets import ingest_usage_events_job, landing_zone_sensor, usage_events
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.pricing.assets import model_prices
from pipelines.storage.clickhouse import ClickHouseResource

defs = Definitions(
    assets=[usage_events, model_prices],
    jobs=[ingest_usage_events_job],
    sensors=[landing_zone_sensor],
    resources={
        "clickhouse": ClickHouseResource.from_env(),
        "landing_zone": LandingZone.from_env(),
    },
)
