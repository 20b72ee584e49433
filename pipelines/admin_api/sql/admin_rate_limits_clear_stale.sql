-- After a fetch written with fetched_at: the table is a snapshot, so every row of an earlier fetch goes (a group
-- or an override that disappeared leaves nothing behind).
DELETE FROM admin_rate_limits
WHERE fetched_at < {fetched_at:DateTime64(3, 'UTC')}
