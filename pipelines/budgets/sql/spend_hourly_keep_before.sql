-- The rollup rows of a month before the first hour being rebuilt, kept as they are: the refresh's {build} table
-- becomes the whole rollup, so the month's unchanged hours go into it too (a read of the small rollup, not of events).
INSERT INTO {build:Identifier}
SELECT *
FROM spend_hourly FINAL
WHERE hour >= {month_start:DateTime('UTC')} AND hour < {from:DateTime('UTC')}
