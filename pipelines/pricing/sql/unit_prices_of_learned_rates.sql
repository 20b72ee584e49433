-- The learned half of the price lookup: a price cell with no list price (a model missing from the price
-- files) is priced, from each day the cost report covers, at the rate the report taught that day
-- (learned_unit_prices, all workspaces together); later days keep the last rate until the next one.
INSERT INTO unit_prices (price_cell, token_type, effective_from, usd_per_unit, origin)
SELECT price_cell, token_type, date, toDecimal128(sum(amount_usd) / sum(quantity), 12), 'learned'
FROM
(
    SELECT ledger_price_cell(model, ledger_admin_prompt_band(context_window), service_tier, speed, inference_geo)
               AS price_cell,
           token_type, date, amount_usd, quantity
    FROM learned_unit_prices
)
WHERE price_cell NOT IN (SELECT price_cell FROM unit_prices WHERE origin = 'list')
GROUP BY price_cell, token_type, date
