-- The unit prices the call-time budget guard needs (pipelines.emitter.guard), published by model id: the ids
-- seen in usage events since {seen_since}, the families of model_prices, and the ids asked for ({models}:
-- downgrade lists, ids a guard met without a price), each priced by the shared rules (0070_shared_rules.sql).
-- One row per model, prompt band, service tier, speed, inference geo and token type, at today's price (USD
-- per unit, every multiplier included). A model without a price has no row: the guard treats it by policy.
-- context_window is the prompt band (ledger_prompt_band); from_prompt_tokens: the smallest prompt (input +
-- cache reads + cache writes) the rule puts in the band, found by evaluating the rule itself over 0 .. 1M
-- tokens (the largest context window), so the guard never restates a threshold. Every column but model,
-- context_window, from_prompt_tokens, token_type and usd_per_unit is a price dimension the guard matches
-- against the call (service_tier, speed, inference_geo).
WITH
    models AS
    (
        SELECT DISTINCT model FROM
        (
            SELECT model FROM usage_events WHERE ts >= {seen_since:DateTime64(3, 'UTC')}
            UNION ALL SELECT model FROM model_prices
            UNION ALL SELECT arrayJoin({models:Array(String)}) AS model
        )
    ),
    windows AS
    (
        SELECT ledger_prompt_band(number, 0, 0, 0) AS context_window, min(number) AS from_prompt_tokens
        FROM numbers(1000001)
        GROUP BY context_window
    ),
    tiers AS (SELECT DISTINCT value AS service_tier FROM price_multipliers WHERE dimension = 'service_tier'),
    speeds AS (SELECT DISTINCT value AS speed FROM price_multipliers WHERE dimension = 'speed'),
    geos AS (SELECT DISTINCT value AS inference_geo FROM price_multipliers WHERE dimension = 'inference_geo'),
    cells AS
    (
        SELECT m.model AS model, w.context_window AS context_window, w.from_prompt_tokens AS from_prompt_tokens,
               t.service_tier AS service_tier, s.speed AS speed, g.inference_geo AS inference_geo,
               ledger_price_cell(m.model, w.context_window, t.service_tier, s.speed, g.inference_geo) AS price_cell
        FROM models AS m
        CROSS JOIN windows AS w
        CROSS JOIN tiers AS t
        CROSS JOIN speeds AS s
        CROSS JOIN geos AS g
    ),
    prices_today AS
    (
        SELECT price_cell, token_type, argMax(usd_per_unit, effective_from) AS usd_per_unit
        FROM unit_prices
        WHERE effective_from <= {today:Date}
        GROUP BY price_cell, token_type
    )
SELECT c.model AS model, c.context_window AS context_window, c.from_prompt_tokens AS from_prompt_tokens,
       c.service_tier AS service_tier, c.speed AS speed, c.inference_geo AS inference_geo,
       p.token_type AS token_type, p.usd_per_unit AS usd_per_unit
FROM cells AS c
INNER JOIN prices_today AS p ON p.price_cell = c.price_cell
ORDER BY model, from_prompt_tokens, service_tier, speed, inference_geo, token_type
