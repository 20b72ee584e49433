"""Event ingest's Dagster definitions: the usage_events asset, its job, and the landing-zone sensor."""

from __future__ import annotations

import hashlib
import json

from dagster import (
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.events.assets import usage_events
from pipelines.events.ingest import read_progress
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.storage.clickhouse import ClickHouseResource

ingest_usage_events = define_asset_job("ingest_usage_events", selection=[usage_events])


@sensor(
    job=ingest_usage_events,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts an ingest run when a landing-zone file appears or grows.",
)
def landing_zone_sensor(context: SensorEvaluationContext, landing_zone: LandingZone, clickhouse: ClickHouseResource):
    current = landing_zone.fingerprint()
    # A first tick (no cursor, e.g. `make dev` after `make demo`) starts from what ingest already read: files it
    # has read to their current size start no run (an empty run would hide the last real one in the UI).
    if context.cursor:
        previous = json.loads(context.cursor)
    else:
        with clickhouse.connect() as client:
            previous = {path: progress.file_size for path, progress in read_progress(client).items()}
    if current == previous:
        return SkipReason(f"no new or grown files in {landing_zone.path}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    changed = sorted(p for p, size in current.items() if previous.get(p) != size)
    state = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return RunRequest(run_key=f"landing-{state}", tags={"changed_files": str(len(changed))})


defs = Definitions(assets=[usage_events], jobs=[ingest_usage_events], sensors=[landing_zone_sensor])
