-- Remove a cache rollup's days from {from} on, before they are written again
-- ({table}: cache_feature_daily, cache_key_daily or cache_waste_daily).
DELETE FROM {table:Identifier} WHERE date >= {from:Date}
