-- The month's chargeback per cost centre and team: the team's own lines, its share of the shared cost
-- (feature '(shared cost)', from the shared-cost policy) and the total it is charged.
SELECT
    cost_center,
    team,
    sumIf(allocated_cost_usd, feature != {shared_feature:String})   AS own_usd,
    sumIf(allocated_cost_usd, feature = {shared_feature:String})    AS shared_usd,
    sum(allocated_cost_usd)                                         AS charged_usd,
    max(provisional)                                                AS provisional,
    any(shared_cost_policy)                                         AS policy
FROM finance_monthly_chargeback
WHERE month = {month:Date}
GROUP BY cost_center, team
ORDER BY cost_center, team
