"""The cache step of ``make demo``: run the cache analysis and print what it found in two lines."""

from __future__ import annotations

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from pipelines.cache.analysis import top_opportunities
from pipelines.definitions import defs
from pipelines.storage.clickhouse import ClickHouseResource


def run_cache_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    result = defs.resolve_job_def("cache_analysis").execute_in_process(instance=instance, run_config=LOG_LEVEL)
    assert result.success, "the cache analysis run failed; see the log file"
    meta = {k: v.value for k, v in result.asset_materializations_for_node("cache_opportunities")[0].metadata.items()}
    print(f"caching     realised savings {meta['realised_savings_usd_events']}; missed: "
          f"{meta['wasted_premium_usd']} on cache writes never read, {meta['estimated_monthly_saving_usd']} a month "
          f"in {meta['opportunities']} prefixes sent uncached (docs/cache.md)")
    top = top_opportunities(ch, 1)
    if top:
        best = top[0]
        print(f"            best: {best.team}/{best.feature} on {best.model}, a {best.recommended_ttl} cache "
              f"saves ${best.monthly_saving_usd:,.2f} a month (cache_opportunities_ranked has all)")
