"""Specification of the Kafka source against a real Kafka-protocol broker (Tansu) and real chDB."""

from __future__ import annotations

import json

import pytest
from event_lines import event

from pipelines.kafka.consume import drain
from pipelines.kafka.lag import PartitionLag

pytest_plugins = ["kafka_broker"]

TOTALS = "SELECT count(), sum(input_tokens), sum(output_tokens) FROM usage_events FINAL"


class Crash(Exception):
    """Stands in for the process dying between the ClickHouse insert and the offset commit."""


def crash() -> None:
    raise Crash


def rejected(ch) -> list[tuple]:
    return ch.query_rows("SELECT source_type, source, partition, position, reason, raw FROM rejected_events FINAL "
                         "ORDER BY partition, position")


def test_events_on_three_partitions_become_one_row_each_tagged_with_partition_and_offset(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=3)
    kafka_broker.produce(topic, [(i % 3, event(f"e{i}", usage={"input_tokens": i, "output_tokens": 1}))
                                 for i in range(9)])
    report = drain(ch, kafka_broker.source(topic))
    assert (report.loaded, report.rejected) == (9, 0)
    assert ch.query_rows(TOTALS) == [(9, 36, 9)]  # 0 + 1 + ... + 8 input tokens
    rows = ch.query_rows("SELECT event_id, source, source_position FROM usage_events FINAL ORDER BY event_id")
    assert rows == [(f"e{i}", f"kafka:{topic}/{i % 3}", i // 3) for i in range(9)]
    assert report.lag == [PartitionLag(p, committed=3, low_watermark=0, high_watermark=3) for p in range(3)]


def test_a_consumer_dying_between_insert_and_commit_loses_nothing_and_counts_nothing_twice(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=2)
    kafka_broker.produce(topic, [(i % 2, event(f"e{i}")) for i in range(6)] + [(0, "not json")])
    source = kafka_broker.source(topic)
    with pytest.raises(Crash):
        drain(ch, source, after_insert=crash)
    assert ch.query_rows(TOTALS) == [(6, 600, 60)]  # inserted, but the offsets were never committed

    restarted = drain(ch, source)
    assert (restarted.loaded, restarted.rejected) == (6, 1)  # the whole batch came again
    assert ch.query_rows(TOTALS) == [(6, 600, 60)]
    assert ch.query_rows("SELECT count() FROM rejected_events FINAL") == [(1,)]
    assert [(p.committed, p.lag) for p in restarted.lag] == [(4, 0), (3, 0)]


def test_the_same_event_id_sent_twice_is_counted_once(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=2)
    kafka_broker.produce(topic, [(0, event("e1")), (1, event("e1")), (1, event("e2"))])
    report = drain(ch, kafka_broker.source(topic))
    assert report.loaded == 3
    assert ch.query_rows(TOTALS) == [(2, 200, 20)]


def test_poison_messages_are_dead_lettered_with_partition_and_offset_and_the_rest_still_load(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=2)
    kafka_broker.produce(topic, [
        (0, event("ok1")),                                   # p0 @0
        (0, "not json"),                                     # p0 @1
        (0, event("ok2")),                                   # p0 @2
        (0, None),                                           # p0 @3
        (0, event("neg", usage={"input_tokens": -3})),       # p0 @4
        (0, event("ok3")),                                   # p0 @5
        (1, "[1, 2]"),                                       # p1 @0
        (1, event("no-ts", ts=None)),                        # p1 @1
        (1, event("ok4")),                                   # p1 @2
    ])
    report = drain(ch, kafka_broker.source(topic))
    assert (report.loaded, report.rejected) == (4, 5)
    assert ch.query_rows("SELECT event_id FROM usage_events FINAL ORDER BY event_id") == [
        ("ok1",), ("ok2",), ("ok3",), ("ok4",)]
    negative = json.dumps(event("neg", usage={"input_tokens": -3}))
    assert rejected(ch) == [
        ("kafka", topic, 0, 1, "not valid JSON", "not json"),
        ("kafka", topic, 0, 3, "empty message (no event)", ""),
        ("kafka", topic, 0, 4, "usage.input_tokens is negative", negative),
        ("kafka", topic, 1, 0, "not a JSON object (a list)", "[1, 2]"),
        ("kafka", topic, 1, 1, "missing required field ts", json.dumps(event("no-ts", ts=None))),
    ]
    assert [(p.committed, p.lag) for p in report.lag] == [(6, 0), (3, 0)]  # past every poison message


def test_a_message_spread_over_several_lines_is_one_event_or_one_reject(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=1)
    broken = '{"event_id": "x",\n "ts": '
    kafka_broker.produce(topic, [
        (0, json.dumps(event("pretty"), indent=2)),
        (0, broken),
        (0, event("after")),
    ])
    report = drain(ch, kafka_broker.source(topic))
    assert (report.loaded, report.rejected) == (2, 1)
    assert ch.query_rows("SELECT event_id, source_position, input_tokens FROM usage_events FINAL ORDER BY event_id") \
        == [("after", 2, 100), ("pretty", 0, 100)]
    assert [(r[3], r[4], r[5]) for r in rejected(ch)] == [
        (1, "not valid JSON", broken)]


def test_a_run_reads_in_bounded_batches_up_to_its_limit_and_the_next_run_finishes(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=1)
    kafka_broker.produce(topic, [(0, event(f"e{i}")) for i in range(10)])
    source = kafka_broker.source(topic, batch_messages=3, max_messages_per_run=7)

    first = drain(ch, source)
    assert (first.loaded, first.batches) == (7, 3)  # 3 + 3 + 1
    assert first.lag == [PartitionLag(0, committed=7, low_watermark=0, high_watermark=10)]
    assert first.lag[0].lag == 3

    second = drain(ch, source)
    assert (second.loaded, second.batches) == (3, 1)
    assert second.lag[0].lag == 0
    assert ch.query_rows(TOTALS) == [(10, 1000, 100)]


def test_a_caught_up_group_reads_nothing(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=2)
    kafka_broker.produce(topic, [(0, event("e1"))])
    source = kafka_broker.source(topic)
    drain(ch, source)
    again = drain(ch, source)
    assert (again.loaded, again.rejected, again.batches) == (0, 0, 0)
    assert [(p.committed, p.lag) for p in again.lag] == [(1, 0), (None, 0)]
