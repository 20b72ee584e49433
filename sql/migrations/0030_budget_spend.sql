-- Spend rollup for budgets: hourly spend per (team, feature, env, workspace, api key), small enough
-- that a sensor tick reads a whole period of it without touching raw events.
-- source 'admin': allocated Admin-API-priced cost (allocation_hourly), for hours the allocation covers;
-- source 'events': usage_events priced at list price (model_prices), for the later hours.
-- An hour has rows of one source only. The spend_hourly asset rebuilds whole months in
-- spend_hourly_staging and swaps them in (ALTER TABLE ... REPLACE PARTITION): atomic per month, no
-- deleted-row residue, so a read never sees a half-written month or a row twice.
-- unpriced_units: tokens / requests of models without a price (not in spend_usd, never defaulted).
CREATE TABLE IF NOT EXISTS spend_hourly
(
    hour                    DateTime('UTC'),
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    env                     LowCardinality(String),
    workspace_id            LowCardinality(String),
    api_key_id              LowCardinality(String),
    source                  LowCardinality(String),
    spend_usd               Decimal(38, 12),
    unpriced_units          UInt64,
    refreshed_at            DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(refreshed_at)
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, team, feature, env, workspace_id, api_key_id);

-- Where a refresh builds its months before swapping them into spend_hourly (same structure).
CREATE TABLE IF NOT EXISTS spend_hourly_staging AS spend_hourly;

-- Each budget's state at the last budget_status materialisation (replaced whole), for SQL users.
CREATE TABLE IF NOT EXISTS budget_status
(
    budget_id               String,
    period                  String,
    period_start            DateTime('UTC'),
    period_end              DateTime('UTC'),
    scope                   LowCardinality(String),
    target                  String,
    env                     String,
    amount_usd              Decimal(38, 12),
    spend_usd               Decimal(38, 12),
    percent                 Decimal(38, 6),
    thresholds_crossed      Array(Decimal(9, 3)),
    projected_usd           Decimal(38, 12),
    projected_percent       Decimal(38, 6),
    data_until              Nullable(DateTime('UTC')),
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (budget_id, period_start);
