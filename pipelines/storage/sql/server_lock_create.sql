-- A server lock (pipelines/storage/server_lock.py): whoever creates this table holds it (creating a table is atomic;
-- there is no IF NOT EXISTS on purpose). Rows are the holder's heartbeats.
CREATE TABLE {table:Identifier}
(
    holder       String,
    host         String,
    pid          UInt32,
    pid_started  UInt64,
    heartbeat    DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = MergeTree
ORDER BY heartbeat
