"""``make demo``: the whole pipeline, end to end, on the local ClickHouse server with the demo organisation.

No external service, no key, no network: the database is the local ClickHouse server of ``$LEDGER_HOME`` (started
if none runs, and left running for ``make dev``), the Admin API the bundled simulator. Runs go through the Dagster
instance in ``DAGSTER_HOME``, so ``make dev`` afterwards shows them, with their metadata and lineage, in the UI. The
terminal gets a one-screen summary (``demo.summary``; ``make demo VERBOSE=1`` adds every table and alert in full);
the runs' logs (every level) go to ``$LEDGER_HOME/logs/demo.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import date, timedelta

from dagster import DagsterInstance

from demo.admin_api import collector_pointed_at, run_admin_api_demo
from demo.allocation import run_allocation_demo, run_statement_demo
from demo.anomalies import run_anomaly_demo
from demo.budgets import run_budget_demo
from demo.cache import run_cache_demo
from demo.claude_code import run_claude_code_demo
from demo.dagster_logs import LOG_LEVEL
from demo.events import demo_window, write_demo_events
from demo.reliability import run_rate_limit_health_demo
from demo.simulator.server import running_simulator
from demo.summary import plural, say, shown
from pipelines import settings
from pipelines.definitions import defs
from pipelines.events.landing_zone import landing_files
from pipelines.storage.clickhouse import ClickHouseConnectionError, ClickHouseResource
from pipelines.storage.local_server import LocalServerError
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


def ingest_events(instance: DagsterInstance) -> str:
    events_dir = settings.events_dir()
    written = ""
    if not landing_files(events_dir):
        start, end = demo_window()
        count = write_demo_events(events_dir, start, end, gzip_before=(end - timedelta(days=7)).date())
        written = f" (of {count:,} written)"
    result = defs.resolve_job_def("ingest_usage_events").execute_in_process(instance=instance, run_config=LOG_LEVEL)
    assert result.success, "the ingest run failed; see the log file"
    return written


def print_event_summary(ch: ClickHouseResource, written: str) -> None:
    teams = ch.query_rows(sql("usage_events_by_team"))
    rejected = sum(row[1] for row in ch.query_rows(sql("rejected_events_by_reason")))
    events = sum(row[1] for row in teams)
    say("events", f"{events:,} stored for {plural(len(teams), 'team')}, {plural(rejected, 'bad line')} in "
        f"rejected_events{written}")


def print_next_steps(month: date | None) -> None:
    last = f"{month:%Y-%m}" if month else "YYYY-MM"
    print(f"""
Next: `make dev`: these runs in the Dagster UI (http://127.0.0.1:3000); the chargeback above in SQL:
      `.venv/bin/ledger sql "SELECT cost_center, sum(allocated_cost_usd) AS usd
         FROM finance_monthly_chargeback WHERE month = '{last}-01' GROUP BY 1 ORDER BY 1"`
      `.venv/bin/ledger report --month {last}`: the statement; `.venv/bin/ledger status`: freshness""")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--verbose", action="store_true", help="print every table and alert in full")
    verbose = parser.parse_args(argv).verbose
    instance = DagsterInstance.get()
    ch = ClickHouseResource.from_env()
    try:
        ch.query_rows("SELECT 1")
    except (ClickHouseConnectionError, LocalServerError) as exc:
        sys.exit(f"make demo: {exc}")
    start, end = demo_window()
    log_file = settings.dagster_log_file()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    print(f"claude-ledger demo: the demo organisation's traffic {start:%Y-%m-%d} .. {end:%Y-%m-%d %H:00} UTC")
    say("", f"in {ch.describe()}; logs: {shown(log_file)}")
    print()
    with open(log_file, "a") as log, contextlib.redirect_stderr(log):
        written = ingest_events(instance)
        prices = defs.resolve_job_def("refresh_prices").execute_in_process(instance=instance, run_config=LOG_LEVEL)
        assert prices.success, "the price refresh failed; see the log file"
        print_event_summary(ch, written)
        with running_simulator() as simulator, collector_pointed_at(simulator):  # one Admin API for both steps
            run_admin_api_demo(instance, ch, verbose)
            run_claude_code_demo(instance, ch, verbose)  # after the cost report: it splits its workspace's cost
        # The price lookup again, with the rates the cost report just taught (a model missing from the price file).
        prices = defs.resolve_job_def("refresh_prices").execute_in_process(instance=instance, run_config=LOG_LEVEL)
        assert prices.success, "the price refresh failed; see the log file"
        months = run_allocation_demo(instance, ch)  # after the Admin API step: it allocates what it collected
        run_budget_demo(instance, ch, verbose)  # after allocation; with no allocation it uses event-priced spend
        run_cache_demo(instance, ch, verbose)
        run_anomaly_demo(instance, ch, verbose)  # after budgets (the spend rollup) and the cache analysis (its rollups)
        run_rate_limit_health_demo(instance, ch, verbose)
        if months:
            run_statement_demo(instance, months)
    print_next_steps(months[0] if months else None)


if __name__ == "__main__":
    main()
