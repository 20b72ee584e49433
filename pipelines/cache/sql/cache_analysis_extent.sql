-- Where the inputs start and end, and the last day each cache rollup holds (NULL when empty):
-- the refresh rewrites the rollups from the earlier of the window start and that day, so a first run
-- or a run after a pause fills every day.
SELECT
    (SELECT toDate(minOrNull(ts)) FROM usage_events)                            AS events_first_day,
    (SELECT maxOrNull(ts) FROM usage_events)                                    AS events_end,
    (SELECT maxOrNull(date) FROM cache_feature_daily)                           AS events_rollup_last_day,
    (SELECT toDate(minOrNull(bucket_start)) FROM admin_usage_hourly)            AS admin_first_day,
    (SELECT maxOrNull(bucket_start) + INTERVAL 1 HOUR FROM admin_usage_hourly)  AS admin_end,
    (SELECT maxOrNull(date) FROM cache_key_daily)                               AS admin_rollup_last_day
