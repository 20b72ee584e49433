-- Rate-limit health per hour, model and API key, from usage events (docs/emitter.md), refreshed by the
-- rate_limit_health asset over its lookback window; reads use FINAL.
-- rate_limited: calls answered 429 / rate_limit_error; rate_limited_share = rate_limited / requests.
-- Headroom = remaining / limit of the anthropic-ratelimit-* headers the events carried, the least seen in
-- the hour: requests_headroom_min of requests-*, tokens_headroom_min the least of tokens-*, input-tokens-*
-- and output-tokens-*; NULL when no event of the cell carried those headers.
-- Latency percentiles (linear interpolation, like quantileExactInclusive) are of successful calls only
-- (error_type ''), NULL without any; error_types counts the calls of each non-empty error_type.
CREATE TABLE IF NOT EXISTS rate_limit_health_hourly
(
    hour                    DateTime('UTC'),
    model                   LowCardinality(String),
    api_key_id              LowCardinality(String),
    requests                UInt64,
    rate_limited            UInt64,
    rate_limited_share      Float64,
    requests_remaining_min  Nullable(UInt64),
    requests_headroom_min   Nullable(Float64),
    tokens_remaining_min    Nullable(UInt64),
    tokens_headroom_min     Nullable(Float64),
    latency_p50_ms          Nullable(Float64),
    latency_p90_ms          Nullable(Float64),
    latency_p99_ms          Nullable(Float64),
    error_types             Map(String, UInt64),
    computed_at             DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(computed_at)
PARTITION BY toYYYYMM(hour)
ORDER BY (hour, model, api_key_id);
