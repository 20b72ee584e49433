-- Prefixes sent without caching in [{start}, {end}] that the opportunity analysis leaves out, and why:
-- shorter than the model's minimum cacheable length, a model without a known minimum, or a model
-- without a list price (never priced as a default). Same use filter as cache_opportunities_from_events.
SELECT
    uniqExact(e.team, e.feature, e.model, e.prompt_prefix_hash) AS uncached_prefixes,
    uniqExactIf(e.team, e.feature, e.model, e.prompt_prefix_hash,
                m.min_prefix_tokens IS NOT NULL AND e.prompt_prefix_tokens < m.min_prefix_tokens) AS below_minimum,
    uniqExactIf(e.team, e.feature, e.model, e.prompt_prefix_hash, m.min_prefix_tokens IS NULL) AS no_minimum,
    uniqExactIf(e.team, e.feature, e.model, e.prompt_prefix_hash,
                e.family NOT IN (SELECT model FROM model_prices)) AS unpriced
FROM
(
    SELECT team, feature, model, prompt_prefix_hash, prompt_prefix_tokens,
           ledger_model_family(model) AS family
    FROM usage_events FINAL
    WHERE ts >= {start:DateTime64(3, 'UTC')} AND ts <= {end:DateTime64(3, 'UTC')}
      AND prompt_prefix_hash != '' AND prompt_prefix_tokens > 0
      AND input_tokens >= prompt_prefix_tokens
      AND cache_read_input_tokens = 0 AND cache_write_5m_tokens = 0 AND cache_write_1h_tokens = 0
) AS e
LEFT JOIN cache_minimums AS m ON m.model = e.family
SETTINGS join_use_nulls = 1
