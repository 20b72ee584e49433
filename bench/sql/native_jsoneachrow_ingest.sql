-- The engine's own floor for event ingest (benchmarks only): ClickHouse parses the JSONL file itself
-- into a table shaped like usage_events, with no validation and no dead letter (bad rows skipped).
-- speed and inference_geo (migration 0080) and the guard fields (migration 0130): the generated events carry
-- none of them, so their defaults.
INSERT INTO native_usage_events
SELECT
    event_id,
    parseDateTime64BestEffort(ts, 3, 'UTC'),
    ifNull(schema_version, 1),
    ifNull(team, ''), ifNull(feature, ''), ifNull(env, ''), ifNull(user, ''),
    ifNull(workspace_id, ''), ifNull(api_key_id, ''), model, '', ifNull(service_tier, 'standard'),
    ifNull(speed, 'standard'), ifNull(inference_geo, ''),
    ifNull(usage.input_tokens, 0), ifNull(usage.output_tokens, 0), ifNull(usage.cache_read_input_tokens, 0),
    ifNull(usage.cache_creation.ephemeral_5m_input_tokens, ifNull(usage.cache_creation_input_tokens, 0)),
    ifNull(usage.cache_creation.ephemeral_1h_input_tokens, 0),
    ifNull(usage.server_tool_use.web_search_requests, 0),
    latency_ms, status, ifNull(error_type, ''), ifNull(request_id, ''),
    ifNull(prompt_prefix_hash, ''), ifNull(prompt_prefix_tokens, 0), '', '', map(),
    {path:String}, 0, now64(3)
FROM file({path:String}, 'JSONEachRow',
    'schema_version Nullable(UInt8), event_id String, ts String, team Nullable(String), feature Nullable(String),
     env Nullable(String), user Nullable(String), workspace_id Nullable(String), api_key_id Nullable(String),
     model String, service_tier Nullable(String), speed Nullable(String), inference_geo Nullable(String),
     usage Tuple(input_tokens Nullable(UInt64), output_tokens Nullable(UInt64),
                 cache_read_input_tokens Nullable(UInt64), cache_creation_input_tokens Nullable(UInt64),
                 cache_creation Tuple(ephemeral_5m_input_tokens Nullable(UInt64), ephemeral_1h_input_tokens Nullable(UInt64)),
                 server_tool_use Tuple(web_search_requests Nullable(UInt64))),
     latency_ms Nullable(UInt32), status Nullable(UInt16), error_type Nullable(String), request_id Nullable(String),
     prompt_prefix_hash Nullable(String), prompt_prefix_tokens Nullable(UInt64)')
SETTINGS storage_file_read_method = 'pread', input_format_allow_errors_ratio = 0.05, input_format_skip_unknown_fields = 1
