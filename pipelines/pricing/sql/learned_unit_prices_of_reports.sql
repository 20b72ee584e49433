-- What the cost report teaches (docs/finance.md "Prices learned from the cost report"): per day and cell,
-- the report's token amount over the Admin API's quantity of the same day, model family, token type, tier,
-- context window, inference geo and speed (a report line that does not say its speed is taken as standard); written
-- into {target}, the rebuild's table of learned_unit_prices.
INSERT INTO {target:Identifier}
    (date, model, token_type, service_tier, context_window, inference_geo, speed, quantity, amount_usd, usd_per_unit,
     computed_at)
SELECT r.date, r.family, r.token_type, r.service_tier, r.context_window, r.inference_geo, r.speed, u.quantity,
       r.amount_usd, toDecimal128(r.amount_usd / u.quantity, 12), {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT date, ledger_model_family(model) AS family, ledger_cost_report_token_type(token_type) AS token_type,
           service_tier, context_window, inference_geo, if(speed = '', 'standard', speed) AS speed,
           sum(amount_usd) AS amount_usd
    FROM admin_cost_daily FINAL
    WHERE cost_type = 'tokens' AND model != '' AND token_type != ''
    GROUP BY date, family, token_type, service_tier, context_window, inference_geo, speed
) AS r
INNER JOIN
(
    SELECT toDate(bucket_start) AS date, ledger_model_family(model) AS family, cell.1 AS token_type, service_tier,
           context_window, inference_geo, speed, sum(cell.2) AS quantity
    FROM admin_usage_hourly FINAL
    ARRAY JOIN ledger_token_quantities(uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                       cache_write_1h_tokens, output_tokens, 0) AS cell
    WHERE cell.2 > 0
    GROUP BY date, family, token_type, service_tier, context_window, inference_geo, speed
) AS u
USING (date, family, token_type, service_tier, context_window, inference_geo, speed)
WHERE u.quantity > 0
