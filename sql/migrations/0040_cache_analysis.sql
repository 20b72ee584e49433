-- Cache-opportunity analysis (docs/cache.md), refreshed by the cache_opportunities asset.

-- Minimum cacheable prefix length per model family (pipelines/pricing/cache_minimums.csv plus
-- LEDGER_CONFIG `cache_minimums:`); replaced whole on every refresh.
CREATE TABLE IF NOT EXISTS cache_minimums
(
    model               LowCardinality(String),
    min_prefix_tokens   UInt32,
    origin              LowCardinality(String)
)
ENGINE = MergeTree
ORDER BY model;

-- The cache prices of model_prices side by side, one row per (model family, context window, date),
-- for ASOF JOINs on effective_from. USD per token, before the service-tier multiplier.
CREATE VIEW IF NOT EXISTS cache_token_prices AS
SELECT
    model,
    context_window,
    effective_from,
    anyIf(usd_per_unit, token_type = 'input')           AS input_usd,
    anyIf(usd_per_unit, token_type = 'cache_write_5m')  AS cache_write_5m_usd,
    anyIf(usd_per_unit, token_type = 'cache_write_1h')  AS cache_write_1h_usd,
    anyIf(usd_per_unit, token_type = 'cache_read')      AS cache_read_usd
FROM model_prices
GROUP BY model, context_window, effective_from;

-- Cache use per day, team, feature and model from usage events. input_tokens are uncached.
-- realised_savings_usd = (reads + writes) at the input price - (writes at their write price + reads at
-- the read price), tier multiplier applied; negative when writes cost more than reads saved.
-- unpriced_cache_tokens: cache tokens of models without a price (not in the savings, never defaulted).
-- The asset deletes the refreshed days and writes them again; reads use FINAL.
CREATE TABLE IF NOT EXISTS cache_feature_daily
(
    date                    Date,
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    model                   LowCardinality(String),
    requests                UInt64,
    input_tokens            UInt64,
    cache_read_tokens       UInt64,
    cache_write_5m_tokens   UInt64,
    cache_write_1h_tokens   UInt64,
    realised_savings_usd    Decimal(38, 12),
    unpriced_cache_tokens   UInt64,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, team, feature, model);

-- The same per day, workspace, api key and model from the Admin API usage (admin_usage_hourly).
CREATE TABLE IF NOT EXISTS cache_key_daily
(
    date                    Date,
    workspace_id            LowCardinality(String),
    api_key_id              LowCardinality(String),
    model                   LowCardinality(String),
    input_tokens            UInt64,
    cache_read_tokens       UInt64,
    cache_write_5m_tokens   UInt64,
    cache_write_1h_tokens   UInt64,
    realised_savings_usd    Decimal(38, 12),
    unpriced_cache_tokens   UInt64,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, workspace_id, api_key_id, model);

-- Cache writes never read within their lifetime, per day of the write, team, feature and model.
-- wasted_write_usd: what the unread writes cost; wasted_premium_usd: what they cost above the plain
-- input price (the money caching lost). pending_write_tokens: unread writes whose lifetime had not
-- ended when the data ended (not yet judged).
CREATE TABLE IF NOT EXISTS cache_waste_daily
(
    date                    Date,
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    model                   LowCardinality(String),
    cache_write_5m_tokens   UInt64,
    cache_write_1h_tokens   UInt64,
    wasted_5m_tokens        UInt64,
    wasted_1h_tokens        UInt64,
    pending_write_tokens    UInt64,
    wasted_write_usd        Decimal(38, 12),
    wasted_premium_usd      Decimal(38, 12),
    unpriced_wasted_tokens  UInt64,
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, team, feature, model);

-- Prompt prefixes sent without caching that caching would make cheaper, from the last analysis
-- window (replaced whole on each refresh). Costs are of the prefix tokens only, over the window:
-- uncached (as billed), and simulated with a 5-minute and a 1-hour cache. saving_usd = uncached -
-- the cheaper of the two; monthly_saving_usd = saving_usd * 30 / lookback_days.
CREATE TABLE IF NOT EXISTS cache_opportunities
(
    computed_at             DateTime64(3, 'UTC'),
    window_start            DateTime64(3, 'UTC'),
    window_end              DateTime64(3, 'UTC'),
    lookback_days           UInt32,
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    model                   LowCardinality(String),
    prompt_prefix_hash      String,
    prefix_tokens           UInt64,
    min_prefix_tokens       UInt32,
    uses                    UInt64,
    first_use               DateTime64(3, 'UTC'),
    last_use                DateTime64(3, 'UTC'),
    windows_5m              UInt64,
    windows_1h              UInt64,
    uncached_cost_usd       Decimal(38, 12),
    cost_5m_usd             Decimal(38, 12),
    cost_1h_usd             Decimal(38, 12),
    recommended_ttl         LowCardinality(String),
    saving_usd              Decimal(38, 12),
    monthly_saving_usd      Decimal(38, 12)
)
ENGINE = MergeTree
ORDER BY (team, feature, model, prompt_prefix_hash);

-- Views for finance and engineering. Ratios are of sums, never averages of daily ratios.
-- hit_ratio = cache reads / all input tokens (uncached + reads + writes);
-- write_read_ratio = cache writes / cache reads (NULL without reads).
CREATE VIEW IF NOT EXISTS cache_efficiency_by_feature_daily DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    date, team, feature, model, requests, input_tokens, cache_read_tokens, cache_write_5m_tokens,
    cache_write_1h_tokens,
    input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens   AS all_input_tokens,
    if(all_input_tokens > 0, round(cache_read_tokens / all_input_tokens, 4), NULL)     AS hit_ratio,
    if(cache_read_tokens > 0,
       round((cache_write_5m_tokens + cache_write_1h_tokens) / cache_read_tokens, 4), NULL) AS write_read_ratio,
    realised_savings_usd,
    unpriced_cache_tokens
FROM cache_feature_daily FINAL;

CREATE VIEW IF NOT EXISTS cache_efficiency_by_feature_monthly DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month, team, feature, model, requests, input_tokens, cache_read_tokens, cache_write_5m_tokens,
    cache_write_1h_tokens,
    input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens   AS all_input_tokens,
    if(all_input_tokens > 0, round(cache_read_tokens / all_input_tokens, 4), NULL)     AS hit_ratio,
    if(cache_read_tokens > 0,
       round((cache_write_5m_tokens + cache_write_1h_tokens) / cache_read_tokens, 4), NULL) AS write_read_ratio,
    realised_savings_usd,
    unpriced_cache_tokens
FROM
(
    SELECT
        toStartOfMonth(date) AS month, team, feature, model,
        sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_5m_tokens) AS cache_write_5m_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
        sum(realised_savings_usd) AS realised_savings_usd, sum(unpriced_cache_tokens) AS unpriced_cache_tokens
    FROM cache_feature_daily FINAL
    GROUP BY month, team, feature, model
);

CREATE VIEW IF NOT EXISTS cache_efficiency_by_key_daily DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    date, workspace_id, api_key_id, model, input_tokens, cache_read_tokens, cache_write_5m_tokens,
    cache_write_1h_tokens,
    input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens   AS all_input_tokens,
    if(all_input_tokens > 0, round(cache_read_tokens / all_input_tokens, 4), NULL)     AS hit_ratio,
    if(cache_read_tokens > 0,
       round((cache_write_5m_tokens + cache_write_1h_tokens) / cache_read_tokens, 4), NULL) AS write_read_ratio,
    realised_savings_usd,
    unpriced_cache_tokens
FROM cache_key_daily FINAL;

CREATE VIEW IF NOT EXISTS cache_efficiency_by_key_monthly DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month, workspace_id, api_key_id, model, input_tokens, cache_read_tokens, cache_write_5m_tokens,
    cache_write_1h_tokens,
    input_tokens + cache_read_tokens + cache_write_5m_tokens + cache_write_1h_tokens   AS all_input_tokens,
    if(all_input_tokens > 0, round(cache_read_tokens / all_input_tokens, 4), NULL)     AS hit_ratio,
    if(cache_read_tokens > 0,
       round((cache_write_5m_tokens + cache_write_1h_tokens) / cache_read_tokens, 4), NULL) AS write_read_ratio,
    realised_savings_usd,
    unpriced_cache_tokens
FROM
(
    SELECT
        toStartOfMonth(date) AS month, workspace_id, api_key_id, model,
        sum(input_tokens) AS input_tokens, sum(cache_read_tokens) AS cache_read_tokens,
        sum(cache_write_5m_tokens) AS cache_write_5m_tokens, sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
        sum(realised_savings_usd) AS realised_savings_usd, sum(unpriced_cache_tokens) AS unpriced_cache_tokens
    FROM cache_key_daily FINAL
    GROUP BY month, workspace_id, api_key_id, model
);

CREATE VIEW IF NOT EXISTS cache_waste_by_feature_monthly DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    month, team, feature, model, cache_write_tokens, wasted_5m_tokens, wasted_1h_tokens,
    if(cache_write_tokens > 0,
       round((wasted_5m_tokens + wasted_1h_tokens) / cache_write_tokens, 4), NULL) AS wasted_write_share,
    pending_write_tokens, wasted_write_usd, wasted_premium_usd, unpriced_wasted_tokens
FROM
(
    SELECT
        toStartOfMonth(date) AS month, team, feature, model,
        sum(cache_write_5m_tokens + cache_write_1h_tokens) AS cache_write_tokens,
        sum(wasted_5m_tokens) AS wasted_5m_tokens, sum(wasted_1h_tokens) AS wasted_1h_tokens,
        sum(pending_write_tokens) AS pending_write_tokens, sum(wasted_write_usd) AS wasted_write_usd,
        sum(wasted_premium_usd) AS wasted_premium_usd, sum(unpriced_wasted_tokens) AS unpriced_wasted_tokens
    FROM cache_waste_daily FINAL
    GROUP BY month, team, feature, model
);

-- The latest opportunities, best first (rank 1 = largest estimated monthly saving).
CREATE VIEW IF NOT EXISTS cache_opportunities_ranked DEFINER = CURRENT_USER SQL SECURITY DEFINER AS
SELECT
    row_number() OVER (ORDER BY monthly_saving_usd DESC, team, feature, model, prompt_prefix_hash) AS rank,
    team, feature, model, prompt_prefix_hash, prefix_tokens, uses, recommended_ttl,
    if(recommended_ttl = '1h', windows_1h, windows_5m)  AS cache_writes,
    uses - cache_writes                                 AS cache_reads,
    uncached_cost_usd,
    if(recommended_ttl = '1h', cost_1h_usd, cost_5m_usd) AS cached_cost_usd,
    saving_usd, monthly_saving_usd, window_start, window_end, computed_at
FROM cache_opportunities
ORDER BY rank;
