-- Rollup rows for hours the allocation does not cover yet: usage events priced at list price.
-- Events are summed per hour and price cell first, then priced by the shared lookup (unit_prices).
-- A model without a price adds nothing to spend_usd and its units to unpriced_units (never defaulted).
INSERT INTO {build:Identifier}
    (hour, team, feature, env, workspace_id, api_key_id, model, source, spend_usd, unpriced_units, refreshed_at)
SELECT
    u.hour, u.team, u.feature, u.env, u.workspace_id, u.api_key_id, u.model_family,
    'events',
    sum(ifNull(toDecimal128(u.units, 0) * p.usd_per_unit, toDecimal128(0, 12))),
    sumIf(u.units, p.usd_per_unit IS NULL),
    {refreshed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        toStartOfHour(ts) AS hour, team, feature, env, workspace_id, api_key_id,
        ledger_model_family(model) AS model_family,
        ledger_price_cell(model,
                          ledger_prompt_band(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                             cache_write_1h_tokens),
                          service_tier, speed, inference_geo) AS price_cell,
        cell.1 AS token_type,
        sum(cell.2) AS units
    FROM usage_events FINAL
    ARRAY JOIN ledger_token_quantities(input_tokens, cache_read_input_tokens, cache_write_5m_tokens,
                                       cache_write_1h_tokens, output_tokens, web_search_requests) AS cell
    WHERE ts >= {from:DateTime('UTC')} AND cell.2 > 0
    GROUP BY hour, team, feature, env, workspace_id, api_key_id, model_family, price_cell, token_type
) AS u
ASOF LEFT JOIN unit_prices AS p
    ON p.price_cell = u.price_cell AND p.token_type = u.token_type AND p.effective_from <= toDate(u.hour)
GROUP BY u.hour, u.team, u.feature, u.env, u.workspace_id, u.api_key_id, u.model_family
SETTINGS join_use_nulls = 1
