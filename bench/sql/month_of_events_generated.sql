-- Benchmark data: {count} synthetic usage events numbered from {first}, spread evenly over the {hours} hours
-- from {start}. Every hour sees 40 scope combinations (team x feature x env x workspace x api key) x 3 models
-- once about 120 x {hours} events exist; ~20 % read the cache, 5 % write it (1 % for an hour), 2 % run in
-- the batch tier, 0.1 % are long context (> 200K input tokens) and 0.5 % use web search.
INSERT INTO usage_events
    (event_id, ts, schema_version, team, feature, env, user, workspace_id, api_key_id, model, service_tier,
     input_tokens, output_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens,
     web_search_requests, latency_ms, status, request_id, source, source_position, ingested_at)
SELECT
    concat('bench_', toString(n)),
    {start:DateTime('UTC')} + toIntervalMillisecond((n % {hours:UInt32}) * 3600000 + (n * 7919) % 3600000),
    1,
    concat('team_', toString(combo % 10)),
    concat('feature_', toString(combo)),
    ['prod', 'staging', 'dev'][combo % 3 + 1],
    concat('u_', toString(n % 997)),
    concat('wrkspc_', toString(combo % 4)),
    concat('apikey_', toString(combo % 8)),
    ['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929', 'claude-opus-4-5-20251101'][intDiv(k, 40) % 3 + 1],
    if(n % 50 = 7, 'batch', 'standard'),
    if(n % 1000 = 3, 250000, 500 + n % 4000),
    50 + n % 900,
    if(n % 5 = 0, 2000, 0),
    if(n % 20 = 1, 1500, 0),
    if(n % 100 = 2, 3000, 0),
    if(n % 200 = 4, 1, 0),
    200 + n % 20000,
    200,
    concat('req_', toString(n)),
    'bench',
    n,
    now64(3)
FROM
(
    SELECT number + {first:UInt64} AS n, intDiv(n, {hours:UInt32}) AS k, k % 40 AS combo
    FROM numbers({count:UInt64})
)
