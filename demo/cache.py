"""The cache step of ``make demo``: run the cache analysis and print the top 3 opportunities."""

from __future__ import annotations

from dagster import DagsterInstance

from pipelines.cache.analysis import top_opportunities
from pipelines.cache.assets import opportunity_table
from pipelines.definitions import defs
from pipelines.storage.clickhouse import ClickHouseResource


def run_cache_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    print("\n== prompt caching: opportunities and waste (docs/cache.md)")
    result = defs.resolve_job_def("cache_analysis").execute_in_process(instance=instance)
    assert result.success, "the cache analysis run failed; see the log above"
    meta = {k: v.value for k, v in result.asset_materializations_for_node("cache_opportunities")[0].metadata.items()}
    print(f"window {meta['window']}: {meta['opportunities']} opportunities, estimated "
          f"{meta['estimated_monthly_saving_usd']} a month; {meta['uncached_prefixes']} prefixes sent uncached, "
          f"{meta['prefixes_below_minimum']} of them below their model's minimum cacheable length (ignored)")
    print(f"realised savings: {meta['realised_savings_usd_events']} (events), "
          f"{meta['realised_savings_usd_admin_api']} (Admin API); wasted cache writes: "
          f"{meta['wasted_write_tokens']:,} tokens, {meta['wasted_premium_usd']} above the input price")
    top = top_opportunities(ch, 3)
    print(opportunity_table(top) if top else "no opportunities")
