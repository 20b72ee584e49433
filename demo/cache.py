"""The cache step of ``make demo``: run the cache analysis and print what it found in a line."""

from __future__ import annotations

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from demo.summary import plural, say
from pipelines.cache.analysis import top_opportunities
from pipelines.definitions import defs
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource


def run_cache_demo(instance: DagsterInstance, ch: ClickHouseResource, verbose: bool = False) -> None:
    result = defs.resolve_job_def("cache_analysis").execute_in_process(instance=instance, run_config=LOG_LEVEL)
    assert result.success, "the cache analysis run failed; see the log file"
    meta = {k: v.value for k, v in result.asset_materializations_for_node("cache_opportunities")[0].metadata.items()}
    say("caching", f"saved {meta['realised_savings_usd_events']}; missed {meta['wasted_premium_usd']} on unread "
        f"writes, {meta['estimated_monthly_saving_usd']} a month on "
        f"{plural(meta['opportunities'], 'uncached prefix', 'uncached prefixes')}")
    top = top_opportunities(ch, 1)
    if verbose and top:
        best = top[0]
        say("", f"best: {best.team}/{best.feature} on {best.model}, a {best.recommended_ttl} cache saves "
            f"{usd(best.monthly_saving_usd)} a month (cache_opportunities_ranked has all; docs/cache.md)")
