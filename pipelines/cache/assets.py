"""Dagster side of the cache analysis: the ``cache_opportunities`` asset, its job and daily schedule."""

from dagster import (
    AssetExecutionContext,
    AssetKey,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
)
from pydantic import Field

from pipelines.cache.analysis import DAYS_PER_MONTH, Opportunity, refresh_cache_analysis, top_opportunities
from pipelines.cache.config import CacheConfig
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource

TOP = 10


class CacheAnalysisConfig(Config):
    lookback_days: int = Field(default=DAYS_PER_MONTH, ge=1,
                               description="Days of usage events analysed, ending at the latest event.")


def opportunity_table(opportunities: list[Opportunity]) -> str:
    return markdown_table(
        ["#", "team", "feature", "model", "prefix", "prefix tokens", "uses", "cache", "writes / reads",
         "est. monthly saving"],
        [(o.rank, o.team, o.feature, o.model, o.prompt_prefix_hash[:12], f"{o.prefix_tokens:,}", f"{o.uses:,}",
          o.recommended_ttl, f"{o.cache_writes:,} / {o.cache_reads:,}", usd(o.monthly_saving_usd))
         for o in opportunities],
    )


@asset(
    group_name="cache",
    kinds={"clickhouse"},
    deps=[AssetKey("usage_events"), AssetKey("unit_prices"), AssetKey("admin_usage_hourly")],
    description="Prompt-cache efficiency, waste and opportunities over the last lookback_days (default 30) of "
    "usage events. Efficiency per day and team/feature/model (events) and workspace/api key/model (Admin API): "
    "hit ratio = cache reads / all input tokens, write/read ratio, realised savings = cached tokens at the "
    "input price - what the writes and reads cost. Waste: cache writes no later use of the prefix read within "
    "the write's TTL. Opportunities: prefixes (team, feature, model, prompt_prefix_hash) at least the model's "
    "minimum cacheable length, sent uncached; window model per TTL (5m, 1h): a use is a cache read when the "
    "previous use was at most the TTL earlier (each use refreshes the lifetime), otherwise a cache write that "
    "opens a new window; saving = uncached cost - the cheaper cache, at effective list prices; monthly = "
    "saving * 30 / lookback_days. Views: cache_opportunities_ranked, cache_efficiency_by_feature_daily/_monthly, "
    "cache_efficiency_by_key_daily/_monthly, cache_waste_by_feature_monthly (docs/cache.md).",
)
def cache_opportunities(
    context: AssetExecutionContext, config: CacheAnalysisConfig, clickhouse: ClickHouseResource,
    ledger_config: LedgerConfig,
) -> MaterializeResult:
    refresh = refresh_cache_analysis(clickhouse, config.lookback_days,
                                     ledger_config.section(CacheConfig).cache_minimums)
    top = top_opportunities(clickhouse, TOP)
    coverage = refresh.coverage
    context.log.info("cache analysis of %s: %d opportunities worth %s a month, wasted write premium %s",
                     f"{refresh.window_start} .. {refresh.window_end}" if refresh.window_end else "no usage events",
                     refresh.opportunities, usd(refresh.monthly_saving_usd), usd(refresh.wasted_premium_usd))
    return MaterializeResult(metadata={
        "window": f"{refresh.window_start:%Y-%m-%d %H:%M} .. {refresh.window_end:%Y-%m-%d %H:%M} UTC"
        if refresh.window_end else "no usage events",
        "lookback_days": config.lookback_days,
        "opportunities": refresh.opportunities,
        "estimated_monthly_saving_usd": usd(refresh.monthly_saving_usd),
        "top_opportunities": MetadataValue.md(opportunity_table(top) if top else "no opportunities"),
        "uncached_prefixes": coverage.uncached_prefixes,
        "prefixes_below_minimum": coverage.below_minimum,
        "prefixes_without_known_minimum": coverage.no_minimum,
        "prefixes_of_unpriced_models": coverage.unpriced,
        "realised_savings_usd_events": usd(refresh.events_savings_usd),
        "realised_savings_usd_admin_api": usd(refresh.admin_savings_usd),
        "wasted_write_tokens": refresh.wasted_tokens,
        "wasted_premium_usd": usd(refresh.wasted_premium_usd),
        "cache_minimum_models": refresh.minimums,
    })
