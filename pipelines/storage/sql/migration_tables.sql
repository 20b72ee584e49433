-- The migrator's own tables, created by the lock holder before it applies anything.
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;

-- Each attempt at applying a migration, recorded before its first statement: the statements of an attempt run
-- in order under the query ids ledger-migration-<holder>-<version>-<step>, so the server's query_log tells how far a
-- migrator that was killed got (pipelines/storage/migrations.py).
CREATE TABLE IF NOT EXISTS schema_migration_attempts
(
    version     UInt32,
    checksum    String,
    holder      String,
    at          DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY (version, at);
