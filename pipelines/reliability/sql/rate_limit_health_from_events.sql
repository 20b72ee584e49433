-- Rate-limit health (see migration 0060) of every hour from {from} on, from usage_events. Rows of a
-- recomputed cell replace the earlier ones by computed_at (ReplacingMergeTree; reads use FINAL).
-- A header absent from an event is not a zero: map lookups are guarded with mapContains.
INSERT INTO rate_limit_health_hourly
    (hour, model, api_key_id, requests, rate_limited, rate_limited_share, requests_remaining_min,
     requests_headroom_min, tokens_remaining_min, tokens_headroom_min, latency_p50_ms, latency_p90_ms,
     latency_p99_ms, error_types, computed_at)
SELECT
    hour, model, api_key_id, requests, limited, limited / requests, requests_remaining_min,
    requests_headroom_min, tokens_remaining_min, tokens_headroom_min,
    if(ok_calls = 0, NULL, latencies[1]),
    if(ok_calls = 0, NULL, latencies[2]),
    if(ok_calls = 0, NULL, latencies[3]),
    error_types,
    {computed_at:DateTime64(3, 'UTC')}
FROM
(
    SELECT
        hour, model, api_key_id,
        count() AS requests,
        countIf(rate_limited) AS limited,
        min(requests_remaining) AS requests_remaining_min,
        min(requests_headroom) AS requests_headroom_min,
        min(tokens_remaining) AS tokens_remaining_min,
        min(tokens_headroom) AS tokens_headroom_min,
        countIf(ok) AS ok_calls,
        quantilesExactInclusiveIf(0.5, 0.9, 0.99)(toFloat64(assumeNotNull(latency_ms)), ok) AS latencies,
        sumMapIf(map(toString(error_type), toUInt64(1)), error_type != '') AS error_types
    FROM
    (
        SELECT
            toStartOfHour(ts) AS hour, model, api_key_id, error_type, latency_ms,
            status = 429 OR error_type = 'rate_limit_error' AS rate_limited,
            error_type = '' AND latency_ms IS NOT NULL AS ok,
            if(mapContains(ratelimit, 'requests-remaining'), ratelimit['requests-remaining'], NULL)
                AS requests_remaining,
            if(mapContains(ratelimit, 'requests-remaining') AND ratelimit['requests-limit'] > 0,
               ratelimit['requests-remaining'] / ratelimit['requests-limit'], NULL) AS requests_headroom,
            if(mapContains(ratelimit, 'tokens-remaining'), ratelimit['tokens-remaining'], NULL) AS tokens_remaining,
            arrayFilter(x -> x >= 0, [
                if(mapContains(ratelimit, 'tokens-remaining') AND ratelimit['tokens-limit'] > 0,
                   ratelimit['tokens-remaining'] / ratelimit['tokens-limit'], -1),
                if(mapContains(ratelimit, 'input-tokens-remaining') AND ratelimit['input-tokens-limit'] > 0,
                   ratelimit['input-tokens-remaining'] / ratelimit['input-tokens-limit'], -1),
                if(mapContains(ratelimit, 'output-tokens-remaining') AND ratelimit['output-tokens-limit'] > 0,
                   ratelimit['output-tokens-remaining'] / ratelimit['output-tokens-limit'], -1)
            ]) AS token_ratios,
            if(empty(token_ratios), NULL, arrayMin(token_ratios)) AS tokens_headroom
        FROM usage_events FINAL
        WHERE ts >= {from:DateTime64(3, 'UTC')}
    )
    GROUP BY hour, model, api_key_id
)
