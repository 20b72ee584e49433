-- The rights of the pipeline's own ClickHouse user (docs/deploy.md): everything in the ledger's database, and the
-- few server-wide rights that its migrations, their lock and the event ingest need. The local ClickHouse server's
-- `ledger` user has exactly this role (pipelines/storage/local_server.py builds it from this file), so every
-- `make demo`, `ledger` and first-run spec runs with it. Run in the ledger's database as an admin, e.g.
--   clickhouse-client --database ledger --multiquery < sql/pipeline_role.sql
-- then: CREATE USER ledger IDENTIFIED WITH sha256_password BY '…' DEFAULT ROLE ledger_pipeline;
--       GRANT ledger_pipeline TO ledger;
CREATE ROLE IF NOT EXISTS ledger_pipeline;
-- Tables, views, inserts, deletes, partitions swapped in, tables exchanged: in the ledger's database.
GRANT ALL ON * TO ledger_pipeline;
-- Creating MergeTree, Null and view tables there (ClickHouse asks for the engine too).
GRANT TABLE ENGINE ON * TO ledger_pipeline;
-- The ledger_* SQL functions of the migrations (SQL functions are server-wide: one ledger per server).
GRANT CREATE FUNCTION, DROP FUNCTION ON *.* TO ledger_pipeline;
-- The migration lock: whether a statement of a migrator that died still runs, and, to resume its migration,
-- which of its statements finished.
GRANT SELECT ON system.processes TO ledger_pipeline;
GRANT SELECT ON system.query_log TO ledger_pipeline;
GRANT SYSTEM FLUSH LOGS ON *.* TO ledger_pipeline;
-- The spend rollup's change detection: the block numbers of its inputs' parts (metadata only).
GRANT SELECT ON system.parts TO ledger_pipeline;
-- Reading landing-zone files in place (the local server, or CLICKHOUSE_READS_LOCAL_FILES=1); a server that gets
-- the raw lines shipped does not need it.
GRANT READ ON FILE TO ledger_pipeline;
