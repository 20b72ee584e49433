-- Rate-limit health per model and API key over the hours from {since} on (the rollup, not raw events):
-- calls, the share answered 429, and the least request / token headroom seen (NULL: no headers recorded).
SELECT
    model,
    api_key_id,
    sum(requests)                                                   AS calls,
    if(calls > 0, sum(rate_limited) / calls, 0)                     AS rate_limited_share,
    min(requests_headroom_min)                                      AS requests_headroom,
    min(tokens_headroom_min)                                        AS tokens_headroom
FROM rate_limit_health_hourly FINAL
WHERE hour >= {since:DateTime('UTC')}
GROUP BY model, api_key_id
ORDER BY model, api_key_id
