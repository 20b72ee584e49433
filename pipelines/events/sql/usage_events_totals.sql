-- Events stored after de-duplication by event_id, and their time range.
SELECT count(), min(ts), max(ts)
FROM usage_events FINAL
