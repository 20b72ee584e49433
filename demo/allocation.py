"""The allocation step of ``make demo``: allocate the demo months, export the previous one, print it."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal

from dagster import DagsterInstance

from pipelines import settings
from pipelines.allocation.months import month_start, previous_month
from pipelines.definitions import defs
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

TOP_LINES = 12


def run_allocation_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    """Previous month (final where cost reports exist) and current month (provisional), then the export."""
    print("\n== allocation: showback, chargeback and the monthly export")
    rows, first, last = ch.query_rows(sql("allocation_admin_usage_extent"))[0]
    if not rows:
        print("no Admin API data in admin_usage_hourly (run the Admin API step first): nothing to allocate")
        return
    print(f"Admin API usage: {rows} rows, {first:%Y-%m-%d %H:00} .. {last:%Y-%m-%d %H:00} UTC")
    current = month_start(datetime.now(UTC).date())
    job = defs.resolve_job_def("allocate_month")
    for month in (previous_month(current), current):
        result = job.execute_in_process(instance=instance, partition_key=month.isoformat(), raise_on_error=False)
        checks = [(e.check_name, "pass" if e.passed else f"FAIL ({e.severity.value.lower()})")
                  for e in result.get_asset_check_evaluations()]
        print(f"\n{month:%Y-%m}: run {'succeeded' if result.success else 'FAILED'}")
        print(markdown_table(["check", "result"], checks))
    print_export(previous_month(current))


def print_export(month: date) -> None:
    stem = settings.export_dir() / f"chargeback-{month:%Y-%m}"
    manifest_path = stem.with_suffix(".manifest.json")
    if not manifest_path.exists():
        print(f"no export for {month:%Y-%m} (see the run above)")
        return
    manifest = json.loads(manifest_path.read_text())
    with open(stem.with_suffix(".csv"), newline="") as handle:
        lines = list(csv.DictReader(handle))
    lines.sort(key=lambda r: Decimal(r["allocated_cost_usd"]), reverse=True)
    print(f"\n== chargeback {manifest['month']} ({stem}.csv / .parquet, policy: {manifest['shared_cost_policy']})")
    print(markdown_table(
        ["cost centre", "team", "feature", "env", "model", "cost type", "allocated USD", "priced from", "share",
         "provisional"],
        [(r["cost_center"] or "(none)", r["team"], r["feature"], r["env"], r["model"], r["cost_type"],
          r["allocated_cost_usd"], r["priced_from"], r["share"], r["provisional"]) for r in lines[:TOP_LINES]]))
    by_centre: dict[str, Decimal] = {}
    for r in lines:
        by_centre[r["cost_center"]] = by_centre.get(r["cost_center"], Decimal(0)) + Decimal(r["allocated_cost_usd"])
    print()
    print(markdown_table(["cost centre", "allocated USD"], [(c or "(none)", a) for c, a in sorted(by_centre.items())]))
    print(f"\n{manifest['rows']} lines, allocated {manifest['allocated_cost_usd']} USD "
          f"(list price {manifest['list_cost_usd']} USD), provisional: {manifest['provisional']}")
