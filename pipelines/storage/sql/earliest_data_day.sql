-- The earliest day any source has data for: usage events, Admin API usage, Admin API cost (NULL: none yet).
SELECT minOrNull(day) FROM
(
    SELECT toDate(minOrNull(ts)) AS day FROM usage_events
    UNION ALL SELECT toDate(minOrNull(bucket_start)) FROM admin_usage_hourly
    UNION ALL SELECT minOrNull(date) FROM admin_cost_daily
)
