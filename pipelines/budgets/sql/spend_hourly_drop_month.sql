-- A month the rebuild produced no rows for (its data is gone): drop it from the rollup.
ALTER TABLE spend_hourly DROP PARTITION ID {partition_id:String}
