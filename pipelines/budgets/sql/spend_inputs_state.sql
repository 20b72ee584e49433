-- The state of each partition of the tables a refresh reads besides usage_events (allocation, prices, the
-- rollup itself): its highest block number, which every insert, REPLACE / DROP PARTITION, TRUNCATE and
-- mutation moves and no merge does. Metadata only: no table data is read.
SELECT concat(table, '/', partition_id) AS key, max(max_block_number) AS state
FROM system.parts
WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}
GROUP BY table, partition_id
