-- Swap a month built in allocation_reconciliation_daily_staging into allocation_reconciliation_daily in one step.
ALTER TABLE allocation_reconciliation_daily REPLACE PARTITION {month:Date} FROM allocation_reconciliation_daily_staging
