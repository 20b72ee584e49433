-- The state of each partition of the tables a refresh reads besides usage_events (allocation, prices, the
-- rollup itself): its highest block number, which every insert, REPLACE / DROP PARTITION, TRUNCATE and
-- mutation moves and no merge does, hashed with the table's uuid, which a rebuild swapped in (EXCHANGE TABLES,
-- pipelines/storage/rebuild.py) changes. Metadata only: no table data is read.
SELECT concat(p.table, '/', p.partition_id) AS key, cityHash64(any(t.uuid), max(p.max_block_number)) AS state
FROM system.parts AS p
INNER JOIN system.tables AS t ON t.database = p.database AND t.name = p.table
WHERE p.database = currentDatabase() AND p.active AND p.table IN {tables:Array(String)}
GROUP BY p.table, p.partition_id
