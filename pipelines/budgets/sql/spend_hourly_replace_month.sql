-- Swap one rebuilt month into the rollup, atomically.
ALTER TABLE spend_hourly REPLACE PARTITION ID {partition_id:String} FROM spend_hourly_staging
