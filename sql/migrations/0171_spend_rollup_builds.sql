-- The spend rollup is built in a table of each refresh's own (spend_hourly_build_<start>_<random>, dropped once the
-- refresh has exchanged it with spend_hourly: pipelines/budgets/spend.py), because on a server two refreshes may run
-- at once; the one staging table they shared (migration 0030) is gone.
DROP TABLE IF EXISTS spend_hourly_staging;
