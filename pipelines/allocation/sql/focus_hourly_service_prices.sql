-- The per-hour prices (USD) of the cost types billed by time (code execution container-hours, Managed Agents
-- session-hours) in force at the end of the month: a FOCUS row's PricingQuantity of hours is its cost over it.
SELECT cost_type, argMax(usd_per_unit, effective_from) AS usd_per_hour
FROM service_prices
WHERE unit IN ('container_hour', 'session_hour') AND effective_from < addMonths({month:Date}, 1)
GROUP BY cost_type
