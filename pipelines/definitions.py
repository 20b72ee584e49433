"""The Dagster code location (``workspace.yaml``): every domain's definitions, combined with the resources.

Each domain folder keeps its own ``definitions.py``; this module only merges them. The Kafka source joins
when ``KAFKA_BOOTSTRAP_SERVERS`` and ``LEDGER_KAFKA_TOPIC`` are set, upstream of every asset that reads
``usage_events``; an optional source of ``OPTIONAL_SOURCES`` joins when LEDGER_CONFIG turns it on
(``pipelines.sources``): off, nothing of it is in the code location. A problem in LEDGER_CONFIG is logged here,
one line per section, when the code location loads; only the assets that read that section fail until it is
fixed.
"""

from __future__ import annotations

import atexit
import gc

from dagster import Definitions, get_dagster_logger, in_process_executor

from pipelines.admin_api import definitions as admin_api
from pipelines.admin_api.analytics_assets import analytics
from pipelines.admin_api.client import AdminApiClient
from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.allocation import definitions as allocation
from pipelines.anomalies import definitions as anomalies
from pipelines.budgets import definitions as budgets
from pipelines.budgets.guard_resource import GuardRedis
from pipelines.cache import definitions as cache
from pipelines.claude_code import definitions as claude_code
from pipelines.claude_code.pseudonyms import Pseudonymiser
from pipelines.events import definitions as events
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.kafka import definitions as kafka
from pipelines.kafka.resource import KafkaSource
from pipelines.ledger_config import ConfigSection, LedgerConfig
from pipelines.pricing import definitions as pricing
from pipelines.reliability import definitions as reliability
from pipelines.reports import definitions as reports
from pipelines.sources import with_sources
from pipelines.storage.clickhouse import ClickHouseResource

DOMAINS = (events.defs, pricing.defs, admin_api.defs, allocation.defs, budgets.defs, cache.defs, reliability.defs,
           anomalies.defs, reports.defs, claude_code.defs)
OPTIONAL_SOURCES = (analytics,)


def build_definitions() -> Definitions:
    """The code location as the environment configures it (read when called: tests call it again)."""
    ledger_config = LedgerConfig.from_env()
    for problem in ledger_config.file().problems(ConfigSection.registered):
        get_dagster_logger().warning("LEDGER_CONFIG: %s", problem)
    resources = {
        "clickhouse": ClickHouseResource.from_env(),
        "landing_zone": LandingZone.from_env(),
        "slack": SlackResource.from_env(),
        "clock": Clock(),
        "admin_api": AdminApiClient.from_env(),
        "ledger_config": ledger_config,
        "guard_redis": GuardRedis.from_env(),
        "pseudonyms": Pseudonymiser.from_env(),
    }
    # Each run's steps run in the run's own process: a process per step would import the whole code location again
    # (seconds, the most of a short run), while the work itself is done by ClickHouse.
    pipeline = with_sources(Definitions.merge(*DOMAINS, Definitions(resources=resources, executor=in_process_executor)),
                            OPTIONAL_SOURCES, ledger_config)
    source = KafkaSource.from_env()
    if not source.configured:
        return pipeline
    return kafka.feeding_event_readers(
        Definitions.merge(pipeline, kafka.defs, Definitions(resources={"kafka": source})))


defs = build_definitions()

# A process that loaded the code location (a run, `dagster asset materialize`, the code server) spent about 0.6 s of
# CPU on exit in the garbage collector's final passes over Dagster's and our modules, classes and functions (a
# quarter of a short run's CPU: docs/performance.md, the fixed cost of one run). Frozen at exit, the collector skips
# them and the operating system frees the memory at once; the exit handlers still run and objects that are not in
# a reference cycle are still released (files closed, buffers flushed).
atexit.register(gc.freeze)
