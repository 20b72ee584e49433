-- Rollup spend for the call-time budget guard, from {since} (the earliest current period start) on, per scope:
-- per day for the hours before {recent_from} (settled: published as each period's base), per hour from it on
-- (the guard takes the larger of these and its own settlements, hour by hour, until they are settled).
SELECT
    if(hour < {recent_from:DateTime('UTC')}, toStartOfDay(hour), hour)  AS bucket,
    hour >= {recent_from:DateTime('UTC')}                              AS hourly,
    team, feature, env, workspace_id, api_key_id,
    sum(spend_usd)                                                      AS spend_usd
FROM spend_hourly FINAL
WHERE hour >= {since:DateTime('UTC')}
GROUP BY bucket, hourly, team, feature, env, workspace_id, api_key_id
