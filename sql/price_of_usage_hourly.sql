-- Admin API usage of an hour range priced at list price, per cell and token type.
-- Batch and other tiers scale token prices (not web search). A NULL usd_per_unit means the model
-- has no price: it is reported, never priced as a default.
SELECT
    u.bucket_start                          AS bucket_start,
    u.workspace_id                          AS workspace_id,
    u.api_key_id                            AS api_key_id,
    u.model                                 AS model,
    u.service_tier                          AS service_tier,
    u.context_window                        AS context_window,
    u.token_type                            AS token_type,
    u.quantity                              AS quantity,
    p.usd_per_unit * if(u.token_type = 'web_search', 1, ifNull(t.multiplier, 1)) AS usd_per_unit,
    toDecimal128(u.quantity, 0) * usd_per_unit AS list_cost_usd
FROM
(
    SELECT
        bucket_start, workspace_id, api_key_id, model, service_tier, context_window,
        replaceRegexpOne(model, '-[0-9]{8}$', '') AS family,
        token_type, quantity
    FROM admin_usage_hourly FINAL
    ARRAY JOIN
        ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h', 'output', 'web_search'] AS token_type,
        [uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
         output_tokens, web_search_requests] AS quantity
    WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')} AND quantity > 0
) AS u
ASOF LEFT JOIN model_prices AS p
    ON p.model = u.family AND p.context_window = u.context_window AND p.token_type = u.token_type
    AND p.effective_from <= toDate(u.bucket_start)
ASOF LEFT JOIN service_tier_multipliers AS t
    ON t.service_tier = u.service_tier AND t.effective_from <= toDate(u.bucket_start)
ORDER BY bucket_start, workspace_id, api_key_id, model, service_tier, context_window, token_type
SETTINGS join_use_nulls = 1
