-- How far each landing-zone file has been read: byte offset after the last complete line and the
-- number of lines before it (for line numbers). An appending writer's file resumes from here.
CREATE TABLE IF NOT EXISTS ingest_files
(
    path            String,
    byte_offset     UInt64,
    lines_read      UInt64,
    file_size       UInt64,
    updated_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(updated_at)
ORDER BY path;
