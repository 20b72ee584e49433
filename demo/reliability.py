"""The rate-limit health step of ``make demo``: refresh it and print the worst hours and the breaches."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import DagsterInstance

from pipelines.definitions import defs
from pipelines.reliability.assets import health_table
from pipelines.reliability.health import UNTIL_THE_END, HealthLines, breaches_between, health_between
from pipelines.storage.clickhouse import ClickHouseResource

SINCE_EVER = datetime(2000, 1, 1, tzinfo=UTC)


def run_rate_limit_health_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    print("\n== rate-limit health per hour, model and api key (docs/emitter.md)")
    result = defs.resolve_job_def("refresh_rate_limit_health").execute_in_process(instance=instance)
    assert result.success, "the rate-limit health run failed; see the log above"
    meta = {k: v.value for k, v in result.asset_materializations_for_node("rate_limit_health")[0].metadata.items()}
    if "window_start" not in meta:
        print("no usage events")
        return
    print(f"from {meta['window_start']}: {meta['requests']:,} calls in {meta['cells']} cells, "
          f"{meta['rate_limited']:,} rate-limited ({meta['rate_limited_share']})")
    print(health_table(health_between(ch, SINCE_EVER, UNTIL_THE_END, limit=5)))
    lines = HealthLines()
    breaches = breaches_between(ch, SINCE_EVER, UNTIL_THE_END, lines)
    print(f"{len(breaches)} breaches of the default lines (429 rate above {lines.max_rate_limited_share:.0%} in "
          f"hours of at least {lines.min_requests} calls, headroom below {lines.min_headroom:.0%})")
