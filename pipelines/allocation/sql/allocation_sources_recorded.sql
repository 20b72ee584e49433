-- The fingerprints each month's latest allocation was computed from.
SELECT month, usage_fingerprint, cost_fingerprint
FROM allocation_sources FINAL
WHERE month >= {since:Date}
ORDER BY month
