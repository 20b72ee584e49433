"""``ledger status``: is the pipeline healthy — freshness of each source, the last runs, failing checks and
usage that has no price, on one screen."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from dagster import AssetCheckKey, DagsterInstance
from dagster._core.event_api import PartitionKeyFilter
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from pipelines.allocation.checks import unknown_models
from pipelines.allocation.months import month_start, previous_month
from pipelines.metadata import text_table
from pipelines.reports.freshness import Freshness, source_freshness, unpriced_by_month
from pipelines.storage.clickhouse import ClickHouseResource

LAST_RUNS = 8


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    minutes = int(seconds // 60)
    if minutes < 120:
        return f"{minutes} min"
    hours = minutes // 60
    return f"{hours} h" if hours < 48 else f"{hours // 24} days"


@dataclass(frozen=True)
class FailingCheck:
    check: str
    partition: str
    severity: str
    description: str


def failing_checks(instance: DagsterInstance, keys: Sequence[AssetCheckKey], months: Sequence[date]
                   ) -> list[FailingCheck]:
    """Checks whose latest result failed: per month partition for the months given, else their latest result."""
    storage = instance.event_log_storage
    latest = {(key, None): record for key, record in storage.get_latest_asset_check_execution_by_key(keys).items()}
    for month in months:
        found = storage.get_latest_asset_check_execution_by_key(keys, PartitionKeyFilter(key=month.isoformat()))
        latest.update({(key, month.isoformat()): record for key, record in found.items()})
    partitioned = {key for key, partition in latest if partition}
    failing = []
    for (key, partition), record in sorted(latest.items(), key=lambda kv: (kv[0][0].to_user_string(),
                                                                            kv[0][1] or "")):
        if (partition is None and key in partitioned) or record.status != AssetCheckExecutionRecordStatus.FAILED:
            continue
        evaluation = record.event.asset_check_evaluation if record.event else None
        failing.append(FailingCheck(
            key.to_user_string(), partition or record.partition or "-",
            evaluation.severity.value if evaluation else "?",
            (evaluation.description or "") if evaluation else ""))
    return failing


def status_report(ch: ClickHouseResource, instance: DagsterInstance | None, check_keys: Sequence[AssetCheckKey],
                  now: datetime | None = None, off: Collection[str] = ()) -> str:
    """``off``: the sources LEDGER_CONFIG leaves off (pipelines.sources), shown as off rather than never written."""
    now = now or datetime.now(UTC)
    current = month_start(now.date())
    months = [previous_month(current), current]
    lines = [f"claude-ledger status at {now:%Y-%m-%d %H:%M} UTC ({ch.describe()})", "", "Sources"]
    fresh: list[Freshness] = source_freshness(ch)
    lines += text_table(["source", "data until (UTC)", "last written", "age"], [
        (f.source, "-", "off", "-") if f.source in off else
        (f.source, f"{f.data_until:%Y-%m-%d %H:%M}" if f.data_until else "-",
         f"{f.written_at:%Y-%m-%d %H:%M}" if f.written_at else "never", age(f.age_s(now))) for f in fresh])
    lines += ["", f"Last runs (newest {LAST_RUNS})"]
    if instance is None:
        lines.append("no Dagster instance (set DAGSTER_HOME to see runs and checks)")
    else:
        records = instance.get_run_records(limit=LAST_RUNS)
        lines += text_table(["run", "job", "status", "started (UTC)", "took"], [
            (r.dagster_run.run_id[:8], r.dagster_run.job_name, r.dagster_run.status.value,
             f"{r.start_time and datetime.fromtimestamp(r.start_time, UTC):%Y-%m-%d %H:%M}" if r.start_time else "-",
             f"{r.end_time - r.start_time:.1f} s" if r.start_time and r.end_time else "-") for r in records]
        ) if records else ["no runs yet"]
        lines += ["", "Failing checks (latest result; monthly checks for " + ", ".join(f"{m:%Y-%m}" for m in months)
                  + ")"]
        failing = failing_checks(instance, check_keys, months)
        lines += [f"{f.severity:<5} {f.check} [{f.partition}]" + (f": {f.description}" if f.description else "")
                  for f in failing] or ["none"]
    lines += ["", "Unpriced usage"]
    rollup = unpriced_by_month(ch)
    lines += [f"spend rollup {m:%Y-%m}: {units:,} tokens or requests of models without a price (not in any spend)"
              for m, units in rollup] or ["spend rollup: none"]
    for month in months:  # the allocation's no_unknown_models check, run now
        result = unknown_models(ch, month)
        lines.append(f"Admin API usage {month:%Y-%m}: " + ("all priced" if result.passed else str(result.description)))
    return "\n".join(lines) + "\n"
