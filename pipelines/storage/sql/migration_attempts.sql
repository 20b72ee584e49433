-- The earlier attempts at one migration: the holders that started it, and the checksum of the text each ran.
SELECT holder, checksum FROM schema_migration_attempts WHERE version = {version:UInt32} ORDER BY at
