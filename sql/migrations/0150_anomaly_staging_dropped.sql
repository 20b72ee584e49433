-- The anomaly tables are rebuilt in a table of each refresh's own and swapped in (pipelines/storage/rebuild.py):
-- the shared staging twins, which two refreshes at once would both fill, go.
DROP TABLE IF EXISTS spend_anomalies_staging;
DROP TABLE IF EXISTS cache_breaks_staging;
