-- Benchmark data: {count} synthetic usage events numbered from {first}, spread over the hours from {start}
-- ({hours} of them). Every hour sees all 40 scope combinations (team x feature x env x workspace x key)
-- once enough events exist, so the spend rollup has the same size whatever the event count.
INSERT INTO usage_events
    (event_id, ts, schema_version, team, feature, env, workspace_id, api_key_id, model, service_tier,
     input_tokens, output_tokens, cache_read_input_tokens, source, ingested_at)
SELECT
    concat('bench_', toString(n))                                                   AS event_id,
    {start:DateTime('UTC')} + toIntervalSecond((n % {hours:UInt32}) * 3600 + n % 3541) AS ts,
    1,
    concat('team_', toString(combo % 10)),
    concat('feature_', toString(combo)),
    ['prod', 'staging', 'dev'][combo % 3 + 1],
    concat('wrkspc_', toString(combo % 4)),
    concat('apikey_', toString(combo % 8)),
    ['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929', 'claude-opus-4-5-20251101'][n % 3 + 1],
    'standard',
    500 + n % 4000,
    50 + n % 900,
    if(n % 5 = 0, 2000, 0),
    'bench',
    now64(3)
FROM
(
    SELECT number + {first:UInt64} AS n, intDiv(n, {hours:UInt32}) % 40 AS combo
    FROM numbers({count:UInt64})
)
