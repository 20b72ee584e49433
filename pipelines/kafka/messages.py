"""A batch of Kafka messages as usage_events rows and dead letters, through the same parser as JSONL files.

The message values are joined into one block of lines, so the columnar fast path and its rules apply
unchanged; line ``i`` of the block is message ``i`` of the batch, and each row is tagged with its
partition and offset. A message that spans lines (pretty-printed JSON) is first re-serialised to one
line, so one message can never turn into two lines or shift the numbering.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import orjson
import pyarrow as pa

from pipelines.events.load import DeadLetter, parse_events
from pipelines.events.parsing import LINE_COLUMN, raw_text
from pipelines.events.schema import check_line

EMPTY_MESSAGE = "empty message (no event)"


@dataclass(frozen=True)
class Received:
    partition: int
    offset: int
    value: bytes | None


def source_name(topic: str, partition: int) -> str:
    """``usage_events.source`` of rows read from one partition."""
    return f"kafka:{topic}/{partition}"


def _as_line(value: bytes | None) -> tuple[bytes | None, str | None]:
    """The message as one JSON line, or why it cannot be an event."""
    if value is None or not value.strip():
        return None, EMPTY_MESSAGE
    if b"\n" not in value and b"\r" not in value:
        return value, None
    try:
        return orjson.dumps(orjson.loads(value)), None
    except orjson.JSONDecodeError:
        return None, check_line(value)


def decode_batch(topic: str, messages: Sequence[Received]) -> tuple[pa.Table, list[DeadLetter]]:
    """usage_events rows (with source and source_position) and a dead letter for every other message."""
    lines: list[bytes] = []
    carried: list[int] = []  # line i of the block is messages[carried[i]]
    dead = []
    for index, message in enumerate(messages):
        line, reason = _as_line(message.value)
        if line is None:
            dead.append(_dead_letter(topic, message, reason or EMPTY_MESSAGE))
        else:
            lines.append(line)
            carried.append(index)
    if not lines:
        return pa.table({}), dead
    events, rejects = parse_events(b"\n".join(lines) + b"\n", first_line=1)
    dead += [_dead_letter(topic, messages[carried[r.line_number - 1]], r.reason) for r in rejects]
    origin = np.asarray(carried)[events.column(LINE_COLUMN).to_numpy() - 1]
    partitions = np.array([messages[i].partition for i in origin], dtype=np.int64)
    offsets = np.array([messages[i].offset for i in origin], dtype=np.uint64)
    sources = [source_name(topic, int(p)) for p in partitions]
    events = events.drop_columns([LINE_COLUMN]).append_column("source", pa.array(sources, pa.string()))
    return events.append_column("source_position", pa.array(offsets, pa.uint64())), dead


def _dead_letter(topic: str, message: Received, reason: str) -> DeadLetter:
    return DeadLetter("kafka", topic, message.partition, message.offset, reason, raw_text(message.value or b""))
