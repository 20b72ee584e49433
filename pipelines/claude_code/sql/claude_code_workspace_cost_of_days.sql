-- The cost report's cost of one workspace per day in days [start, end) (days without a cost report: no row).
SELECT date, sum(amount_usd) AS cost_usd
FROM admin_cost_daily FINAL
WHERE date >= {start:Date} AND date < {end:Date} AND workspace_id = {workspace_id:String}
GROUP BY date
ORDER BY date
