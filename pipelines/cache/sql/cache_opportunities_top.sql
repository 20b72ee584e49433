-- The best {limit} opportunities of the latest analysis, largest estimated monthly saving first.
SELECT rank, team, feature, model, prompt_prefix_hash, prefix_tokens, uses, recommended_ttl, cache_writes,
       cache_reads, uncached_cost_usd, cached_cost_usd, saving_usd, monthly_saving_usd
FROM cache_opportunities_ranked
ORDER BY rank
LIMIT {limit:UInt32}
