-- Dead-letter lines per reason, with one example origin each.
SELECT
    reason,
    count()                                                   AS lines,
    any(concat(source, ':', toString(position)))              AS example
FROM rejected_events FINAL
GROUP BY reason
ORDER BY lines DESC, reason
