-- Every dimension Anthropic bills by (docs/finance.md "Price dimensions"): the Admin API tables, the prices,
-- the allocation and chargeback gain inference geo and speed, prompt-length bands, non-token cost types and
-- the rates the cost report teaches. Privilege on a ClickHouse server: as migration 0070 (CREATE FUNCTION),
-- plus CREATE TABLE / DROP TABLE in the ledger's database.

-- Admin API usage grouped by inference_geo and speed too (part of the key). Rows fetched before this
-- migration were not grouped by them: geo '' (not known), speed 'standard'; the collectors' trailing
-- re-fetch replaces the recent ones.
CREATE TABLE IF NOT EXISTS admin_usage_hourly_0090
(
    bucket_start                DateTime('UTC'),
    workspace_id                LowCardinality(String),
    api_key_id                  LowCardinality(String),
    model                       LowCardinality(String),
    service_tier                LowCardinality(String),
    context_window              LowCardinality(String),
    inference_geo               LowCardinality(String) DEFAULT '',
    speed                       LowCardinality(String) DEFAULT 'standard',
    uncached_input_tokens       UInt64,
    cache_read_input_tokens     UInt64,
    cache_write_5m_tokens       UInt64,
    cache_write_1h_tokens       UInt64,
    output_tokens               UInt64,
    web_search_requests         UInt64,
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(bucket_start)
ORDER BY (bucket_start, workspace_id, api_key_id, model, service_tier, context_window, inference_geo, speed);

INSERT INTO admin_usage_hourly_0090
SELECT bucket_start, workspace_id, api_key_id, model, service_tier, context_window, '', 'standard',
       uncached_input_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens,
       web_search_requests, extracted_at
FROM admin_usage_hourly;

RENAME TABLE admin_usage_hourly TO admin_usage_hourly_before_0090, admin_usage_hourly_0090 TO admin_usage_hourly;
DROP TABLE admin_usage_hourly_before_0090;

-- The cost report with the inference geo and speed of each line ('' where the report does not say).
CREATE TABLE IF NOT EXISTS admin_cost_daily_0090
(
    date                        Date,
    workspace_id                LowCardinality(String),
    description                 String,
    cost_type                   LowCardinality(String),
    model                       LowCardinality(String),
    token_type                  LowCardinality(String),
    service_tier                LowCardinality(String),
    context_window              LowCardinality(String),
    inference_geo               LowCardinality(String),
    speed                       LowCardinality(String),
    currency                    LowCardinality(String),
    amount_usd                  Decimal(38, 12),
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, workspace_id, description, cost_type, model, token_type, service_tier, context_window, inference_geo,
          speed);

INSERT INTO admin_cost_daily_0090
SELECT date, workspace_id, description, cost_type, model, token_type, service_tier, context_window, '', '', currency,
       amount_usd, extracted_at
FROM admin_cost_daily;

RENAME TABLE admin_cost_daily TO admin_cost_daily_before_0090, admin_cost_daily_0090 TO admin_cost_daily;
DROP TABLE admin_cost_daily_before_0090;

-- List prices (pipelines/pricing/*.csv plus LEDGER_CONFIG prices:), reloaded whole by the model_prices asset.
-- model_prices: USD per token of a model family's price schedule in force from effective_from, per token
-- type, for prompts of more than prompt_tokens_above tokens (0: the base rate).
DROP VIEW IF EXISTS cache_unit_prices;
DROP VIEW IF EXISTS unit_prices;
DROP TABLE IF EXISTS model_prices;
DROP TABLE IF EXISTS service_tier_multipliers;

CREATE TABLE IF NOT EXISTS model_prices
(
    model               LowCardinality(String),
    effective_from      Date,
    prompt_tokens_above UInt32,
    token_type          LowCardinality(String),
    usd_per_unit        Decimal(38, 12),
    origin              LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (model, effective_from, prompt_tokens_above, token_type);

-- Multipliers of the token prices: dimension service_tier / speed / inference_geo, a value, a family or '*'.
CREATE TABLE IF NOT EXISTS price_multipliers
(
    dimension           LowCardinality(String),
    value               LowCardinality(String),
    model               LowCardinality(String),
    effective_from      Date,
    multiplier          Decimal(18, 6),
    origin              LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (dimension, value, model, effective_from);

-- Prices of what is not tokens, per cost report cost_type (web_search per request, code_execution per
-- container-hour beyond a monthly allowance, session_usage per session-hour).
CREATE TABLE IF NOT EXISTS service_prices
(
    cost_type               LowCardinality(String),
    unit                    LowCardinality(String),
    effective_from          Date,
    usd_per_unit            Decimal(38, 12),
    free_units_per_month    Decimal(18, 6),
    origin                  LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (cost_type, effective_from);

-- What the cost report teaches: per day and cost-report cell (model family, token type, tier, context window,
-- inference geo, speed), the report's amount over the Admin API's quantity of the same cell. Rebuilt whole
-- by the unit_prices asset.
CREATE TABLE IF NOT EXISTS learned_unit_prices
(
    date                Date,
    model               LowCardinality(String),
    token_type          LowCardinality(String),
    service_tier        LowCardinality(String),
    context_window      LowCardinality(String),
    inference_geo       LowCardinality(String),
    speed               LowCardinality(String),
    quantity            UInt64,
    amount_usd          Decimal(38, 12),
    usd_per_unit        Decimal(38, 12),
    computed_at         DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (date, model, token_type, service_tier, context_window, inference_geo, speed);

-- The price lookup (one home: built by pipelines/pricing/sql/unit_prices_of_prices.sql, replaced whole by the
-- unit_prices asset): USD per unit of a price cell and token type from a date until the cell's next row.
-- origin 'list': list price x multipliers; 'learned': a model without a list price, at the rate the cost
-- report taught on that day. Look a price up with
--     ASOF LEFT JOIN unit_prices AS p ON p.price_cell = <ledger_price_cell(...)> AND p.token_type = <token type>
--                                    AND p.effective_from <= <day>
-- and treat a NULL price as unpriced usage: reported, never priced at a default.
CREATE TABLE IF NOT EXISTS unit_prices
(
    price_cell          String,
    token_type          LowCardinality(String),
    effective_from      Date,
    usd_per_unit        Decimal(38, 12),
    origin              LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (price_cell, token_type, effective_from);

-- Prompt-length bands that prices can differ by, as (name, the prompt length a request must exceed).
-- One home for the boundaries: 100K (Haiku 5.5) and 200K (long context).
CREATE OR REPLACE FUNCTION ledger_prompt_bands AS () ->
    [('0-100k', toUInt32(0)), ('100k-200k', toUInt32(100000)), ('200k-1M', toUInt32(200000))];

-- The band of one request from its prompt tokens (uncached input + cache reads + cache writes).
CREATE OR REPLACE FUNCTION ledger_prompt_band AS (input, cache_read, cache_write_5m, cache_write_1h) ->
    arrayLast(band -> band.2 = 0 OR input + cache_read + cache_write_5m + cache_write_1h > band.2,
              ledger_prompt_bands()).1;

-- The band of Admin API usage, which only says '0-200k' or '200k-1M': a request over 200K is in the top band;
-- the others are priced at the base band (a Haiku 5.5 request of 100K-200K prompt tokens is then under-priced
-- at list price until the cost report, which the allocation follows, teaches the real rate).
CREATE OR REPLACE FUNCTION ledger_admin_prompt_band AS (context_window) ->
    if(context_window = '200k-1M', '200k-1M', '0-100k');

-- The price cell: every dimension but the token type and the day that a price depends on. Where usage does not
-- say (''), the tier and speed are standard and the geo is global (standard pricing either way).
CREATE OR REPLACE FUNCTION ledger_price_cell AS (model, prompt_band, service_tier, speed, inference_geo) ->
    concat(ledger_model_family(model), '|', prompt_band, '|', if(service_tier = '', 'standard', service_tier), '|',
           if(speed = '', 'standard', speed), '|', if(inference_geo = '', 'global', inference_geo));

-- The cost report's token_type in the ledger's names (model_prices, ledger_token_quantities).
CREATE OR REPLACE FUNCTION ledger_cost_report_token_type AS (token_type) ->
    transform(token_type,
              ['uncached_input_tokens', 'cache_read_input_tokens', 'cache_creation.ephemeral_5m_input_tokens',
               'cache_creation.ephemeral_1h_input_tokens', 'output_tokens'],
              ['input', 'cache_read', 'cache_write_5m', 'cache_write_1h', 'output'], token_type);

-- The cache prices of unit_prices side by side, one row per price cell and date (a model's price schedule
-- gives every token type at once, so a cell's token types share their dates). USD per token, all
-- multipliers included.
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

-- Showback and chargeback carry the new dimensions. cost_type: tokens, web_search, code_execution,
-- session_usage (the cost report's). priced_from: cost_report (the report's amount, split), list (list
-- price: the day has no report yet, or the usage is billed outside it, e.g. priority tier), learned_rate (a
-- model without a list price at the rate the cost report last taught), unpriced (no price at all: 0 here,
-- flagged, the month is not final).
ALTER TABLE allocation_hourly
    ADD COLUMN IF NOT EXISTS inference_geo LowCardinality(String) DEFAULT '' AFTER context_window,
    ADD COLUMN IF NOT EXISTS speed LowCardinality(String) DEFAULT 'standard' AFTER inference_geo,
    ADD COLUMN IF NOT EXISTS prompt_band LowCardinality(String) DEFAULT '' AFTER speed,
    ADD COLUMN IF NOT EXISTS cost_type LowCardinality(String) DEFAULT 'tokens' AFTER token_type,
    ADD COLUMN IF NOT EXISTS priced_from LowCardinality(String) DEFAULT 'cost_report' AFTER basis;
ALTER TABLE allocation_hourly_staging
    ADD COLUMN IF NOT EXISTS inference_geo LowCardinality(String) DEFAULT '' AFTER context_window,
    ADD COLUMN IF NOT EXISTS speed LowCardinality(String) DEFAULT 'standard' AFTER inference_geo,
    ADD COLUMN IF NOT EXISTS prompt_band LowCardinality(String) DEFAULT '' AFTER speed,
    ADD COLUMN IF NOT EXISTS cost_type LowCardinality(String) DEFAULT 'tokens' AFTER token_type,
    ADD COLUMN IF NOT EXISTS priced_from LowCardinality(String) DEFAULT 'cost_report' AFTER basis;
ALTER TABLE allocation_event_cells
    ADD COLUMN IF NOT EXISTS inference_geo LowCardinality(String) DEFAULT '' AFTER context_window,
    ADD COLUMN IF NOT EXISTS speed LowCardinality(String) DEFAULT 'standard' AFTER inference_geo,
    ADD COLUMN IF NOT EXISTS prompt_band LowCardinality(String) DEFAULT '' AFTER speed;
ALTER TABLE chargeback_monthly
    ADD COLUMN IF NOT EXISTS cost_type LowCardinality(String) DEFAULT 'tokens' AFTER model,
    ADD COLUMN IF NOT EXISTS priced_from LowCardinality(String) DEFAULT 'cost_report' AFTER provisional;
ALTER TABLE chargeback_monthly_staging
    ADD COLUMN IF NOT EXISTS cost_type LowCardinality(String) DEFAULT 'tokens' AFTER model,
    ADD COLUMN IF NOT EXISTS priced_from LowCardinality(String) DEFAULT 'cost_report' AFTER provisional;

CREATE OR REPLACE VIEW finance_monthly_chargeback DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month, cost_center, team, feature, env, model, cost_type,
    input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, cache_read_tokens, output_tokens,
    web_search_requests, list_cost_usd, allocated_cost_usd, share, provisional, priced_from, shared_cost_policy
FROM chargeback_monthly;

CREATE OR REPLACE VIEW finance_daily_spend DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    toDate(hour)                                    AS date,
    cost_center,
    team,
    feature,
    env,
    model,
    service_tier,
    speed,
    inference_geo,
    cost_type,
    sumIf(quantity, token_type = 'input')           AS input_tokens,
    sumIf(quantity, token_type = 'cache_write_5m')  AS cache_write_5m_tokens,
    sumIf(quantity, token_type = 'cache_write_1h')  AS cache_write_1h_tokens,
    sumIf(quantity, token_type = 'cache_read')      AS cache_read_tokens,
    sumIf(quantity, token_type = 'output')          AS output_tokens,
    sumIf(quantity, token_type = 'web_search')      AS web_search_requests,
    sum(list_cost_usd)                              AS list_cost_usd,
    sum(allocated_cost_usd)                         AS allocated_cost_usd,
    max(provisional)                                AS provisional
FROM allocation_hourly
GROUP BY date, cost_center, team, feature, env, model, service_tier, speed, inference_geo, cost_type;

-- Each budget's usage without a price (not in its spend; shown and alerted on, never counted as $0 silently).
ALTER TABLE budget_status ADD COLUMN IF NOT EXISTS unpriced_units UInt64 DEFAULT 0 AFTER data_until;

-- What each month's allocation was computed from: a fingerprint of the month's Admin API usage and cost report
-- rows (order-independent). When Anthropic restates a day, the fingerprint changes and the restatement sensor
-- re-allocates the month (and the export issues a correction).
CREATE TABLE IF NOT EXISTS allocation_sources
(
    month                   Date,
    usage_fingerprint       UInt64,
    cost_fingerprint        UInt64,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
ORDER BY month;
