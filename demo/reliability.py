"""The rate-limit health step of ``make demo``: refresh it, print the breaches of the default lines and how close
a workspace and model group came to its configured rate limit (Rate Limits API; ``--verbose``: a table of them)."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from demo.summary import plural, say, table
from pipelines.definitions import defs
from pipelines.reliability.health import UNTIL_THE_END, HealthLines, breaches_between
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

SINCE_EVER = datetime(2000, 1, 1, tzinfo=UTC)
HEADROOM_ROWS = 4  # the verbose table's rows
LIMITERS = {"requests_per_minute": "requests", "input_tokens_per_minute": "input tokens",
            "output_tokens_per_minute": "output tokens"}


def run_rate_limit_health_demo(instance: DagsterInstance, ch: ClickHouseResource, verbose: bool = False) -> None:
    result = defs.resolve_job_def("refresh_rate_limit_health").execute_in_process(instance=instance,
                                                                                   run_config=LOG_LEVEL)
    assert result.success, "the rate-limit health run failed; see the log file"
    meta = {k: v.value for k, v in result.asset_materializations_for_node("rate_limit_health")[0].metadata.items()}
    if "window_start" not in meta:
        say("rate limits", "no usage events")
        return
    lines = HealthLines()
    breaches = breaches_between(ch, SINCE_EVER, UNTIL_THE_END, lines)
    rows = ch.query_rows(sql("configured_limit_headroom"), {"rows": HEADROOM_ROWS if verbose else 1})
    closest = f"; peak at {rows[0][5]:.1%} of a configured limit" if rows else ""
    say("rate limits", f"{meta['rate_limited']:,} of {meta['requests']:,} calls got a 429; "
        f"{plural(len(breaches), 'hour')} over the lines{closest}")
    if verbose:
        say("", f"(since {meta['window_start']}; the lines: more than {lines.max_rate_limited_share:.0%} 429s in an "
            f"hour of at least {lines.min_requests} calls, or headroom below {lines.min_headroom:.0%}; quieter "
            "hours are not counted)")
        table(["workspace / model group", "configured limit per minute", "peak per minute", "share"],
              [(f"{workspace} / {group}", f"{limit:,} {LIMITERS.get(limiter, limiter)}", f"{peak:,}", f"{share:.1%}")
               for workspace, group, limiter, limit, peak, share in rows], right={2, 3})
