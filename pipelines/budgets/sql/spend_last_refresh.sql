-- The latest spend rollup refresh: when it started, where the allocation ended then, what its inputs were,
-- and the recent usage_events_changes it had seen.
SELECT refreshed_at, admin_priced_until, inputs, changes_seen
FROM spend_refreshes
ORDER BY refreshed_at DESC
LIMIT 1
