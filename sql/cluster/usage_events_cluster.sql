-- usage_events and rejected_events on a ClickHouse cluster (docs/scale.md): a replicated local table per
-- shard and a Distributed table under the name the pipeline reads and writes. Create these before the
-- pipeline first connects; migrations 0001 / 0002 (CREATE TABLE IF NOT EXISTS) then leave them alone.
-- Rows are sharded by event_id (and by origin for rejects), so every copy of an event lands on the same
-- shard, where ReplacingMergeTree collapses it; FINAL through the Distributed table is then exact.
-- The pipeline's user needs distributed_foreground_insert = 1 (docs/scale.md, "On a real cluster"). Tested
-- without Keeper on two shards by tests/cluster/test_cluster_ddl.py.
CREATE TABLE IF NOT EXISTS usage_events_local ON CLUSTER '{cluster}'
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
    requested_model             LowCardinality(String) DEFAULT '',
    service_tier                LowCardinality(String),
    speed                       LowCardinality(String) DEFAULT 'standard',
    inference_geo               LowCardinality(String) DEFAULT '',
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
    guard_action                LowCardinality(String) DEFAULT '',
    guard_budget                LowCardinality(String) DEFAULT '',
    ratelimit                   Map(LowCardinality(String), UInt64),
    source                      String,
    source_position             UInt64,
    ingested_at                 DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/usage_events', '{replica}', ingested_at)
PARTITION BY toYYYYMM(ts)
ORDER BY (toDate(ts), event_id);

CREATE TABLE IF NOT EXISTS usage_events ON CLUSTER '{cluster}' AS usage_events_local
ENGINE = Distributed('{cluster}', currentDatabase(), usage_events_local, cityHash64(event_id));

CREATE TABLE IF NOT EXISTS rejected_events_local ON CLUSTER '{cluster}'
(
    source_type     LowCardinality(String),
    source          String,
    partition       Int32,
    position        UInt64,
    reason          String,
    raw             String,
    rejected_at     DateTime64(3, 'UTC')
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/rejected_events', '{replica}', rejected_at)
ORDER BY (source_type, source, partition, position);

CREATE TABLE IF NOT EXISTS rejected_events ON CLUSTER '{cluster}' AS rejected_events_local
ENGINE = Distributed('{cluster}', currentDatabase(), rejected_events_local, cityHash64(source, partition, position));
