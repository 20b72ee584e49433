-- The learned half of the price lookup: a price cell with no list price (a model missing from the price
-- files) is priced, from each day the cost report covers, at the rate the report taught that day
-- (learned_unit_prices, all workspaces together); later days keep the last rate until the next one. The
-- Admin API tells only '0-200k' from '200k-1M': a '0-200k' rate prices every band, unless the report also
-- taught a '200k-1M' rate for the cell that day, which then prices the long band. Written into {target}, the
-- rebuild's table, which already holds the list half.
INSERT INTO {target:Identifier} (price_cell, token_type, effective_from, usd_per_unit, origin)
SELECT price_cell, token_type, date, argMax(rate, exact), 'learned'
FROM
(
    SELECT ledger_price_cell(model, band, service_tier, speed, inference_geo) AS price_cell, token_type, date,
           (band = '200k-1M') = (context_window = '200k-1M') AS exact,
           toDecimal128(sum(amount_usd) / sum(quantity), 12) AS rate
    FROM learned_unit_prices
    ARRAY JOIN if(context_window = '200k-1M', ['200k-1M'], arrayMap(pair -> pair.1, ledger_prompt_bands())) AS band
    GROUP BY price_cell, token_type, date, exact
)
WHERE price_cell NOT IN (SELECT price_cell FROM {target:Identifier} WHERE origin = 'list')
GROUP BY price_cell, token_type, date
