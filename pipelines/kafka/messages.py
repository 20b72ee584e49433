"""A batch of Kafka messages through the event rules: one row of ``usage_events_lines`` per message.

ClickHouse checks each message as the file source checks a line (``pipelines/events/rules.py``), so a
message that spans lines (pretty-printed JSON) is still one event, and an empty one is rejected as
``empty message (no event)``. Rows are tagged with the topic, partition and offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from clickhouse_connect.driver.client import Client

from pipelines.events.load import LINE_COLUMNS, Tally, tally


class Received(NamedTuple):
    partition: int
    offset: int
    value: bytes | None  # None for a tombstone


def write_batch(client: Client, batch: str, topic: str, messages: Sequence[Received]) -> Tally:
    """Insert ``messages``; ClickHouse writes usage_events / rejected_events and tallies them as ``batch``."""
    if messages:
        client.insert(
            "usage_events_lines",
            [[batch, "kafka", topic, m.partition, m.offset, m.value or b""] for m in messages],
            column_names=LINE_COLUMNS,
        )
    return tally(client, batch)
