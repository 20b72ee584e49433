-- Cache use per day, workspace, api key and model from the Admin API usage since {from}, with
-- realised savings priced as in cache_feature_daily_from_events.sql (context window as reported).
INSERT INTO cache_key_daily
    (date, workspace_id, api_key_id, model, input_tokens, cache_read_tokens, cache_write_5m_tokens,
     cache_write_1h_tokens, realised_savings_usd, unpriced_cache_tokens, computed_at)
SELECT
    u.date, u.workspace_id, u.api_key_id, u.model,
    sum(u.uncached), sum(u.reads), sum(u.writes_5m), sum(u.writes_1h),
    sum(ifNull(ledger_cache_saving_usd(u.reads, u.writes_5m, u.writes_1h, p.input_usd, p.cache_write_5m_usd,
                                       p.cache_write_1h_usd, p.cache_read_usd), toDecimal128(0, 12))),
    sumIf(u.reads + u.writes_5m + u.writes_1h, p.input_usd IS NULL),
    {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        toDate(bucket_start) AS date, workspace_id, api_key_id, model,
        ledger_price_cell(model, ledger_admin_prompt_band(context_window), service_tier, speed, inference_geo)
            AS price_cell,
        sum(uncached_input_tokens) AS uncached,
        sum(cache_read_input_tokens) AS reads,
        sum(cache_write_5m_tokens) AS writes_5m,
        sum(cache_write_1h_tokens) AS writes_1h
    FROM admin_usage_hourly FINAL
    WHERE bucket_start >= {from:DateTime('UTC')}
    GROUP BY date, workspace_id, api_key_id, model, price_cell
) AS u
ASOF LEFT JOIN cache_unit_prices AS p
    ON p.price_cell = u.price_cell AND p.effective_from <= u.date
GROUP BY u.date, u.workspace_id, u.api_key_id, u.model
SETTINGS join_use_nulls = 1
