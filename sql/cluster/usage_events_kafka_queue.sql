-- ClickHouse consuming the usage-event topic itself (docs/scale.md). All settings, credentials included,
-- live in a named collection, created once by an administrator (or under <named_collections> in the
-- server config, where librdkafka settings such as SASL go in a nested <kafka> section):
--   CREATE NAMED COLLECTION ledger_kafka ON CLUSTER '{cluster}' AS
--       kafka_broker_list = 'broker-1:9092,broker-2:9092',
--       kafka_topic_list = 'claude-usage-events',
--       kafka_group_name = 'claude-ledger-clickhouse',
--       kafka_format = 'RawBLOB',
--       kafka_handle_error_mode = 'stream',
--       kafka_num_consumers = 1,
--       kafka_max_block_size = 65536,
--       kafka_flush_interval_ms = 7500;
-- RawBLOB: each message is one row, its bytes kept whole in `raw` and checked by usage_events_kafka_check
-- (usage_events_kafka_views.sql) with the pipeline's event rules, exactly as the pipeline checks a file line
-- (a message that is not JSON gets the same reason as there). 'stream' error mode: should the engine fail
-- to read a message, it does not stop the consumer; the row arrives with raw = '' and the virtual columns
-- _error and _raw_message, and the views check _raw_message instead.
CREATE TABLE IF NOT EXISTS usage_events_kafka_queue ON CLUSTER '{cluster}'
(
    raw String
)
ENGINE = Kafka(ledger_kafka);
