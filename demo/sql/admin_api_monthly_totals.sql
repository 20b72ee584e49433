-- Admin API totals per calendar month from {start}: tokens by type (usage report) and USD (cost report).
SELECT u.month AS month, u.uncached_input, u.cache_read, u.cache_write_5m, u.cache_write_1h, u.output,
       u.web_search_requests, c.cost_usd AS cost_usd, c.days AS cost_days
FROM
(
    SELECT toStartOfMonth(bucket_start) AS month, sum(uncached_input_tokens) AS uncached_input,
           sum(cache_read_input_tokens) AS cache_read, sum(cache_write_5m_tokens) AS cache_write_5m,
           sum(cache_write_1h_tokens) AS cache_write_1h, sum(output_tokens) AS output,
           sum(web_search_requests) AS web_search_requests
    FROM admin_usage_hourly FINAL
    WHERE bucket_start >= {start:DateTime('UTC')}
    GROUP BY month
) AS u
LEFT JOIN
(
    SELECT toStartOfMonth(date) AS month, sum(amount_usd) AS cost_usd, uniqExact(date) AS days
    FROM admin_cost_daily FINAL
    WHERE date >= toDate({start:DateTime('UTC')})
    GROUP BY month
) AS c
USING (month)
ORDER BY month
