-- Benchmark (server path): the most memory one INSERT of the run took, by the server's own accounting (its
-- query_log, flushed first; embedded chDB keeps none). Background merges are not in it.
SELECT max(memory_usage)
FROM system.query_log
WHERE type = 'QueryFinish' AND query_kind = 'Insert' AND current_database = currentDatabase()
