-- Per source: the end of the newest data it holds (NULL: none, or not a time series) and when it was last
-- written. Reads rollups and bookkeeping tables only: the Admin API's hourly and daily reports, the landing
-- zone's file offsets, the budgets' spend rollup, the rate-limit health rollup, and issue 14's sources: Claude
-- Code usage (daily), the configured rate limits (a dimension: no data end) and the optional Analytics API's
-- cost (never written while it is off). The usage events' newest time is their partition key's maximum, which
-- ClickHouse answers from the parts' min-max index (one row read, whatever the table's size).
SELECT 'admin_usage_hourly' AS source, maxOrNull(bucket_start) + INTERVAL 1 HOUR AS data_until,
       maxOrNull(extracted_at) AS written_at
FROM admin_usage_hourly
UNION ALL
SELECT 'admin_cost_daily', toDateTime(maxOrNull(date) + 1, 'UTC'), maxOrNull(extracted_at) FROM admin_cost_daily
UNION ALL
SELECT 'usage_events (landing zone)', (SELECT maxOrNull(ts) FROM usage_events), maxOrNull(updated_at)
FROM ingest_files
UNION ALL
SELECT 'spend_hourly (budgets)', maxOrNull(hour) + INTERVAL 1 HOUR, maxOrNull(refreshed_at) FROM spend_hourly
UNION ALL
SELECT 'rate_limit_health_hourly', maxOrNull(hour) + INTERVAL 1 HOUR, maxOrNull(computed_at)
FROM rate_limit_health_hourly
UNION ALL
SELECT 'claude_code_usage_daily', toDateTime(maxOrNull(date) + 1, 'UTC'), maxOrNull(extracted_at)
FROM claude_code_usage_daily
UNION ALL
SELECT 'admin_rate_limits', NULL, maxOrNull(fetched_at) FROM admin_rate_limits
UNION ALL
SELECT 'analytics_cost_daily', toDateTime(maxOrNull(date) + 1, 'UTC'), maxOrNull(extracted_at)
FROM analytics_cost_daily
