"""What the file and Kafka sources share: raw lines into ``usage_events_lines``, where ClickHouse applies the
event rules (``rules.py``, migration 0100) and writes ``usage_events`` and ``rejected_events``; and the tally
of what one batch loaded, read back from ``ingest_batches``.

Both sources write the same ``usage_events`` rows and the same ``rejected_events`` dead letter; they
differ only in how a row's origin is named (file and line, or topic, partition and offset).
"""

from __future__ import annotations

import gzip
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client

from pipelines.events.landing_zone import is_gzip
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

SHIP_BYTES = 32 << 20  # raw lines per insert when shipping a file to a ClickHouse server
LINE_COLUMNS = ["batch", "source_type", "origin", "partition", "position", "line"]
BLANK = "blank"  # ingest_batches.outcome of a blank file line


@dataclass
class Tally:
    """What one batch of lines became: counted by ClickHouse as it wrote them."""

    lines: int = 0  # every line read, blank ones included
    loaded: int = 0
    rejected: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    first_ts: datetime | None = None
    last_ts: datetime | None = None


def _utc(value: datetime | None) -> datetime | None:
    """ClickHouse DateTime64(3, 'UTC') values come back naive; they are UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def tally(client: Client, batch: str) -> Tally:
    counted = Tally()
    for outcome, lines, first_ts, last_ts in client.query(sql("ingest_batch_tally"),
                                                          parameters={"batch": batch}).result_rows:
        counted.lines += lines
        if outcome == "":
            counted.loaded += lines
            counted.first_ts, counted.last_ts = _utc(first_ts), _utc(last_ts)
        elif outcome != BLANK:
            counted.rejected += lines
            counted.reasons[outcome] += lines
    return counted


def _read(path: Path, start: int, end: int) -> Iterator[bytes]:
    """Bytes [start, end) of a plain file, or all of a gz file decompressed, in pieces of SHIP_BYTES."""
    if is_gzip(path):
        with gzip.open(path, "rb") as stream:
            while data := stream.read(SHIP_BYTES):
                yield data
        return
    with open(path, "rb") as handle:
        handle.seek(start)
        while start < end:
            data = handle.read(min(SHIP_BYTES, end - start))
            if not data:
                raise OSError(f"{path} ended at byte {start}, before {end}")
            start += len(data)
            yield data


def _chunks(path: Path, start: int, end: int) -> Iterator[bytes]:
    """Complete lines, each ending in a newline, in pieces of about SHIP_BYTES (a gz file's last line needs no
    newline; a plain file's range ends after one)."""
    pending = b""
    for data in _read(path, start, end):
        data = pending + data
        cut = data.rfind(b"\n") + 1
        pending = data[cut:]
        if cut:
            yield data[:cut]
    if pending:
        yield pending + b"\n"


def ship_lines(client: Client, batch: str, path: Path, start: int, end: int, line_offset: int,
               skip_lines: int) -> None:
    """A file's lines as rows of ``usage_events_lines``, for a ClickHouse server that cannot read the file.

    Lines are cut with numpy and sent as Arrow (one binary column, no pass over the lines in Python); the
    positions continue from ``line_offset``; a gz file's first ``skip_lines`` lines were loaded before."""
    # Imported here: only a server that cannot read the landing zone needs them, while every process that loads the
    # code location imports this module (pyarrow and numpy: a tenth of a second of CPU, docs/performance.md).
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    number = line_offset
    for data in _chunks(path, start, end):
        buffer = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buffer == 10) + 1  # one past each newline
        offsets = np.concatenate([[0], ends]).astype(np.int64)
        with_newline = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(ends), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        positions = np.arange(number + 1, number + 1 + len(ends), dtype=np.uint64)
        number += len(ends)
        keep = positions > skip_lines
        if not keep.any():
            continue
        lines = pc.binary_slice(with_newline, 0, -1).filter(pa.array(keep))  # without the newline
        rows = len(lines)
        table = pa.table({
            "batch": pa.repeat(pa.scalar(batch), rows),
            "source_type": pa.repeat(pa.scalar("file"), rows),
            "origin": pa.repeat(pa.scalar(str(path)), rows),
            "partition": pa.array(np.full(rows, -1, dtype=np.int32)),
            "position": pa.array(positions[keep]),
            "line": lines,
        })
        client.insert_arrow("usage_events_lines", table)


@dataclass(frozen=True)
class StoredEvents:
    """What ``usage_events`` holds after de-duplication by event_id: how many, and their time range."""

    count: int
    first_ts: datetime | None
    last_ts: datetime | None


def stored_events(ch: ClickHouseResource | Client) -> StoredEvents:
    if isinstance(ch, ClickHouseResource):
        with ch.connect() as client:
            return stored_events(client)
    count, first, last = ch.query(sql("usage_events_totals")).result_rows[0]
    return StoredEvents(count, first if count else None, last if count else None)
