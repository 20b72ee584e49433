-- After a fetch of [start, end) written with extracted_at: drop what earlier fetches wrote for that range
-- (a group that disappeared, or a row the new fetch replaced).
DELETE FROM admin_usage_hourly
WHERE bucket_start >= {start:DateTime('UTC')} AND bucket_start < {end:DateTime('UTC')}
  AND extracted_at < {extracted_at:DateTime64(3, 'UTC')}
