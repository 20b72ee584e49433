-- The monthly partitions of the rollup before the first month a refresh rebuilds ({month_start}): attached to the
-- refresh's build table as they are (hard links to their parts, no row read), so that it holds the whole rollup.
SELECT DISTINCT partition_id
FROM system.parts
WHERE database = currentDatabase() AND table = 'spend_hourly' AND active
  AND partition_id < toString(toYYYYMM({month_start:DateTime('UTC')}))
ORDER BY partition_id
