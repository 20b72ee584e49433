-- budget_status carries the forecast's interval (pipelines/budgets/forecast.py, docs/forecast.md):
-- projected_usd is its p50; p10 / p90 bound an 80 % interval; forecast_method says how it was made:
-- 'seasonal' (weekday shape from four weeks of history), 'run_rate' (too little history: the straight
-- run rate, no interval) or 'closed' (the period is over: its spend).
ALTER TABLE budget_status
    ADD COLUMN IF NOT EXISTS projected_p10_usd Decimal(38, 12) AFTER projected_usd,
    ADD COLUMN IF NOT EXISTS projected_p90_usd Decimal(38, 12) AFTER projected_p10_usd,
    ADD COLUMN IF NOT EXISTS forecast_method LowCardinality(String) AFTER projected_percent;
