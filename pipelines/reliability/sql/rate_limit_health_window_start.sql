-- The first hour a rate_limit_health refresh recomputes: {lookback_hours} before the latest usage event's
-- hour (NULL without events).
SELECT toStartOfHour(max(ts)) - toIntervalHour({lookback_hours:UInt32}) AS start, count() AS events
FROM usage_events
HAVING events > 0
