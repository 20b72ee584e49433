-- The rollup built in the staging table becomes the rollup, the old one the staging table: one rename of the two
-- tables' metadata on disk (an Atomic database's EXCHANGE), so a reader, or a kill, finds one or the other whole.
EXCHANGE TABLES spend_hourly AND spend_hourly_staging
