-- Every alert key a delivered message settled, written after Slack (or the log) accepted it.
-- The source of truth for "already sent": a sensor cursor can be reset, this table cannot be fooled.
-- alert_key is unique per alert, e.g. budget:<id>:<period>:<threshold>; one message can settle several
-- keys (thresholds crossed together), all recorded with the same message_key and text.
CREATE TABLE IF NOT EXISTS alerts_sent
(
    alert_key               String,
    message_key             String,
    kind                    LowCardinality(String),
    subject                 String,
    destination             LowCardinality(String),
    channel                 String,
    text                    String,
    slack_ts                String,
    sent_at                 DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree(sent_at)
ORDER BY alert_key;
