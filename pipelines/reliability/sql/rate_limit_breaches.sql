-- Cells of the hours in [{from}, {to}) past a line: a 429 share above {max_share} (with at least
-- {min_requests} calls in the hour, so one 429 of two calls is no alarm), or a request or token headroom
-- below {min_headroom}.
SELECT
    hour, model, api_key_id, requests, rate_limited, rate_limited_share, requests_headroom_min,
    tokens_headroom_min
FROM rate_limit_health_hourly FINAL
WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')}
  AND ((rate_limited_share > {max_share:Float64} AND requests >= {min_requests:UInt64})
       OR requests_headroom_min < {min_headroom:Float64}
       OR tokens_headroom_min < {min_headroom:Float64})
ORDER BY hour, model, api_key_id
