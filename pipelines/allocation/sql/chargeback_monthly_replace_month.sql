-- Swap a month built in chargeback_monthly_staging into chargeback_monthly in one step.
ALTER TABLE chargeback_monthly REPLACE PARTITION {month:Date} FROM chargeback_monthly_staging
