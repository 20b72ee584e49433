-- Admin API usage of a month that has no list price that day (its model family, context window and
-- service tier have no row in unit_prices): model, context window, token type, volume.
SELECT u.model AS model, u.context_window AS context_window, u.token_type AS token_type,
       sum(u.quantity) AS quantity
FROM
(
    SELECT bucket_start, model, context_window, ledger_price_cell(model, context_window, service_tier) AS price_cell,
           cell.1 AS token_type, cell.2 AS quantity
    FROM admin_usage_hourly FINAL
    ARRAY JOIN ledger_token_quantities(uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                       cache_write_1h_tokens, output_tokens, web_search_requests) AS cell
    WHERE bucket_start >= {month:Date} AND bucket_start < addMonths({month:Date}, 1) AND quantity > 0
) AS u
ASOF LEFT JOIN unit_prices AS p
    ON p.price_cell = u.price_cell AND p.token_type = u.token_type AND p.effective_from <= toDate(u.bucket_start)
WHERE p.usd_per_unit IS NULL
GROUP BY model, context_window, token_type
ORDER BY model, context_window, token_type
SETTINGS join_use_nulls = 1
