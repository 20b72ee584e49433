"""The ClickHouse Kafka-engine path of docs/scale.md (sql/cluster/usage_events_kafka_views.sql) on real chDB.

chDB cannot run the Kafka engine itself, so a MergeTree table with the engine's columns (``raw`` plus the
virtual ``_topic``, ``_partition``, ``_offset``, ``_error``, ``_raw_message``) stands in for the queue;
the views are attached to it exactly as they would be to the Kafka table.
"""

from __future__ import annotations

import json

from event_lines import event

from pipelines.kafka.messages import Received, write_batch
from pipelines.storage.sql_files import SHARED_SQL_DIR, split_statements

QUEUE_STAND_IN = """
CREATE TABLE usage_events_kafka_queue
(raw String, _topic LowCardinality(String), _partition UInt64, _offset UInt64, _error String, _raw_message String)
ENGINE = MergeTree ORDER BY tuple()
"""
QUEUE_COLUMNS = ["raw", "_topic", "_partition", "_offset", "_error", "_raw_message"]
EVENT_COLUMNS = "* EXCEPT (ingested_at)"

GOOD = [
    event("plain"),
    event("breakdown", usage={"input_tokens": 5, "cache_creation_input_tokens": 7,
                              "cache_creation": {"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 4}}),
    event("writes-only", usage={"cache_creation_input_tokens": 9, "cache_read_input_tokens": 11}),
    event("full", latency_ms=12.6, status=529, error_type="overloaded_error", service_tier="priority", user="u1",
          request_id="req_1", prompt_prefix_hash="abc", prompt_prefix_tokens=1024,
          ratelimit={"tokens-limit": 10, "tokens-remaining": 4},
          usage={"input_tokens": 1, "output_tokens": 2, "server_tool_use": {"web_search_requests": 2}}),
    event("offset-ts", ts="2026-10-05T12:15:00.123+02:00", team=None, workspace_id=None, api_key_id=None),
]


def create_views(client) -> None:
    client.command(QUEUE_STAND_IN)
    for statement in split_statements((SHARED_SQL_DIR / "cluster" / "usage_events_kafka_views.sql").read_text()):
        client.command(statement)


def test_good_messages_become_the_same_rows_as_the_pipeline_consumer_writes(ch):
    messages = [Received(0, offset, json.dumps(payload).encode()) for offset, payload in enumerate(GOOD)]
    with ch.connect() as client:
        assert write_batch(client, "b1", "usage", messages).rejected == 0
        by_consumer = client.query(f"SELECT {EVENT_COLUMNS} FROM usage_events ORDER BY event_id").result_rows
        client.command("TRUNCATE TABLE usage_events")
        create_views(client)
        client.insert("usage_events_kafka_queue", [[m.value.decode(), "usage", 0, m.offset, "", ""] for m in messages],
                      column_names=QUEUE_COLUMNS)
        by_views = client.query(f"SELECT {EVENT_COLUMNS} FROM usage_events ORDER BY event_id").result_rows
    assert len(by_views) == 5
    assert by_views == by_consumer


def test_poison_messages_are_dead_lettered_with_partition_offset_and_reason(ch):
    bad = [
        ("", "Cannot parse input: expected '{' before: 'not json'", "not json"),   # the engine could not read it
        ("[1, 2]", "", ""),
        (json.dumps(event("neg", usage={"input_tokens": -3})), "", ""),
        (json.dumps(event("str", usage={"output_tokens": "12"})), "", ""),
        (json.dumps(event("no-model", model=None)), "", ""),
        (json.dumps(event("naive", ts="2026-10-05T10:15:00")), "", ""),
        (json.dumps(event("badsum", usage={"cache_creation_input_tokens": 8,
                                           "cache_creation": {"ephemeral_5m_input_tokens": 3}})), "", ""),
        (json.dumps(event("ok")), "", ""),
    ]
    with ch.connect() as client:
        create_views(client)
        client.insert("usage_events_kafka_queue",
                      [[raw, "usage", 2, 40 + i, error, message] for i, (raw, error, message) in enumerate(bad)],
                      column_names=QUEUE_COLUMNS)
        loaded = client.query("SELECT event_id, source, source_position FROM usage_events").result_rows
        rejects = client.query("SELECT source_type, source, partition, position, reason FROM rejected_events "
                               "ORDER BY position").result_rows
        raw_of_unreadable = client.query("SELECT raw FROM rejected_events WHERE position = 40").result_rows
    assert loaded == [("ok", "kafka:usage/2", 47)]
    assert rejects == [
        ("kafka", "usage", 2, 40, "not valid JSON"),
        ("kafka", "usage", 2, 41, "not a JSON object (a list)"),
        ("kafka", "usage", 2, 42, "usage.input_tokens is negative"),
        ("kafka", "usage", 2, 43, 'usage.output_tokens must be an integer, got "12"'),
        ("kafka", "usage", 2, 44, "missing required field model"),
        ("kafka", "usage", 2, 45, "ts is not an RFC 3339 timestamp with a UTC offset"),
        ("kafka", "usage", 2, 46,
         "usage.cache_creation breakdown (5m + 1h) does not sum to cache_creation_input_tokens"),
    ]
    assert raw_of_unreadable == [("not json",)]
