-- Effective-dated list prices, one row per (model family, context window, token type, date).
-- A model id prices as its family: the id itself, or the id minus a trailing "-YYYYMMDD"
-- (replaceRegexpOne(model, '-[0-9]{8}$', '')). Look a price up with an ASOF JOIN on
-- effective_from <= the usage date. token_type: input, cache_write_5m, cache_write_1h,
-- cache_read, output (USD per token) and web_search (USD per request).
CREATE TABLE IF NOT EXISTS model_prices
(
    model               LowCardinality(String),
    context_window      LowCardinality(String),
    token_type          LowCardinality(String),
    effective_from      Date,
    usd_per_unit        Decimal(38, 12),
    origin              LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY (model, context_window, token_type, effective_from);

-- Multiplier on every token price of a service tier (batch = 0.5), stacking with cache prices.
CREATE TABLE IF NOT EXISTS service_tier_multipliers
(
    service_tier        LowCardinality(String),
    effective_from      Date,
    multiplier          Decimal(9, 6)
)
ENGINE = MergeTree
ORDER BY (service_tier, effective_from);
