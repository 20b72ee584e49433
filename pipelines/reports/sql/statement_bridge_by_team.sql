-- The month's chargeback per team, taken apart for the statement's bridge from showback to chargeback: the exact
-- amount of its own lines (its showback with the Claude Code workspace's split: feature claude-code), the exact
-- shared cost it received (feature '(shared cost)', the shared-cost policy's lines), and what it is charged (cents).
SELECT
    team,
    sumIf(showback_cost_usd, feature != {shared_feature:String})    AS own_usd,
    sumIf(showback_cost_usd, feature = {shared_feature:String})     AS shared_usd,
    sum(allocated_cost_usd)                                         AS charged_usd
FROM chargeback_monthly
WHERE month = {month:Date}
GROUP BY team
ORDER BY team
