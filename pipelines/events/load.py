"""What the file and Kafka sources share: raw lines to checked usage_events rows, and writing rows + dead letters.

Both sources write the same ``usage_events`` rows and the same ``rejected_events`` dead letter; they
differ only in how a row's origin is named (file and line, or topic, partition and offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
from clickhouse_connect.driver.client import Client

from pipelines.events.parsing import Reject, parse_block, raw_text
from pipelines.events.validation import validate
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

_REJECT_COLUMNS = ["source_type", "source", "partition", "position", "reason", "raw", "rejected_at"]


@dataclass(frozen=True)
class DeadLetter:
    """One ``rejected_events`` row (see sql/migrations/0002_rejected_events.sql for the origin columns)."""

    source_type: str
    source: str
    partition: int
    position: int
    reason: str
    raw: str


def parse_events(data: bytes, first_line: int, expect_clean: bool = True) -> tuple[pa.Table, list[Reject]]:
    """Complete lines to usage_events columns (plus their line numbers) and the lines that failed, with why."""
    parsed = parse_block(data, first_line, expect_clean)
    checked = validate(parsed.table())
    rejects = parsed.rejects
    if checked.rejected_lines:
        lines = data.split(b"\n")
        rejects += [
            Reject(number, reason, raw_text(lines[number - first_line]))
            for number, reason in zip(checked.rejected_lines, checked.rejected_reasons, strict=True)
        ]
    return checked.events, rejects


def insert_events(client: Client, events: list[pa.Table], dead_letters: list[DeadLetter], now: datetime) -> None:
    """Good rows (usage_events columns with source and source_position) into usage_events, rejects into
    rejected_events, all stamped ``now``. Both tables collapse repeats, so writing a batch twice is harmless."""
    if events:
        table = pa.concat_tables(events)
        if table.num_rows:
            stamp = pa.repeat(pa.scalar(now, pa.timestamp("ms", tz="UTC")), table.num_rows)
            client.insert_arrow("usage_events", table.append_column("ingested_at", stamp))
    if dead_letters:
        client.insert(
            "rejected_events",
            [[d.source_type, d.source, d.partition, d.position, d.reason, d.raw, now] for d in dead_letters],
            column_names=_REJECT_COLUMNS,
        )


@dataclass(frozen=True)
class StoredEvents:
    """What ``usage_events`` holds after de-duplication by event_id: how many, and their time range."""

    count: int
    first_ts: datetime | None
    last_ts: datetime | None


def stored_events(ch: ClickHouseResource) -> StoredEvents:
    count, first, last = ch.query_rows(sql("usage_events_totals"))[0]
    return StoredEvents(count, first if count else None, last if count else None)
