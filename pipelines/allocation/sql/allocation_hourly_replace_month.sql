-- Swap a month built in allocation_hourly_staging into allocation_hourly in one step.
ALTER TABLE allocation_hourly REPLACE PARTITION {month:Date} FROM allocation_hourly_staging
