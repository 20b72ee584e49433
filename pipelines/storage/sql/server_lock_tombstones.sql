-- A server lock's tables renamed aside (released or taken over) long enough ago that no taker can still aim at them.
SELECT name
FROM system.tables
WHERE database = currentDatabase() AND startsWith(name, {prefix:String})
  AND metadata_modification_time < now() - toIntervalSecond({age_s:UInt32})
