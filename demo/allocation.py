"""The allocation step of ``make demo``: allocate the demo months, export and state them, print the previous one."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from demo.summary import say, shown, table
from pipelines import settings
from pipelines.allocation.months import month_start, previous_month
from pipelines.allocation.runs import run_month
from pipelines.definitions import defs
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


def run_allocation_demo(instance: DagsterInstance, ch: ClickHouseResource) -> list[date]:
    """Current month (provisional) and previous month (final where cost reports exist), in that order: the final
    month's runs are the latest, so the UI opens each monthly asset on it. Prints both, then the previous month's
    chargeback. Returns the months allocated, previous first (none: nothing to allocate)."""
    rows, _first, _last = ch.query_rows(sql("allocation_admin_usage_extent"))[0]
    if not rows:
        say("allocation", "no Admin API usage collected: nothing to allocate")
        return []
    current = month_start(datetime.now(UTC).date())
    job = defs.resolve_job_def("allocate_month")
    runs = [run_month(job, instance, month, LOG_LEVEL) for month in (current, previous_month(current))][::-1]
    say("allocation", "; ".join(run.summary() for run in runs))
    for advice in {e.description for e in runs[0].failed if e.description}:
        say("", advice)
    print_export(ch, runs[0].month)
    return [run.month for run in runs]


def run_statement_demo(instance: DagsterInstance, months: list[date]) -> None:
    """The statements of ``months`` (previous first), once budgets and the cache analysis are fresh (they draw
    both); the previous month's is written last, so the UI opens monthly_statement on it."""
    written = []
    for month in reversed(months):
        result = defs.resolve_job_def("publish_statement").execute_in_process(
            instance=instance, partition_key=month.isoformat(), run_config=LOG_LEVEL, raise_on_error=False)
        written.append(result.asset_materializations_for_node("monthly_statement")[0].metadata
                       if result.success else None)
    final = written[-1]
    if final is None:
        say("statement", "FAILED (see the log file)")
        return
    others = [f"{month:%Y-%m}'s" for month, meta in zip(reversed(months), written, strict=True) if meta][:-1]
    say("statement", f"{shown(Path(final['statement'].value))} ({final['charts'].value} charts, opens offline)"
        + (f"; {', '.join(others)} beside it" if others else ""))


def print_export(ch: ClickHouseResource, month: date) -> None:
    stem = settings.export_dir() / f"chargeback-{month:%Y-%m}"
    manifest_path = stem.with_suffix(".manifest.json")
    if not manifest_path.exists():
        say("chargeback", f"no export for {month:%Y-%m} (see the log file)")
        return
    manifest = json.loads(manifest_path.read_text())
    by_centre = dict(ch.query_rows(sql("chargeback_by_cost_centre"), {"month": month}))
    say("chargeback", f"{manifest['month']} {usd(Decimal(manifest['allocated_cost_usd']))}, policy "
        f"{manifest['shared_cost_policy']}, {manifest['rows']} lines: {shown(stem.with_suffix('.csv'))}")
    table(["cost centre", "charged"], [(c or "(none)", usd(a)) for c, a in by_centre.items()], right={1})
