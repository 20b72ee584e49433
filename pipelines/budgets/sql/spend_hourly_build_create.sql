-- A table of one refresh's own to build the rollup in (named spend_hourly_build_<when it started>_<random>): what
-- another refresh running at the same time, or a killed one's statement still running on the server, writes
-- goes into a table of its own, never into this one.
CREATE TABLE {build:Identifier} AS spend_hourly
