"""``make demo``: the whole pipeline, end to end, on the embedded database with the demo organisation.

No server, no key, no network. Runs go through the Dagster instance in ``DAGSTER_HOME``, so
``make dev`` afterwards shows them, with their metadata and lineage, in the UI.
"""

from __future__ import annotations

from datetime import timedelta

from dagster import DagsterInstance

from demo.admin_api import run_admin_api_demo
from demo.allocation import run_allocation_demo
from demo.anomalies import run_anomaly_demo
from demo.budgets import run_budget_demo
from demo.cache import run_cache_demo
from demo.events import demo_window, write_demo_events
from demo.reliability import run_rate_limit_health_demo
from pipelines import settings
from pipelines.definitions import defs
from pipelines.events.landing_zone import landing_files
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


def _section(title: str) -> None:
    print(f"\n== {title}")


def ingest_events(instance: DagsterInstance) -> None:
    events_dir = settings.events_dir()
    if not landing_files(events_dir):
        start, end = demo_window()
        count = write_demo_events(events_dir, start, end, gzip_before=(end - timedelta(days=7)).date())
        print(f"wrote {count} demo usage events ({start:%Y-%m-%d} .. {end:%Y-%m-%d %H:00} UTC) to {events_dir}")
    result = defs.resolve_job_def("ingest_usage_events").execute_in_process(instance=instance)
    assert result.success, "the ingest run failed; see the log above"


def print_event_summary(ch: ClickHouseResource) -> None:
    _section(f"usage_events in {ch.describe()}")
    rows = ch.query_rows(sql("usage_events_by_team"))
    print(markdown_table(["team", "events", "input tokens", "output tokens", "cache reads", "cache writes"], rows))
    rejected = ch.query_rows(sql("rejected_events_by_reason"))
    _section("rejected_events (dead letter)")
    print(markdown_table(["reason", "lines", "example"], rejected) if rejected else "none")


def main() -> None:
    instance = DagsterInstance.get()
    ch = ClickHouseResource.from_env()
    ingest_events(instance)
    assert defs.resolve_job_def("refresh_prices").execute_in_process(instance=instance).success
    print_event_summary(ch)
    run_admin_api_demo(instance, ch)
    run_allocation_demo(instance, ch)  # after the Admin API step: it allocates what that step collected
    run_budget_demo(instance, ch)  # after allocation; with no allocation it uses event-priced spend
    run_cache_demo(instance, ch)
    run_anomaly_demo(instance, ch)  # after budgets (the spend rollup) and the cache analysis (its rollups)
    run_rate_limit_health_demo(instance, ch)
    print(f"\nData lives in {settings.ledger_home()}; `make dev` opens the Dagster UI on http://127.0.0.1:3000")


if __name__ == "__main__":
    main()
