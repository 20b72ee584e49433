-- Showback of a month summed to chargeback lines (team, feature, env, model), before the shared-cost
-- policy: tokens by type, exact list and allocated cost, whether any of it is provisional.
SELECT
    team, feature, env, model,
    sumIf(quantity, token_type = 'input')           AS input_tokens,
    sumIf(quantity, token_type = 'cache_write_5m')  AS cache_write_5m_tokens,
    sumIf(quantity, token_type = 'cache_write_1h')  AS cache_write_1h_tokens,
    sumIf(quantity, token_type = 'cache_read')      AS cache_read_tokens,
    sumIf(quantity, token_type = 'output')          AS output_tokens,
    sumIf(quantity, token_type = 'web_search')      AS web_search_requests,
    sum(list_cost_usd)                              AS list_cost_usd,
    sum(allocated_cost_usd)                         AS allocated_cost_usd,
    max(provisional)                                AS provisional
FROM allocation_hourly
WHERE month = {month:Date}
GROUP BY team, feature, env, model
ORDER BY team, feature, env, model
