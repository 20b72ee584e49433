-- Per day of a month: the cost report, what was allocated, and how much of the Admin API's tokens the events
-- explain (all workspaces). cost_report_usd is NULL on days without a report yet (provisional, list price).
SELECT
    date,
    sum(authority_tokens)                                   AS authority_tokens,
    sum(explained_tokens)                                   AS explained_tokens,
    sum(allocated_cost_usd)                                 AS allocated_usd,
    if(countIf(isNotNull(cost_report_usd)) = 0, NULL, sum(cost_report_usd)) AS cost_report_usd
FROM finance_reconciliation_daily
WHERE toStartOfMonth(date) = {month:Date}
GROUP BY date
ORDER BY date
