-- One unchanged month of the rollup into the staging table, as it is (its parts hard-linked).
ALTER TABLE spend_hourly_staging ATTACH PARTITION ID {partition_id:String} FROM spend_hourly
