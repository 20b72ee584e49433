-- Build tables of a table's rebuilds that started before {before} (their names sort by when a rebuild started):
-- left by rebuilds killed before they dropped theirs (pipelines/storage/rebuild.py).
SELECT name
FROM system.tables
WHERE database = currentDatabase() AND startsWith(name, {prefix:String}) AND name < {before:String}
ORDER BY name
