-- Rollup rows for hours the allocation does not cover yet: usage events priced at list price.
-- Events are summed per hour and price cell first, then priced (ASOF JOIN on the effective date).
-- A request with more than 200K input tokens (uncached + cache reads + cache writes) is long context.
-- A model without a price adds nothing to spend_usd and its units to unpriced_units (never defaulted).
INSERT INTO spend_hourly_staging
    (hour, team, feature, env, workspace_id, api_key_id, source, spend_usd, unpriced_units, refreshed_at)
SELECT
    u.hour, u.team, u.feature, u.env, u.workspace_id, u.api_key_id,
    'events',
    sum(ifNull(toDecimal128(u.units, 0) * p.usd_per_unit
               * if(u.token_type = 'web_search', toDecimal32(1, 6), ifNull(t.multiplier, toDecimal32(1, 6))),
               toDecimal128(0, 18))),
    sumIf(u.units, p.usd_per_unit IS NULL),
    {refreshed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        toStartOfHour(ts) AS hour, team, feature, env, workspace_id, api_key_id, service_tier,
        replaceRegexpOne(model, '-[0-9]{8}$', '') AS family,
        if(input_tokens + cache_read_input_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 200000,
           '200k-1M', '0-200k') AS context_window,
        token_type,
        sum(quantity) AS units
    FROM usage_events FINAL
    ARRAY JOIN
        ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h', 'output', 'web_search'] AS token_type,
        [input_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
         output_tokens, web_search_requests] AS quantity
    WHERE ts >= {from:DateTime('UTC')} AND quantity > 0
    GROUP BY hour, team, feature, env, workspace_id, api_key_id, service_tier, family, context_window, token_type
) AS u
ASOF LEFT JOIN model_prices AS p
    ON p.model = u.family AND p.context_window = u.context_window AND p.token_type = u.token_type
    AND p.effective_from <= toDate(u.hour)
ASOF LEFT JOIN service_tier_multipliers AS t
    ON t.service_tier = u.service_tier AND t.effective_from <= toDate(u.hour)
GROUP BY u.hour, u.team, u.feature, u.env, u.workspace_id, u.api_key_id
SETTINGS join_use_nulls = 1
