-- After a fetch of days [start, end) written with extracted_at: drop what earlier fetches wrote for those days.
DELETE FROM claude_code_activity_daily
WHERE date >= {start:Date} AND date < {end:Date}
  AND extracted_at < {extracted_at:DateTime64(3, 'UTC')}
