"""The allocation step of ``make demo``: allocate the demo months, export and state the previous one, print it."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from pipelines import settings
from pipelines.allocation.months import month_start, previous_month
from pipelines.definitions import defs
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)



def _checks(result) -> str:
    evaluations = result.get_asset_check_evaluations()
    passed = sum(1 for e in evaluations if e.passed)
    failed = [e for e in evaluations if not e.passed]
    return f"checks {passed} passed" + "".join(f", {e.check_name} {e.severity.value.lower()}" for e in failed)


def run_allocation_demo(instance: DagsterInstance, ch: ClickHouseResource) -> date | None:
    """Previous month (final where cost reports exist) and current month (provisional), the export and the
    statement of the previous one. Returns the previous month (None: nothing to allocate)."""
    rows, _first, _last = ch.query_rows(sql("allocation_admin_usage_extent"))[0]
    if not rows:
        print("allocation  no Admin API usage collected: nothing to allocate")
        return None
    current = month_start(datetime.now(UTC).date())
    job = defs.resolve_job_def("allocate_month")
    advice = ""
    for month in (previous_month(current), current):
        result = job.execute_in_process(instance=instance, partition_key=month.isoformat(), raise_on_error=False,
                                        run_config=LOG_LEVEL)
        meta = result.asset_materializations_for_node("allocation")[0].metadata if result.success else {}
        state = "final" if month < current else "provisional"
        total = f"${Decimal(meta['allocated_cost_usd'].value):,.2f}" if meta else "FAILED (see the log file)"
        print(f"allocation  {month:%Y-%m} ({state}): {total}; {_checks(result)}")
        for evaluation in result.get_asset_check_evaluations():
            if not evaluation.passed and evaluation.description and month < current:
                advice = evaluation.description
    if advice:
        print(f"            {advice}")
    month = previous_month(current)
    print_export(ch, month)
    return month


def run_statement_demo(instance: DagsterInstance, month: date) -> None:
    """The month's statement, once budgets and the cache analysis are fresh (it draws both)."""
    result = defs.resolve_job_def("publish_statement").execute_in_process(
        instance=instance, partition_key=month.isoformat(), run_config=LOG_LEVEL, raise_on_error=False)
    if not result.success:
        print("statement   FAILED (see the log file)")
        return
    meta = result.asset_materializations_for_node("monthly_statement")[0].metadata
    print(f"statement   {meta['statement'].value} ({meta['charts'].value} charts; opens offline)")


def print_export(ch: ClickHouseResource, month: date) -> None:
    stem = settings.export_dir() / f"chargeback-{month:%Y-%m}"
    manifest_path = stem.with_suffix(".manifest.json")
    if not manifest_path.exists():
        print(f"chargeback  no export for {month:%Y-%m} (see the log file)")
        return
    manifest = json.loads(manifest_path.read_text())
    by_centre = dict(ch.query_rows(sql("chargeback_by_cost_centre"), {"month": month}))
    print(f"chargeback  {manifest['month']}, policy {manifest['shared_cost_policy']}: every cost centre below; "
          f"its {manifest['rows']} lines are in {stem}.csv / .parquet")
    print(markdown_table(["cost centre", "charged USD"],
                         [*((c or "(none)", f"{a:,.2f}") for c, a in by_centre.items()),
                          ("total", f"{Decimal(manifest['allocated_cost_usd']):,.2f}")]))

