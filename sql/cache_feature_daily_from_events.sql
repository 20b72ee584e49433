-- Cache use per day, team, feature and model from usage events since {from}, with realised savings:
-- cached tokens (reads + writes) at the input price minus what the writes and reads cost, at the
-- effective list price of the day, tier multiplier applied. Events are summed per price cell first.
-- A request with more than 200K input tokens (uncached + cache reads + cache writes) is long context.
-- A model without a price adds nothing to the savings and its cache tokens to unpriced_cache_tokens.
INSERT INTO cache_feature_daily
    (date, team, feature, model, requests, input_tokens, cache_read_tokens, cache_write_5m_tokens,
     cache_write_1h_tokens, realised_savings_usd, unpriced_cache_tokens, computed_at)
SELECT
    u.date, u.team, u.feature, u.model,
    sum(u.requests), sum(u.uncached), sum(u.reads), sum(u.writes_5m), sum(u.writes_1h),
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
        toDate(ts) AS date, team, feature, model, service_tier,
        replaceRegexpOne(model, '-[0-9]{8}$', '') AS family,
        if(input_tokens + cache_read_input_tokens + cache_write_5m_tokens + cache_write_1h_tokens > 200000,
           '200k-1M', '0-200k') AS context_window,
        count() AS requests,
        sum(input_tokens) AS uncached,
        sum(cache_read_input_tokens) AS reads,
        sum(cache_write_5m_tokens) AS writes_5m,
        sum(cache_write_1h_tokens) AS writes_1h
    FROM usage_events FINAL
    WHERE ts >= {from:DateTime64(3, 'UTC')}
    GROUP BY date, team, feature, model, service_tier, family, context_window
) AS u
ASOF LEFT JOIN cache_token_prices AS p
    ON p.model = u.family AND p.context_window = u.context_window AND p.effective_from <= u.date
ASOF LEFT JOIN service_tier_multipliers AS t
    ON t.service_tier = u.service_tier AND t.effective_from <= u.date
GROUP BY u.date, u.team, u.feature, u.model
SETTINGS join_use_nulls = 1
