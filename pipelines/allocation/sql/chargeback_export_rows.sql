-- The chargeback lines of a month in export order (docs/finance.md, "Monthly chargeback export").
SELECT month, cost_center, team, feature, env, model, input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
       cache_read_tokens, output_tokens, web_search_requests, list_cost_usd, allocated_cost_usd, share, provisional,
       cost_type, priced_from
FROM chargeback_monthly
WHERE month = {month:Date}
ORDER BY cost_center, team, feature, env, model, cost_type
