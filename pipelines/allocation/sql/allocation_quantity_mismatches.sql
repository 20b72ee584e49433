-- Per day, workspace and token type of a month: allocated quantities that do not sum to the Admin API's.
SELECT day, workspace_id, token_type, sum(authority) AS authority, sum(allocated) AS allocated
FROM
(
    SELECT toDate(bucket_start) AS day, workspace_id, cell.1 AS token_type, cell.2 AS authority, 0 AS allocated
    FROM admin_usage_hourly FINAL
    ARRAY JOIN ledger_token_quantities(uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                       cache_write_1h_tokens, output_tokens, web_search_requests) AS cell
    WHERE bucket_start >= {month:Date} AND bucket_start < addMonths({month:Date}, 1)
    UNION ALL
    SELECT toDate(hour), workspace_id, token_type, 0, quantity
    FROM allocation_hourly
    WHERE month = {month:Date} AND token_type != 'cost_report_only'
)
GROUP BY day, workspace_id, token_type
HAVING authority != allocated
ORDER BY day, workspace_id, token_type
