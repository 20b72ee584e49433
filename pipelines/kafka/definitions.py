"""The Kafka source's Dagster definitions, registered only when Kafka is configured.

Both sources write the same ``usage_events`` table, so every asset that reads it depends on
``kafka_usage_events`` as much as on the file source's ``usage_events``: ``feeding_event_readers`` adds that
dependency, so the asset graph shows true lineage and a Kafka-only deployment still refreshes spend,
allocation and the analyses downstream.
"""

from __future__ import annotations

import time

from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    DefaultSensorStatus,
    Definitions,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.kafka.assets import NOT_CONFIGURED, kafka_usage_events
from pipelines.kafka.lag import group_lag
from pipelines.kafka.resource import KafkaSource
from pipelines.sources import upstream_of

FILE_SOURCE = AssetKey("usage_events")
_ACTIVE = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
           DagsterRunStatus.STARTED]

ingest_kafka_usage_events = define_asset_job("ingest_kafka_usage_events", selection=[kafka_usage_events])


@sensor(
    job=ingest_kafka_usage_events,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts a Kafka ingest run when the consumer group is behind and no such run is going (a run "
    "whose process died, silent past LEDGER_KAFKA_STALE_RUN_SECONDS, is marked failed first).",
)
def kafka_lag_sensor(context: SensorEvaluationContext, kafka: KafkaSource):
    if not kafka.configured:
        return SkipReason(NOT_CONFIGURED)
    active = context.instance.get_runs(
        RunsFilter(job_name=ingest_kafka_usage_events.name, statuses=_ACTIVE), limit=1
    )
    if active and not _died(context.instance, active[0], kafka.stale_run_s):
        return SkipReason(f"run {active[0].run_id} is still reading {kafka.topic}")
    with kafka.consumer() as consumer:
        lags = group_lag(consumer, kafka.topic, kafka.timeout_s)
    lag = sum(p.lag for p in lags)
    if lag == 0:
        return SkipReason(f"consumer group {kafka.group_id} is at the end of {kafka.topic}")
    return RunRequest(tags={"kafka_lag": str(lag)})


def _died(instance: DagsterInstance, run: DagsterRun, stale_after_s: float) -> bool:
    """Whether a started run has logged nothing for ``stale_after_s`` (its process died: a SIGKILL, an OOM,
    a lost machine, so it will never end by itself); such a run is marked failed. The run logs a heartbeat
    at least every HEARTBEAT_S while it reads. Its uncommitted batch is read again by the next run."""
    if run.status != DagsterRunStatus.STARTED:
        return False  # queued or starting: Dagster's run monitoring (dagster.yaml) times those out
    records = instance.get_records_for_run(run.run_id, ascending=False, limit=1).records
    last = records[0].event_log_entry.timestamp if records else 0.0
    silent = time.time() - last
    if silent < stale_after_s:
        return False
    instance.report_run_failed(run, f"no heartbeat for {silent:.0f} s (more than {stale_after_s:.0f} s): the run's "
                                    "process has died; the next run resumes from the committed offsets")
    return True


defs = Definitions(assets=[kafka_usage_events], jobs=[ingest_kafka_usage_events], sensors=[kafka_lag_sensor])


def feeding_event_readers(pipeline: Definitions) -> Definitions:
    """``pipeline`` with the Kafka source upstream of every asset that reads usage_events."""
    return upstream_of(pipeline, kafka_usage_events.key,
                       lambda spec: FILE_SOURCE in {dep.asset_key for dep in spec.deps})
