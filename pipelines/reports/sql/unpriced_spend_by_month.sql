-- Tokens and requests of models without a price in the budgets' spend rollup, per month (never in spend_usd).
SELECT toStartOfMonth(hour) AS month, sum(unpriced_units) AS units
FROM spend_hourly FINAL
WHERE unpriced_units > 0
GROUP BY month
ORDER BY month
