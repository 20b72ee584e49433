-- Chargeback: the month's showback (allocation_hourly) per cost centre, team, feature, env and model,
-- after the shared-cost policy (LEDGER_CONFIG shared_costs) moved the unattributed residual.
-- showback_cost_usd: exact allocated cost before rounding. allocated_cost_usd: rounded to the cent by
-- largest remainder, so the lines of a month sum to the month's allocated total rounded to the cent.
-- Lines created by the policy carry feature '(shared cost)'. A month is replaced whole on each run.
CREATE TABLE IF NOT EXISTS chargeback_monthly
(
    month                   Date,
    cost_center             LowCardinality(String),
    team                    LowCardinality(String),
    feature                 LowCardinality(String),
    env                     LowCardinality(String),
    model                   LowCardinality(String),
    input_tokens            UInt64,
    cache_write_5m_tokens   UInt64,
    cache_write_1h_tokens   UInt64,
    cache_read_tokens       UInt64,
    output_tokens           UInt64,
    web_search_requests     UInt64,
    list_cost_usd           Decimal(38, 12),
    showback_cost_usd       Decimal(38, 12),
    allocated_cost_usd      Decimal(38, 2),
    share                   Decimal(18, 6),
    provisional             UInt8,
    shared_cost_policy      LowCardinality(String),
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = MergeTree
PARTITION BY month
ORDER BY (cost_center, team, feature, env, model);

CREATE TABLE IF NOT EXISTS chargeback_monthly_staging AS chargeback_monthly;
