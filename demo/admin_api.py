"""The Admin API step of ``make demo``: collect the demo window from the simulator through Dagster, print totals.

The collector runs exactly as in production (the code location's jobs, one run per range), pointed at the
simulator through ``ANTHROPIC_BASE_URL`` and ``ANTHROPIC_ADMIN_API_KEY`` (``collector_pointed_at``, which the
demo holds open for this step and the Claude Code one).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from dagster import DagsterInstance, Definitions

from demo.dagster_logs import LOG_LEVEL
from demo.events import demo_window
from demo.simulator.server import AdminApiSimulator
from demo.summary import plural, say, table
from pipelines.admin_api.assets import hour_partition_key, range_tags
from pipelines.definitions import build_definitions
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)



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
    result = defs.resolve_job_def(job_name).execute_in_process(instance=instance, tags=tags, run_config=LOG_LEVEL)
    assert result.success, f"the {job_name} run failed; see the demo's log file"


def run_admin_api_demo(instance: DagsterInstance, ch: ClickHouseResource, verbose: bool = False) -> None:
    """Collect the demo window (previous month up to the last whole hour) from the simulator the collector is
    pointed at, and print the cost report per month (``verbose``: and the tokens)."""
    start, end = demo_window()
    last_day = (end - timedelta(days=1)).date()  # the last whole day: today's cost report is not final
    defs = build_definitions()  # the code location as it loads with the two variables set
    _run(defs, instance, "collect_admin_dimensions", {})
    last_hour = end - timedelta(hours=1)
    hours = range_tags(hour_partition_key(start), hour_partition_key(last_hour))
    _run(defs, instance, "collect_admin_usage", hours)
    _run(defs, instance, "collect_admin_cost", range_tags(start.date().isoformat(), last_day.isoformat()))
    rows = ch.query_rows(sql("admin_api_monthly_totals"), {"start": start})
    say("Admin API", "cost report (bundled simulator) " + "; ".join(
        f"{month:%Y-%m}: {usd(cost or 0)} ({plural(days or 0, 'day')})" for month, *_tokens, cost, days in rows))
    if verbose:
        table(["month", "input tokens (all kinds)", "output tokens", "web searches"],
              [(f"{month:%Y-%m}", f"{sum(tokens[:4]):,}", f"{tokens[4]:,}", f"{tokens[5]:,}")
               for month, *tokens, _cost, _days in rows], right={1, 2, 3})
