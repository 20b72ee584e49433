"""Dagster side of the Kafka source: the ``kafka_usage_events`` asset and its lag check.

Drive mode: a sensor looks at the group's lag every 30 s (broker metadata only, no group join) and starts
a run when there is something to read and no run is already going; the run drains up to the high
watermarks it saw at its start, in bounded batches, then ends. Every read is a normal Dagster run with
its metadata, retries and history, and nothing holds a consumer between runs.

Only registered when Kafka is configured (``pipelines/definitions.py``); the sensor still skips cleanly if
it is wired up without a topic.
"""


from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.events.load import stored_events
from pipelines.kafka.consume import DrainReport, drain
from pipelines.kafka.lag import PartitionLag
from pipelines.kafka.resource import KafkaSource
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource

NOT_CONFIGURED = "Kafka source off: set KAFKA_BOOTSTRAP_SERVERS and LEDGER_KAFKA_TOPIC to switch it on"


def lag_table(lags: list[PartitionLag]) -> str:
    return markdown_table(
        ["partition", "committed offset", "high watermark", "lag"],
        [(p.partition, "none" if p.committed is None else p.committed, p.high_watermark, p.lag) for p in lags],
    )


@asset(
    group_name="ingest",
    kinds={"kafka", "clickhouse"},
    check_specs=[AssetCheckSpec("kafka_lag_within_bound", asset="kafka_usage_events")],
    description="Usage events (schema v1, one per message) from the Kafka topic into usage_events; poison "
    "messages go to rejected_events with topic, partition, offset and reason.",
)
def kafka_usage_events(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, kafka: KafkaSource
) -> MaterializeResult:
    if not kafka.configured:
        raise RuntimeError(NOT_CONFIGURED)
    def alive(so_far: DrainReport) -> None:  # the lag sensor treats a run silent for long as dead
        context.log.info(f"still reading {kafka.topic}: {so_far.loaded + so_far.rejected} messages in "
                         f"{so_far.batches} batches so far")

    report = drain(clickhouse, kafka, heartbeat=alive)
    total = stored_events(clickhouse).count
    lag = sum(p.lag for p in report.lag)
    context.log.info("read %d messages from %s in %d batches: %d loaded, %d rejected; lag now %d",
                     report.loaded + report.rejected, kafka.topic, report.batches, report.loaded, report.rejected, lag)
    return MaterializeResult(
        metadata={
            "topic": kafka.topic,
            "consumer_group": kafka.group_id,
            "messages_read": report.loaded + report.rejected,
            "rows_loaded": report.loaded,
            "rows_rejected": report.rejected,
            "batches": report.batches,
            "events_in_table": total,
            "first_event_ts": str(report.first_ts or ""),
            "last_event_ts": str(report.last_ts or ""),
            "total_lag": lag,
            "lag": MetadataValue.md(lag_table(report.lag)),
            "messages_per_partition": MetadataValue.md(
                markdown_table(["partition", "messages"], sorted(report.messages.items()))
                if report.messages else "no new messages"
            ),
            "reject_reasons": MetadataValue.md(
                markdown_table(["reason", "messages"], report.reasons.most_common(10)) if report.reasons
                else "no rejected messages"
            ),
        },
        check_results=[
            AssetCheckResult(
                check_name="kafka_lag_within_bound",
                passed=lag <= kafka.max_lag,
                severity=AssetCheckSeverity.WARN,
                metadata={"total_lag": lag, "max_lag": kafka.max_lag},
                description="Messages on the topic the consumer group has not committed, after this run.",
            )
        ],
    )
