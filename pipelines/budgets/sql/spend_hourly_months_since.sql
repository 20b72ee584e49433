-- The monthly partitions (toYYYYMM) a refresh from {from} rewrites: those the rollup has and those just built.
SELECT DISTINCT toString(toYYYYMM(hour)) AS partition_id, table_name
FROM
(
    SELECT hour, 'spend_hourly' AS table_name FROM spend_hourly WHERE hour >= {from:DateTime('UTC')}
    UNION ALL
    SELECT hour, 'spend_hourly_staging' AS table_name FROM spend_hourly_staging
)
ORDER BY partition_id
