"""Dagster side of event ingest: the ``usage_events`` asset, its check, job and landing-zone sensor."""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines.events.ingest import FileRead, ingest_landing_zone
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.events.load import stored_events
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource

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
    def reading(path: Path, read: FileRead) -> None:
        first = read.line_offset + read.skip_lines + 1
        context.log.info(f"reading {path} ({'whole' if first == 1 else f'from line {first}'})")

    report = ingest_landing_zone(clickhouse, landing_zone.path, on_file=reading)
    stored = stored_events(clickhouse)
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
            "events_in_table": stored.count,
            "first_event_ts": str(report.first_ts or ""),
            "last_event_ts": str(report.last_ts or ""),
            "table_time_range": f"{stored.first_ts} .. {stored.last_ts}" if stored.count else "empty",
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
