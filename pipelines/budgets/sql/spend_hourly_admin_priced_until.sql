-- End of the last hour the allocation covers (Admin-API-priced); NULL when nothing is allocated yet.
-- Hours before it are taken from allocation_hourly, later hours from priced usage events.
SELECT maxOrNull(hour) + INTERVAL 1 HOUR
FROM allocation_hourly
