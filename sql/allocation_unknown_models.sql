-- Admin API usage of a month whose model has no list price that day (the model id, or its family
-- without a trailing -YYYYMMDD, is missing from model_prices): model, context window, token type, volume.
SELECT u.model AS model, u.context_window AS context_window, u.token_type AS token_type,
       sum(u.quantity) AS quantity
FROM
(
    SELECT bucket_start, model, context_window, replaceRegexpOne(model, '-[0-9]{8}$', '') AS family,
           token_type, quantity
    FROM admin_usage_hourly FINAL
    ARRAY JOIN
        ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h', 'output', 'web_search'] AS token_type,
        [uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
         output_tokens, web_search_requests] AS quantity
    WHERE bucket_start >= {month:Date} AND bucket_start < addMonths({month:Date}, 1) AND quantity > 0
) AS u
ASOF LEFT JOIN model_prices AS p
    ON p.model = u.family AND p.context_window = u.context_window AND p.token_type = u.token_type
    AND p.effective_from <= toDate(u.bucket_start)
WHERE p.usd_per_unit IS NULL
GROUP BY model, context_window, token_type
ORDER BY model, context_window, token_type
SETTINGS join_use_nulls = 1
