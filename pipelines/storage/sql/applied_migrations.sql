-- The migrations applied to this database (version, file name, checksum of the text applied).
SELECT version, name, checksum FROM schema_migrations FINAL ORDER BY version
