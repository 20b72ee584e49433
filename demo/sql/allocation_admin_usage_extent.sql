-- How much Admin API usage is stored: rows and the first and last hour.
SELECT count(), min(bucket_start), max(bucket_start)
FROM admin_usage_hourly FINAL
