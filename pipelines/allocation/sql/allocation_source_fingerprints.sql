-- Per month from {since}: an order-independent fingerprint of the Admin API usage and of the cost report rows
-- (the sum of the rows' hashes), to tell when Anthropic has restated a day of a month already allocated.
SELECT month, ifNull(u.fingerprint, 0) AS usage_fingerprint, ifNull(c.fingerprint, 0) AS cost_fingerprint
FROM
(
    SELECT toStartOfMonth(bucket_start) AS month,
           sum(cityHash64(bucket_start, workspace_id, api_key_id, model, service_tier, context_window, inference_geo,
                          speed, uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                          cache_write_1h_tokens, output_tokens, web_search_requests)) AS fingerprint
    FROM admin_usage_hourly FINAL
    WHERE bucket_start >= {since:Date}
    GROUP BY month
) AS u
FULL OUTER JOIN
(
    SELECT toStartOfMonth(date) AS month,
           sum(cityHash64(date, workspace_id, description, cost_type, model, token_type, service_tier, context_window,
                          inference_geo, speed, amount_usd)) AS fingerprint
    FROM admin_cost_daily FINAL
    WHERE date >= {since:Date}
    GROUP BY month
) AS c
USING (month)
ORDER BY month
SETTINGS join_use_nulls = 1
