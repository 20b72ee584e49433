-- Claude Code's estimated cost per day, team and customer type in days [start, end).
SELECT date, team, customer_type, sum(estimated_cost_usd) AS estimated_usd
FROM claude_code_usage_daily FINAL
WHERE date >= {start:Date} AND date < {end:Date}
GROUP BY date, team, customer_type
ORDER BY date, team, customer_type
