"""Alert delivery shared by every alerting sensor: dedup in ClickHouse, Slack or the log as the channel."""
