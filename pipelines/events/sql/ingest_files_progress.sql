-- Where each landing-zone file was last read up to (latest record per path).
SELECT path, byte_offset, lines_read, file_size
FROM ingest_files FINAL
