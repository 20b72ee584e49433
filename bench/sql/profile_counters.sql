-- Benchmark: ClickHouse's own cumulative profile counters (rows, marks and parts read by queries, rows
-- inserted); a benchmark diffs them around one step. chDB has no system.query_log; these it has.
SELECT event, value
FROM system.events
WHERE event IN {events:Array(String)}
