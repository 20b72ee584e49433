-- Usage against the configured limits in the hours [{from}, {to}) with a share of at least {min_share}, highest
-- share first (the headroom table of rate_limit_health and the configured-limit alerts).
SELECT
    hour, subject, workspace_id, api_key_id, group_id, group_name, limit_type, limit_value, inherited,
    peak_per_minute, peak_minute, share
FROM configured_limit_usage_hourly FINAL
WHERE hour >= {from:DateTime('UTC')} AND hour < {to:DateTime('UTC')} AND share >= {min_share:Float64}
ORDER BY share DESC, hour, subject, workspace_id, api_key_id, group_id, limit_type
LIMIT {limit:UInt32}
