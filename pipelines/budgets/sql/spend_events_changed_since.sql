-- Blocks of usage events written since {since}: which (to skip those the last refresh saw), when, and the
-- earliest hour each touched.
SELECT id, changed_at, first_hour
FROM usage_events_changes
WHERE changed_at >= {since:DateTime64(3, 'UTC')}
