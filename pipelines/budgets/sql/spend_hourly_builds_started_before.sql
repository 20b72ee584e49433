-- Build tables of refreshes that started before {before} (the names sort by when a refresh started): those of
-- refreshes killed before they dropped theirs, dropped by a later refresh.
SELECT name
FROM system.tables
WHERE database = currentDatabase() AND startsWith(name, 'spend_hourly_build_') AND name < {before:String}
ORDER BY name
