-- Kafka engine → usage_events / rejected_events, with the pipeline's event rules (docs/events.md) in SQL.
-- usage_events_kafka_parse maps each message once into usage_events_kafka_parsed (Null engine: nothing is
-- stored) with a reject_reason ('' = good); two views fan that out into usage_events and rejected_events.
-- Same tables, same dedup: usage_events collapses repeated event_ids, rejected_events repeated offsets.
CREATE TABLE IF NOT EXISTS usage_events_kafka_parsed
(
    event_id                String,
    ts                      DateTime64(3, 'UTC'),
    schema_version          UInt8,
    team                    String,
    feature                 String,
    env                     String,
    user                    String,
    workspace_id            String,
    api_key_id              String,
    model                   String,
    requested_model         String,
    service_tier            String,
    speed                   String,
    inference_geo           String,
    input_tokens            UInt64,
    output_tokens           UInt64,
    cache_read_input_tokens UInt64,
    cache_write_5m_tokens   UInt64,
    cache_write_1h_tokens   UInt64,
    web_search_requests     UInt64,
    latency_ms              Nullable(UInt32),
    status                  Nullable(UInt16),
    error_type              String,
    request_id              String,
    prompt_prefix_hash      String,
    prompt_prefix_tokens    UInt64,
    guard_action            String,
    guard_budget            String,
    ratelimit               Map(String, UInt64),
    source                  String,
    source_position         UInt64,
    kafka_topic             String,
    kafka_partition         Int32,
    reject_reason           String,
    raw                     String
)
ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_kafka_parse TO usage_events_kafka_parsed AS
WITH
    ['input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] AS token_fields,
    ['requests-limit', 'requests-remaining', 'tokens-limit', 'tokens-remaining', 'input-tokens-limit',
     'input-tokens-remaining', 'output-tokens-limit', 'output-tokens-remaining'] AS ratelimit_fields,
    JSONExtract(raw, 'ts', 'Nullable(String)') AS ts_text,
    parseDateTime64BestEffortOrNull(ts_text, 3, 'UTC') AS ts_parsed,
    JSONExtract(raw, 'schema_version', 'Nullable(Int64)') AS version,
    JSONExtract(raw, 'usage', 'cache_creation', 'ephemeral_5m_input_tokens', 'Nullable(Int64)') AS write_5m,
    JSONExtract(raw, 'usage', 'cache_creation', 'ephemeral_1h_input_tokens', 'Nullable(Int64)') AS write_1h,
    JSONExtract(raw, 'usage', 'cache_creation_input_tokens', 'Nullable(Int64)') AS writes,
    write_5m IS NOT NULL OR write_1h IS NOT NULL AS has_breakdown,
    JSONExtract(raw, 'latency_ms', 'Nullable(Float64)') AS latency,
    JSONExtract(raw, 'status', 'Nullable(Int64)') AS status_code,
    arrayFirst(name -> JSONType(raw, 'usage', name) NOT IN ('Int64', 'UInt64', 'Null'), token_fields) AS mistyped,
    arrayFirst(name -> JSONExtractInt(raw, 'usage', name) < 0, token_fields) AS negative
SELECT
    JSONExtractString(raw, 'event_id') AS event_id,
    ifNull(ts_parsed, toDateTime64(0, 3, 'UTC')) AS ts,
    toUInt8(ifNull(version, 1)) AS schema_version,
    JSONExtractString(raw, 'team') AS team,
    JSONExtractString(raw, 'feature') AS feature,
    JSONExtractString(raw, 'env') AS env,
    JSONExtractString(raw, 'user') AS user,
    JSONExtractString(raw, 'workspace_id') AS workspace_id,
    JSONExtractString(raw, 'api_key_id') AS api_key_id,
    JSONExtractString(raw, 'model') AS model,
    JSONExtractString(raw, 'requested_model') AS requested_model,
    ifNull(JSONExtract(raw, 'service_tier', 'Nullable(String)'), 'standard') AS service_tier,
    ifNull(JSONExtract(raw, 'speed', 'Nullable(String)'), 'standard') AS speed,
    JSONExtractString(raw, 'inference_geo') AS inference_geo,
    JSONExtractUInt(raw, 'usage', 'input_tokens') AS input_tokens,
    JSONExtractUInt(raw, 'usage', 'output_tokens') AS output_tokens,
    JSONExtractUInt(raw, 'usage', 'cache_read_input_tokens') AS cache_read_input_tokens,
    toUInt64(greatest(if(has_breakdown, ifNull(write_5m, 0), ifNull(writes, 0)), 0)) AS cache_write_5m_tokens,
    toUInt64(greatest(ifNull(write_1h, 0), 0)) AS cache_write_1h_tokens,
    JSONExtractUInt(raw, 'usage', 'server_tool_use', 'web_search_requests') AS web_search_requests,
    CAST(round(latency), 'Nullable(UInt32)') AS latency_ms,
    CAST(status_code, 'Nullable(UInt16)') AS status,
    JSONExtractString(raw, 'error_type') AS error_type,
    JSONExtractString(raw, 'request_id') AS request_id,
    JSONExtractString(raw, 'prompt_prefix_hash') AS prompt_prefix_hash,
    JSONExtractUInt(raw, 'prompt_prefix_tokens') AS prompt_prefix_tokens,
    JSONExtractString(raw, 'guard_action') AS guard_action,
    JSONExtractString(raw, 'guard_budget') AS guard_budget,
    mapFilter((k, v) -> v >= 0 AND has(ratelimit_fields, k), JSONExtract(raw, 'ratelimit', 'Map(String, Int64)'))
        AS ratelimit,
    concat('kafka:', _topic, '/', toString(_partition)) AS source,
    _offset AS source_position,
    _topic AS kafka_topic,
    toInt32(_partition) AS kafka_partition,
    multiIf(
        _error != '', concat('not valid JSON: ', _error),
        NOT isValidJSON(raw) OR JSONType(raw) != 'Object', 'not a JSON object',
        ifNull(version, 1) != 1, 'unsupported schema_version',
        JSONExtractString(raw, 'event_id') = '', 'missing required field event_id',
        ts_text IS NULL, 'missing required field ts',
        JSONExtractString(raw, 'model') = '', 'missing required field model',
        mistyped != '', concat('usage.', mistyped, ' must be an integer'),
        negative != '', concat('usage.', negative, ' is negative'),
        ifNull(write_5m, 0) < 0 OR ifNull(write_1h, 0) < 0, 'usage.cache_creation breakdown is negative',
        has_breakdown AND writes IS NOT NULL AND ifNull(write_5m, 0) + ifNull(write_1h, 0) != writes,
            'usage.cache_creation breakdown (5m + 1h) does not sum to cache_creation_input_tokens',
        JSONExtractInt(raw, 'prompt_prefix_tokens') < 0, 'prompt_prefix_tokens is negative',
        ifNull(latency, 0) < 0 OR ifNull(latency, 0) > 4294967295, 'latency_ms is out of range',
        ifNull(status_code, 0) NOT BETWEEN 0 AND 999, 'status is not an HTTP status code',
        ts_parsed IS NULL OR NOT match(ts_text, '([Zz]|[+-]\\d{2}:\\d{2})$'),
            'ts is not an RFC 3339 timestamp with a UTC offset',
        ts_parsed < toDateTime64('2000-01-01 00:00:00', 3, 'UTC') OR ts_parsed >= toDateTime64('2100-01-01 00:00:00', 3, 'UTC'),
            'ts is outside 2000-01-01 .. 2100-01-01',
        '') AS reject_reason,
    if(_error != '', _raw_message, raw) AS raw
FROM usage_events_kafka_queue;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_kafka_load TO usage_events AS
SELECT * EXCEPT (kafka_topic, kafka_partition, reject_reason, raw), now64(3, 'UTC') AS ingested_at
FROM usage_events_kafka_parsed
WHERE reject_reason = '';

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_kafka_reject TO rejected_events AS
SELECT 'kafka' AS source_type, kafka_topic AS source, kafka_partition AS partition, source_position AS position,
       reject_reason AS reason, substring(raw, 1, 4096) AS raw, now64(3, 'UTC') AS rejected_at
FROM usage_events_kafka_parsed
WHERE reject_reason != '';
