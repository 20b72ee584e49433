"""Dagster side of event ingest: the ``usage_events`` asset, its check, job and landing-zone sensor."""


import hashlib
import json

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    RunRequest,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    sensor,
)

from pipelines.events.ingest import ingest_landing_zone
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import load_sql

REJECT_RATE_WARN = 0.01


@asset(
    group_name="ingest",
    kinds={"clickhouse"},
    check_specs=[AssetCheckSpec("reject_rate_below_1_percent", asset="usage_events")],
    description="Application usage events (schema v1) from the landing directory; bad lines go to "
    "rejected_events with file, line and reason.",
)
def usage_events(
    context: AssetExecutionContext, clickhouse: ClickHouseResource, landing_zone: LandingZone
) -> MaterializeResult:
    report = ingest_landing_zone(clickhouse, landing_zone.path)
    total, first, last = clickhouse.query_rows(load_sql("usage_events_totals"))[0]
    context.log.info(
        "loaded %d lines and rejected %d from %d files into %s",
        report.loaded, report.rejected, len(report.files), clickhouse.describe(),
    )
    read = report.loaded + report.rejected
    rate = report.rejected / read if read else 0.0
    return MaterializeResult(
        metadata={
            "files": len(report.files),
            "rows_loaded": report.loaded,
            "rows_rejected": report.rejected,
            "events_in_table": total,
            "first_event_ts": str(report.first_ts or ""),
            "last_event_ts": str(report.last_ts or ""),
            "table_time_range": f"{first} .. {last}" if total else "empty",
            "reject_reasons": MetadataValue.md(
                markdown_table(["reason", "lines"], report.reasons.most_common(10)) if report.reasons
                else "no rejected lines"
            ),
            "files_read": MetadataValue.md(
                markdown_table(["file", "loaded", "rejected"],
                               [(p.rsplit("/", 1)[-1], a, b) for p, (a, b) in sorted(report.files.items())[:20]])
                if report.files else "no new data"
            ),
        },
        check_results=[
            AssetCheckResult(
                check_name="reject_rate_below_1_percent",
                passed=rate <= REJECT_RATE_WARN,
                severity=AssetCheckSeverity.WARN,
                metadata={"reject_rate": rate, "rows_rejected": report.rejected},
                description="Share of lines read in this run that went to rejected_events.",
            )
        ],
    )


ingest_usage_events_job = define_asset_job("ingest_usage_events", selection=[usage_events])


@sensor(
    job=ingest_usage_events_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Starts an ingest run when a landing-zone file appears or grows.",
)
def landing_zone_sensor(context: SensorEvaluationContext, landing_zone: LandingZone):
    current = landing_zone.fingerprint()
    previous = json.loads(context.cursor) if context.cursor else {}
    if current == previous:
        return SkipReason(f"no new or grown files in {landing_zone.path}")
    context.update_cursor(json.dumps(current, sort_keys=True))
    changed = sorted(p for p, size in current.items() if previous.get(p) != size)
    state = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:16]
    return RunRequest(run_key=f"landing-{state}", tags={"changed_files": str(len(changed))})
