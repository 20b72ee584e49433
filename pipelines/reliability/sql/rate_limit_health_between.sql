-- Rate-limit health cells of the hours in [{from}, {to}), worst first: highest 429 share, then least headroom.
SELECT
    hour, model, api_key_id, requests, rate_limited, rate_limited_share, requests_headroom_min,
    tokens_headroom_min, latency_p50_ms, latency_p90_ms, latency_p99_ms, error_types
FROM rate_limit_health_hourly FINAL
WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
ORDER BY rate_limited_share DESC, least(ifNull(requests_headroom_min, 1), ifNull(tokens_headroom_min, 1)),
         hour, model, api_key_id
LIMIT {limit:UInt32}
