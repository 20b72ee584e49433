-- The rollup built in the refresh's {build} table becomes the rollup, the old one the {build} table: one rename of
-- the two tables' metadata on disk (an Atomic database's EXCHANGE), so a reader, or a crash, finds one or the other.
EXCHANGE TABLES spend_hourly AND {build:Identifier}
