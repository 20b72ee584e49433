"""The one Dagster ``Definitions`` object of claude-ledger (loaded by ``workspace.yaml``)."""

from __future__ import annotations

from dagster import Definitions

from pipelines.admin_api.assets import (
    admin_api_keys,
    admin_cost_daily,
    admin_cost_job,
    admin_cost_schedule,
    admin_dimensions_job,
    admin_dimensions_schedule,
    admin_usage_hourly,
    admin_usage_job,
    admin_usage_schedule,
    admin_workspaces,
)
from pipelines.admin_api.client import AdminApiClient
from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.allocation.assets import (
    allocation,
    allocation_job,
    allocation_schedule,
    chargeback,
    chargeback_export,
)
from pipelines.budgets.assets import (
    budget_alerts,
    budget_automation_sensor,
    budget_status,
    refresh_budget_status_job,
    spend_hourly,
)
from pipelines.cache.assets import cache_analysis_job, cache_analysis_schedule, cache_opportunities
from pipelines.events.assets import ingest_usage_events_job, landing_zone_sensor, usage_events
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.kafka.assets import kafka_definitions
from pipelines.pricing.assets import model_prices
from pipelines.reliability.assets import rate_limit_health, rate_limit_health_job, rate_limit_health_schedule
from pipelines.reliability.sensors import rate_limit_alerts
from pipelines.storage.clickhouse import ClickHouseResource

defs = Definitions(
    assets=[usage_events, model_prices, spend_hourly, budget_status, allocation, chargeback, chargeback_export,
            cache_opportunities, admin_usage_hourly, admin_cost_daily, admin_workspaces, admin_api_keys],
    jobs=[ingest_usage_events_job, refresh_budget_status_job, allocation_job, cache_analysis_job, admin_usage_job,
          admin_cost_job, admin_dimensions_job],
    schedules=[allocation_schedule, cache_analysis_schedule, admin_usage_schedule, admin_cost_schedule,
               admin_dimensions_schedule],
    sensors=[landing_zone_sensor, budget_alerts, budget_automation_sensor],
    resources={
        "clickhouse": ClickHouseResource.from_env(),
        "landing_zone": LandingZone.from_env(),
        "slack": SlackResource.from_env(),
        "clock": Clock(),
        "admin_api": AdminApiClient(),
    },
)
# The Kafka source (asset, job, lag sensor) exists only when KAFKA_BOOTSTRAP_SERVERS and LEDGER_KAFKA_TOPIC are set.
defs = Definitions.merge(defs, kafka_definitions())
# Rate-limit health (docs/emitter.md): asset, job, hourly schedule and the Slack alert sensor.
defs = Definitions.merge(defs, Definitions(assets=[rate_limit_health], jobs=[rate_limit_health_job],
                                           schedules=[rate_limit_health_schedule], sensors=[rate_limit_alerts]))
