-- Dead letter: every input line or message that could not be loaded, with where it came from and why.
-- source_type 'file': source = path, position = 1-based line number, partition = -1.
-- source_type 'kafka': source = topic, partition and position = offset.
-- Keyed by origin, so re-reading the same input after a crash records each reject once.
CREATE TABLE IF NOT EXISTS rejected_events
(
    source_type     LowCardinality(String),
    source          String,
    partition       Int32,
    position        UInt64,
    reason          String,
    raw             String,
    rejected_at     DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(rejected_at)
ORDER BY (source_type, source, partition, position);
