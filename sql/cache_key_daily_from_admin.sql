-- Cache use per day, workspace, api key and model from the Admin API usage since {from}, with
-- realised savings priced as in cache_feature_daily_from_events.sql (context window as reported).
INSERT INTO cache_key_daily
    (date, workspace_id, api_key_id, model, input_tokens, cache_read_tokens, cache_write_5m_tokens,
     cache_write_1h_tokens, realised_savings_usd, unpriced_cache_tokens, computed_at)
SELECT
    u.date, u.workspace_id, u.api_key_id, u.model,
    sum(u.uncached), sum(u.reads), sum(u.writes_5m), sum(u.writes_1h),
    sum(ifNull(
        (toDecimal128(u.reads + u.writes_5m + u.writes_1h, 0) * p.input_usd
         - toDecimal128(u.writes_5m, 0) * p.cache_write_5m_usd
         - toDecimal128(u.writes_1h, 0) * p.cache_write_1h_usd
         - toDecimal128(u.reads, 0) * p.cache_read_usd) * ifNull(t.multiplier, toDecimal32(1, 6)),
        toDecimal128(0, 18))),
    sumIf(u.reads + u.writes_5m + u.writes_1h, p.input_usd IS NULL),
    {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        toDate(bucket_start) AS date, workspace_id, api_key_id, model, service_tier, context_window,
        replaceRegexpOne(model, '-[0-9]{8}$', '') AS family,
        sum(uncached_input_tokens) AS uncached,
        sum(cache_read_input_tokens) AS reads,
        sum(cache_write_5m_tokens) AS writes_5m,
        sum(cache_write_1h_tokens) AS writes_1h
    FROM admin_usage_hourly FINAL
    WHERE bucket_start >= {from:DateTime('UTC')}
    GROUP BY date, workspace_id, api_key_id, model, service_tier, context_window, family
) AS u
ASOF LEFT JOIN cache_token_prices AS p
    ON p.model = u.family AND p.context_window = u.context_window AND p.effective_from <= u.date
ASOF LEFT JOIN service_tier_multipliers AS t
    ON t.service_tier = u.service_tier AND t.effective_from <= u.date
GROUP BY u.date, u.workspace_id, u.api_key_id, u.model
SETTINGS join_use_nulls = 1
