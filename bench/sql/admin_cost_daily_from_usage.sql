-- Benchmark data: a cost report for the days in [start, until) priced from admin_usage_hourly at flat
-- per-family rates (USD per million tokens: haiku 1 / 5, sonnet 3 / 15, opus 5 / 25; cache reads 0.1x,
-- 5-minute writes 1.25x, 1-hour writes 2x input; rates below in 1e-12 USD per token), one row per day, workspace, model and token type.
INSERT INTO admin_cost_daily
    (date, workspace_id, description, cost_type, model, token_type, service_tier, context_window, currency,
     amount_usd, extracted_at)
SELECT day, workspace_id, concat(model, ' ', token_type), 'tokens', model, token_type, 'standard', '0-200k', 'USD',
       toDecimal128(toUInt128(quantity_of_type) * rate_of_type, 0) * toDecimal128('0.000000000001', 12),
       {extracted_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT toDate(bucket_start) AS day, workspace_id, model,
           multiIf(model LIKE 'claude-haiku%', 1000000, model LIKE 'claude-opus%', 5000000, 3000000) AS input_rate,
           sum(uncached_input_tokens) AS input, sum(cache_read_input_tokens) AS cache_read,
           sum(cache_write_5m_tokens) AS cache_write_5m, sum(cache_write_1h_tokens) AS cache_write_1h,
           sum(output_tokens) AS output
    FROM admin_usage_hourly
    WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {until:DateTime('UTC')}
    GROUP BY day, workspace_id, model
)
ARRAY JOIN
    ['uncached_input_tokens', 'cache_read_input_tokens', 'cache_write_5m_input_tokens',
     'cache_write_1h_input_tokens', 'output_tokens'] AS token_type,
    [input, cache_read, cache_write_5m, cache_write_1h, output] AS quantity_of_type,
    [input_rate, intDiv(input_rate, 10), intDiv(input_rate * 5, 4), input_rate * 2, input_rate * 5]
        AS rate_of_type
WHERE quantity_of_type > 0
