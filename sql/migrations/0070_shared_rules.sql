-- The money rules every domain shares, each defined once, here. Queries call these functions and read
-- these views; no query and no Python module writes the rules again.
--
-- Privilege on a ClickHouse server: CREATE FUNCTION (SQL user-defined functions are server-wide objects,
-- hence the ledger_ prefix; on a cluster run this file ON CLUSTER, see docs/scale.md) and CREATE VIEW in
-- the ledger's database. Calling a function needs no privilege; the finance role reads views only.
-- chDB keeps the functions with its data directory (user_defined/), so the embedded default needs nothing.

-- Model family: a model id prices as its family, the id itself or the id minus a trailing "-YYYYMMDD"
-- (claude-haiku-4-5-20251001 -> claude-haiku-4-5). model_prices and cache_minimums are keyed by family.
CREATE OR REPLACE FUNCTION ledger_model_family AS (model) -> replaceRegexpOne(model, '-[0-9]{8}$', '');

-- Context-window class of one request, named as the Admin API names it: more than 200K prompt tokens
-- (uncached input + cache reads + cache writes) is '200k-1M', otherwise '0-200k'.
CREATE OR REPLACE FUNCTION ledger_context_window AS (input, cache_read, cache_write_5m, cache_write_1h) ->
    if(input + cache_read + cache_write_5m + cache_write_1h > 200000, '200k-1M', '0-200k');

-- The token-type unpivot: the six quantities of a usage row as (token_type, quantity) pairs, for
-- ARRAY JOIN ledger_token_quantities(...) AS cell ... cell.1 AS token_type, cell.2 AS quantity.
-- token_type names are those of model_prices: web_search counts requests, the others tokens.
CREATE OR REPLACE FUNCTION ledger_token_quantities AS (input, cache_read, cache_write_5m, cache_write_1h, output,
                                                       web_search) ->
    arrayZip(['input', 'cache_read', 'cache_write_5m', 'cache_write_1h', 'output', 'web_search'],
             [toUInt64(input), toUInt64(cache_read), toUInt64(cache_write_5m), toUInt64(cache_write_1h),
              toUInt64(output), toUInt64(web_search)]);

-- The price cell of usage: every dimension but the token type and the day that the price depends on.
CREATE OR REPLACE FUNCTION ledger_price_cell AS (model, context_window, service_tier) ->
    concat(ledger_model_family(model), '|', context_window, '|', service_tier);

-- The list-price lookup: USD per unit of a price cell and token type, effective from a date until the
-- next row of the same cell and token type. A list price (model_prices) times its service tier's
-- multiplier (service_tier_multipliers, not on web search), each row valid where both are in force.
-- Look a price up with
--     ASOF LEFT JOIN unit_prices AS p ON p.price_cell = ledger_price_cell(model, context_window, service_tier)
--                                    AND p.token_type = token_type AND p.effective_from <= day
-- and treat a NULL price as an unknown model: reported, never priced at a default.
CREATE VIEW IF NOT EXISTS unit_prices AS
WITH
    prices AS
    (
        SELECT model, context_window, token_type, effective_from, usd_per_unit,
               leadInFrame(effective_from, 1, toDate('2149-06-06')) OVER (
                   PARTITION BY model, context_window, token_type ORDER BY effective_from
                   ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS effective_until
        FROM model_prices
    ),
    tiers AS
    (
        SELECT service_tier, effective_from, multiplier,
               leadInFrame(effective_from, 1, toDate('2149-06-06')) OVER (
                   PARTITION BY service_tier ORDER BY effective_from
                   ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS effective_until
        FROM service_tier_multipliers
    )
SELECT
    ledger_price_cell(p.model, p.context_window, t.service_tier)    AS price_cell,
    p.token_type                                                    AS token_type,
    greatest(p.effective_from, t.effective_from)                    AS effective_from,
    toDecimal128(p.usd_per_unit * if(p.token_type = 'web_search', toDecimal32(1, 6), t.multiplier), 12)
                                                                    AS usd_per_unit
FROM prices AS p
CROSS JOIN tiers AS t
WHERE p.effective_from < t.effective_until AND t.effective_from < p.effective_until;

-- The cache prices of unit_prices side by side, one row per price cell and date (the price files give
-- every token type of a model at once, so a cell's token types share their dates). USD per token,
-- service-tier multiplier included.
CREATE VIEW IF NOT EXISTS cache_unit_prices AS
SELECT
    price_cell,
    effective_from,
    anyIf(usd_per_unit, token_type = 'input')           AS input_usd,
    anyIf(usd_per_unit, token_type = 'cache_write_5m')  AS cache_write_5m_usd,
    anyIf(usd_per_unit, token_type = 'cache_write_1h')  AS cache_write_1h_usd,
    anyIf(usd_per_unit, token_type = 'cache_read')      AS cache_read_usd
FROM unit_prices
GROUP BY price_cell, effective_from;

-- Realised saving of prompt caching (docs/cache.md): the cached tokens (reads + writes) at the input price
-- minus what the writes and reads cost; negative when writes cost more than the reads saved. Prices of
-- one cache_unit_prices row; NULL when the model has no price.
CREATE OR REPLACE FUNCTION ledger_cache_saving_usd AS (reads, writes_5m, writes_1h, p_input, p_write_5m, p_write_1h,
                                                       p_read) ->
    toDecimal128(reads + writes_5m + writes_1h, 0) * p_input - toDecimal128(writes_5m, 0) * p_write_5m
    - toDecimal128(writes_1h, 0) * p_write_1h - toDecimal128(reads, 0) * p_read;

-- Replaced by cache_unit_prices (tier multiplier included, keyed by price cell).
DROP VIEW IF EXISTS cache_token_prices;
