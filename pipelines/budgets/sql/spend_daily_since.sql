-- What a budget tick reads: rollup spend per day and scope columns from {since} on, and the part of it
-- spent in the hours before {hour_of_day} (the forecast's hourly profile).
-- Its size grows with days x distinct scopes, never with the number of raw events.
SELECT
    toDate(hour)                        AS day,
    team, feature, env, workspace_id, api_key_id,
    sum(spend_usd)                      AS spend_usd,
    sum(unpriced_units)                 AS unpriced_units,
    max(hour) + INTERVAL 1 HOUR         AS data_until,
    sumIf(spend_hourly.spend_usd, toHour(spend_hourly.hour) < {hour_of_day:UInt8}) AS spend_before_hour_usd
FROM spend_hourly FINAL
WHERE hour >= {since:DateTime('UTC')}
GROUP BY day, team, feature, env, workspace_id, api_key_id
