-- Forecast backtest: the spend rollup per hour and team (the demo organisation's budgets' scopes).
SELECT hour, team, sum(spend_usd)
FROM spend_hourly FINAL
GROUP BY hour, team
ORDER BY hour, team
