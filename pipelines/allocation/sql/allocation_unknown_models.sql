-- The month's usage by how it is priced when the model has no list price: 'unpriced' (no price at all: in
-- no line's cost, the month cannot be final) and 'learned_rate' (the rate the cost report last taught), and
-- usage of models without a list price that the cost report priced: model, priced_from, token type, volume.
SELECT model, priced_from, token_type, sum(quantity) AS quantity, sum(allocated_cost_usd) AS allocated_cost_usd
FROM allocation_hourly
WHERE month = {month:Date} AND basis != 'cost_report_only'
  AND (priced_from IN ('unpriced', 'learned_rate') OR (priced_from = 'cost_report' AND list_cost_usd = 0))
GROUP BY model, priced_from, token_type
ORDER BY priced_from = 'unpriced' DESC, model, priced_from, token_type
