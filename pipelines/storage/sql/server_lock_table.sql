-- A server lock's table: its uuid and its age in seconds, if there is one.
SELECT toString(uuid), dateDiff('second', metadata_modification_time, now())
FROM system.tables
WHERE database = currentDatabase() AND name = {table:String}
