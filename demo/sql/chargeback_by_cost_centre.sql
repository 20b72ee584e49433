-- The month's chargeback per cost centre, for the demo summary.
SELECT cost_center, sum(allocated_cost_usd) AS usd
FROM finance_monthly_chargeback
WHERE month = {month:Date}
GROUP BY cost_center
ORDER BY cost_center
