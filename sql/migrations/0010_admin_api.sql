-- Admin API data: the authority on how much was used and what it cost.
-- workspace_id '' = the default workspace; api_key_id '' = console / Workbench use (the API's null).
-- A re-fetched hour or day is written with a newer extracted_at; ReplacingMergeTree keeps the newest
-- row per key, and the collector deletes rows of the fetched range that the new fetch no longer has.
CREATE TABLE IF NOT EXISTS admin_usage_hourly
(
    bucket_start                DateTime('UTC'),
    workspace_id                LowCardinality(String),
    api_key_id                  LowCardinality(String),
    model                       LowCardinality(String),
    service_tier                LowCardinality(String),
    context_window              LowCardinality(String),
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
ORDER BY (bucket_start, workspace_id, api_key_id, model, service_tier, context_window);

-- amount_usd = the report's amount (a decimal string in cents) / 100, exact.
CREATE TABLE IF NOT EXISTS admin_cost_daily
(
    date                        Date,
    workspace_id                LowCardinality(String),
    description                 String,
    cost_type                   LowCardinality(String),
    model                       LowCardinality(String),
    token_type                  LowCardinality(String),
    service_tier                LowCardinality(String),
    context_window              LowCardinality(String),
    currency                    LowCardinality(String),
    amount_usd                  Decimal(38, 12),
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
PARTITION BY toYYYYMM(date)
ORDER BY (date, workspace_id, description, cost_type, model, token_type, service_tier, context_window);

CREATE TABLE IF NOT EXISTS admin_workspaces
(
    workspace_id                String,
    name                        String,
    display_color               String,
    created_at                  Nullable(DateTime64(3, 'UTC')),
    archived_at                 Nullable(DateTime64(3, 'UTC')),
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
ORDER BY workspace_id;

CREATE TABLE IF NOT EXISTS admin_api_keys
(
    api_key_id                  String,
    name                        String,
    workspace_id                String,
    status                      LowCardinality(String),
    partial_key_hint            String,
    created_at                  Nullable(DateTime64(3, 'UTC')),
    extracted_at                DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(extracted_at)
ORDER BY api_key_id;
