-- ClickHouse consuming the usage-event topic itself (docs/scale.md). All settings, credentials included,
-- live in a named collection, created once by an administrator (or under <named_collections> in the
-- server config, where librdkafka settings such as SASL go in a nested <kafka> section):
--   CREATE NAMED COLLECTION ledger_kafka ON CLUSTER '{cluster}' AS
--       kafka_broker_list = 'broker-1:9092,broker-2:9092',
--       kafka_topic_list = 'claude-usage-events',
--       kafka_group_name = 'claude-ledger-clickhouse',
--       kafka_format = 'JSONAsString',
--       kafka_handle_error_mode = 'stream',
--       kafka_num_consumers = 1,
--       kafka_max_block_size = 65536,
--       kafka_flush_interval_ms = 7500;
-- JSONAsString: each message is one JSON object, kept whole in `raw` and parsed by usage_events_kafka_parse
-- (usage_events_kafka_views.sql). 'stream' error mode: a message that is not a JSON object does not stop the
-- consumer; it arrives with raw = '' and the virtual columns _error (why) and _raw_message (the message).
CREATE TABLE IF NOT EXISTS usage_events_kafka_queue ON CLUSTER '{cluster}'
(
    raw String
)
ENGINE = Kafka(ledger_kafka);
