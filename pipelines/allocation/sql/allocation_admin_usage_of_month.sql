-- Whether any Admin API usage is collected for the month {month} (what the allocation splits).
SELECT count() > 0
FROM admin_usage_hourly
WHERE bucket_start >= toDateTime({month:Date}, 'UTC') AND bucket_start < toDateTime({month:Date} + INTERVAL 1 MONTH, 'UTC')
