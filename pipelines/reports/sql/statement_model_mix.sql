-- Allocated spend and tokens per model in a month, optionally of one cost centre ({cost_center} NULL: all).
SELECT
    model,
    sum(input_tokens + cache_write_5m_tokens + cache_write_1h_tokens + cache_read_tokens + output_tokens) AS tokens,
    sum(allocated_cost_usd) AS usd
FROM finance_daily_spend
WHERE toStartOfMonth(date) = {month:Date} AND model != ''
  AND (isNull({cost_center:Nullable(String)}) OR cost_center = {cost_center:Nullable(String)})
GROUP BY model
ORDER BY usd DESC, model
