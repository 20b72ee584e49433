-- allocation_reconciliation_daily_staging: a month's reconciliation is built here, then swapped into
-- allocation_reconciliation_daily whole (as allocation_hourly is), so that a run killed while it rebuilds the
-- month leaves finance_reconciliation_daily with the previous run's month, never an empty one.
CREATE TABLE IF NOT EXISTS allocation_reconciliation_daily_staging AS allocation_reconciliation_daily;
