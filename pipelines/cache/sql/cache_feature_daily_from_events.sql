-- Cache use per day, team, feature and model from usage events since {from}, with realised savings:
-- cached tokens (reads + writes) at the input price minus what the writes and reads cost, at the
-- effective list price of the day, tier multiplier applied. Events are summed per price cell first.
-- A model without a price adds nothing to the savings and its cache tokens to unpriced_cache_tokens.
INSERT INTO cache_feature_daily
    (date, team, feature, model, requests, input_tokens, cache_read_tokens, cache_write_5m_tokens,
     cache_write_1h_tokens, realised_savings_usd, unpriced_cache_tokens, computed_at)
SELECT
    u.date, u.team, u.feature, u.model,
    sum(u.requests), sum(u.uncached), sum(u.reads), sum(u.writes_5m), sum(u.writes_1h),
    sum(ifNull(ledger_cache_saving_usd(u.reads, u.writes_5m, u.writes_1h, p.input_usd, p.cache_write_5m_usd,
                                       p.cache_write_1h_usd, p.cache_read_usd), toDecimal128(0, 12))),
    sumIf(u.reads + u.writes_5m + u.writes_1h, p.input_usd IS NULL),
    {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        toDate(ts) AS date, team, feature, model,
        ledger_price_cell(model,
                          ledger_prompt_band(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                             cache_write_1h_tokens),
                          service_tier, speed, inference_geo) AS price_cell,
        count() AS requests,
        sum(input_tokens) AS uncached,
        sum(cache_read_input_tokens) AS reads,
        sum(cache_write_5m_tokens) AS writes_5m,
        sum(cache_write_1h_tokens) AS writes_1h
    FROM usage_events FINAL
    WHERE ts >= {from:DateTime64(3, 'UTC')}
    GROUP BY date, team, feature, model, price_cell
) AS u
ASOF LEFT JOIN cache_unit_prices AS p
    ON p.price_cell = u.price_cell AND p.effective_from <= u.date
GROUP BY u.date, u.team, u.feature, u.model
SETTINGS join_use_nulls = 1
