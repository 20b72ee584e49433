-- Alerts delivered since {since}, oldest first (one line per message, with every key it settled).
SELECT
    message_key,
    any(kind)                           AS kind,
    any(subject)                        AS subject,
    any(destination)                    AS destination,
    any(channel)                        AS channel,
    any(text)                           AS text,
    groupArray(alert_key)               AS alert_keys,
    min(sent_at)                        AS first_sent_at
FROM alerts_sent FINAL
WHERE sent_at >= {since:DateTime64(3, 'UTC')}
GROUP BY message_key
ORDER BY first_sent_at, message_key
