-- The rollup rows of a month before the first hour being rebuilt, kept as they are: the month is swapped
-- in whole, so its unchanged hours go into staging too (a read of the small rollup, not of events).
INSERT INTO spend_hourly_staging
SELECT *
FROM spend_hourly FINAL
WHERE hour >= {month_start:DateTime('UTC')} AND hour < {from:DateTime('UTC')}
