"""The Admin API step of ``make demo``: start the simulator, collect the demo window through Dagster, print totals.

The collector runs exactly as in production (the code location's jobs, one run per range), pointed at the
simulator through ``ANTHROPIC_BASE_URL`` and ``ANTHROPIC_ADMIN_API_KEY`` for the duration of the step.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from dagster import DagsterInstance, Definitions

from demo.events import demo_window
from demo.simulator.server import AdminApiSimulator, running_simulator
from pipelines.admin_api.assets import hour_partition_key, range_tags
from pipelines.definitions import build_definitions
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

QUIET = {"loggers": {"console": {"config": {"log_level": "INFO"}}}}  # not one DEBUG line per hour partition


@contextmanager
def collector_pointed_at(simulator: AdminApiSimulator) -> Iterator[None]:
    """Set the collector's two variables to the simulator, restoring whatever was there afterwards."""
    values = {"ANTHROPIC_BASE_URL": simulator.base_url, "ANTHROPIC_ADMIN_API_KEY": simulator.api_key}
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run(defs: Definitions, instance: DagsterInstance, job_name: str, tags: dict[str, str]) -> None:
    started = time.monotonic()
    result = defs.resolve_job_def(job_name).execute_in_process(instance=instance, tags=tags, run_config=QUIET)
    assert result.success, f"the {job_name} run failed; see the log above"
    first_of_asset = {}  # a range run materialises every partition with the same metadata
    for event in result.get_asset_materialization_events():
        first_of_asset.setdefault(event.asset_key.to_user_string(), event.materialization.metadata)
    for asset_name, meta in first_of_asset.items():
        facts = ", ".join(f"{name} {meta[name].value}" for name in ("range", "rows", "workspaces", "api_keys",
                                                                      "pages", "retries") if name in meta)
        print(f"{job_name}: {asset_name}: {facts}")
    print(f"{job_name}: run {result.run_id[:8]} in {time.monotonic() - started:.1f}s")


def run_admin_api_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    """Collect the demo window (previous month up to the last whole hour) from the simulator and print totals."""
    print("\n== Admin API: usage and cost reports from the bundled simulator")
    start, end = demo_window()
    last_day = (end - timedelta(days=1)).date()  # the last whole day: today's cost report is not final
    with running_simulator() as simulator, collector_pointed_at(simulator):
        print(f"simulator on {simulator.base_url}; hours {start:%Y-%m-%d %H:00} .. {end:%Y-%m-%d %H:00} UTC")
        defs = build_definitions()  # the code location as it loads with the two variables set
        _run(defs, instance, "collect_admin_dimensions", {})
        last_hour = end - timedelta(hours=1)
        hours = range_tags(hour_partition_key(start), hour_partition_key(last_hour))
        _run(defs, instance, "collect_admin_usage", hours)
        _run(defs, instance, "collect_admin_cost", range_tags(start.date().isoformat(), last_day.isoformat()))
    rows = ch.query_rows(sql("admin_api_monthly_totals"), {"start": start})
    print()
    print(markdown_table(
        ["month", "uncached input", "cache read", "cache write 5m", "cache write 1h", "output", "web searches",
         "cost USD (cost report)", "cost days"],
        [(f"{month:%Y-%m}", *(f"{n:,}" for n in tokens), f"{cost:,.2f}", days)
         for month, *tokens, cost, days in rows]))
