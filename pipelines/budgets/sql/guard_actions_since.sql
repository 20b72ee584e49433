-- Calls the call-time budget guard refused ('block') or sent on a cheaper model ('downgrade'), per budget
-- and day from {since} on (usage_events, de-duplicated by event_id): shown beside each budget's spend.
SELECT
    guard_budget,
    toDate(ts)                              AS day,
    countIf(guard_action = 'block')         AS blocked,
    countIf(guard_action = 'downgrade')     AS downgraded
FROM usage_events FINAL
WHERE ts >= {since:DateTime('UTC')} AND guard_action != ''
GROUP BY guard_budget, day
