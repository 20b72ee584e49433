-- What the spend rollup needs to refresh only what changed (pipelines/budgets/spend.py).
-- usage_events_changes: one row per block written to usage_events, by any writer (file ingest, the Kafka
-- consumer, the Kafka engine's views, a backfill): when, and the earliest hour it touched.
CREATE TABLE IF NOT EXISTS usage_events_changes
(
    id              UUID,
    changed_at      DateTime64(3, 'UTC'),
    first_hour      DateTime('UTC'),
    rows            UInt64
)
ENGINE = MergeTree
ORDER BY changed_at
TTL toDateTime(changed_at) + INTERVAL 90 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS usage_events_changes_record TO usage_events_changes AS
SELECT generateUUIDv4() AS id, now64(3, 'UTC') AS changed_at, toStartOfHour(min(ts)) AS first_hour, count() AS rows
FROM usage_events
HAVING count() > 0;

-- One row per spend rollup refresh: when it started, the first hour it rebuilt, where the allocation ended,
-- the state of each table partition it read (the highest block number: any insert, replace, drop or
-- mutation changes it, a merge does not), and the usage_events_changes it saw that were recent enough to
-- be seen again by the next refresh (which skips them), to tell what changed by the next refresh.
CREATE TABLE IF NOT EXISTS spend_refreshes
(
    refreshed_at        DateTime64(3, 'UTC'),
    rebuilt_from        Nullable(DateTime('UTC')),
    admin_priced_until  Nullable(DateTime('UTC')),
    inputs              Map(String, UInt64),
    changes_seen        Array(UUID)
)
ENGINE = MergeTree
ORDER BY refreshed_at
TTL toDateTime(refreshed_at) + INTERVAL 90 DAY;
