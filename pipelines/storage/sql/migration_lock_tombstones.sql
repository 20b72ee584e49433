-- Lock tables renamed aside (released or taken over) long enough ago that no taker can still aim at them.
SELECT name
FROM system.tables
WHERE database = currentDatabase() AND startsWith(name, 'schema_migration_lock_')
  AND metadata_modification_time < now() - toIntervalSecond({age_s:UInt32})
