-- Showback of a month summed to chargeback lines (team, feature, env, model, cost type, cost centre), before the
-- shared-cost policy: tokens by type, exact list and allocated cost, whether any of it is provisional, and how it
-- was priced (the least certain of its rows: unpriced, learned_rate, list, cost_report).
-- claude_code = 1: the rows of the Claude Code workspace on a day its split exists (claude_code_charged_shares),
-- kept per day and workspace so each can be split over that day's teams; day and workspace are 1970-01-01 and ''
-- for every other line.
SELECT
    (toDate(hour), workspace_id) IN (SELECT date, workspace_id FROM claude_code_charged_shares) AS claude_code,
    if(claude_code, toDate(hour), toDate(0))        AS day,
    if(claude_code, workspace_id, '')               AS claude_code_workspace,
    team, feature, env, model, cost_type,
    sumIf(quantity, token_type = 'input')           AS input_tokens,
    sumIf(quantity, token_type = 'cache_write_5m')  AS cache_write_5m_tokens,
    sumIf(quantity, token_type = 'cache_write_1h')  AS cache_write_1h_tokens,
    sumIf(quantity, token_type = 'cache_read')      AS cache_read_tokens,
    sumIf(quantity, token_type = 'output')          AS output_tokens,
    sumIf(quantity, token_type = 'web_search')      AS web_search_requests,
    sum(list_cost_usd)                              AS list_cost_usd,
    sum(allocated_cost_usd)                         AS allocated_cost_usd,
    max(provisional)                                AS provisional,
    multiIf(countIf(priced_from = 'unpriced') > 0, 'unpriced', countIf(priced_from = 'learned_rate') > 0,
            'learned_rate', countIf(priced_from = 'list') > 0, 'list', 'cost_report') AS priced_from,
    cost_center
FROM allocation_hourly
WHERE month = {month:Date}
GROUP BY claude_code, day, claude_code_workspace, team, feature, env, model, cost_type, cost_center
ORDER BY claude_code, day, claude_code_workspace, team, feature, env, model, cost_type, cost_center
