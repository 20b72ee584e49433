-- Benchmark: rows stored in the tables an hourly run reads (active parts, before de-duplication).
SELECT table, sum(rows)
FROM system.parts
WHERE database = currentDatabase() AND active
  AND table IN ('usage_events', 'admin_usage_hourly', 'allocation_hourly', 'ingest_files', 'spend_hourly')
GROUP BY table
