-- Application usage events, schema version 1 (docs/events.md): one row per Messages API call.
-- ReplacingMergeTree on (day, event_id): a replayed file or a retried event collapses to one row;
-- exact reads use FINAL. workspace_id / api_key_id are '' where the event said null
-- (default workspace / console), matching admin_usage_hourly.
CREATE TABLE IF NOT EXISTS usage_events
(
    event_id                    String,
    ts                          DateTime64(3, 'UTC'),
    schema_version              UInt8,
    team                        LowCardinality(String),
    feature                     LowCardinality(String),
    env                         LowCardinality(String),
    user                        String,
    workspace_id                LowCardinality(String),
    api_key_id                  LowCardinality(String),
    model                       LowCardinality(String),
    service_tier                LowCardinality(String),
    input_tokens                UInt64,
    output_tokens               UInt64,
    cache_read_input_tokens     UInt64,
    cache_write_5m_tokens       UInt64,
    cache_write_1h_tokens       UInt64,
    web_search_requests         UInt64,
    latency_ms                  Nullable(UInt32),
    status                      Nullable(UInt16),
    error_type                  LowCardinality(String),
    request_id                  String,
    prompt_prefix_hash          String,
    prompt_prefix_tokens        UInt64,
    ratelimit                   Map(LowCardinality(String), UInt64),
    source                      String,
    source_position             UInt64,
    ingested_at                 DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (toDate(ts), event_id);
