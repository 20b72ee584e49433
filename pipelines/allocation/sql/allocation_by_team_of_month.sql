-- Showback of a month per team and basis: tokens (web search requests excluded), list and allocated cost.
SELECT team, basis, sumIf(quantity, token_type NOT IN ('web_search', 'cost_report_only')) AS tokens,
       sum(list_cost_usd) AS list_cost_usd, sum(allocated_cost_usd) AS allocated_cost_usd,
       max(provisional) AS provisional
FROM allocation_hourly
WHERE month = {month:Date}
GROUP BY team, basis
ORDER BY allocated_cost_usd DESC, team, basis
