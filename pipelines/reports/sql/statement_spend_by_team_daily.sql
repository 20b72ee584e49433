-- Allocated spend per day and team in a month (showback, before the shared-cost policy), optionally of one
-- cost centre ({cost_center} NULL: all).
SELECT date, team, sum(allocated_cost_usd) AS usd
FROM finance_daily_spend
WHERE toStartOfMonth(date) = {month:Date}
  AND (isNull({cost_center:Nullable(String)}) OR cost_center = {cost_center:Nullable(String)})
GROUP BY date, team
ORDER BY date, team
