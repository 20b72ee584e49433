"""Load new usage-event lines from the landing directory into ``usage_events`` / ``rejected_events``.

Each block is written in one short database session: good rows, rejected lines, then the file's new
offset. A crash before the offset is written re-reads the block next time, which changes nothing:
``usage_events`` collapses repeated event ids and ``rejected_events`` repeated origins.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from pipelines.events.landing_zone import is_gzip, landing_files, read_blocks, size_of
from pipelines.events.load import DeadLetter, insert_events, parse_events
from pipelines.events.parsing import LINE_COLUMN, Reject
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

log = logging.getLogger(__name__)

FLUSH_BYTES = 32 << 20  # write to ClickHouse about every 32 MB of input


@dataclass
class FileProgress:
    byte_offset: int = 0
    lines_read: int = 0
    file_size: int = 0


@dataclass
class IngestReport:
    files: dict[str, tuple[int, int]] = field(default_factory=dict)  # path -> (loaded, rejected)
    reasons: Counter[str] = field(default_factory=Counter)
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    @property
    def loaded(self) -> int:
        return sum(loaded for loaded, _ in self.files.values())

    @property
    def rejected(self) -> int:
        return sum(rejected for _, rejected in self.files.values())

    def add(self, path: str, events: pa.Table, rejects: list[Reject]) -> None:
        loaded, rejected = self.files.get(path, (0, 0))
        self.files[path] = (loaded + events.num_rows, rejected + len(rejects))
        self.reasons.update(r.reason for r in rejects)
        if events.num_rows:
            low, high = pc.min_max(events.column("ts")).values()
            low, high = low.as_py(), high.as_py()
            self.first_ts = low if self.first_ts is None else min(self.first_ts, low)
            self.last_ts = high if self.last_ts is None else max(self.last_ts, high)


def read_progress(ch: ClickHouseResource) -> dict[str, FileProgress]:
    rows = ch.query_rows(sql("ingest_files_progress"))
    return {path: FileProgress(offset, lines, size) for path, offset, lines, size in rows}


def _start(path: Path, known: FileProgress, size: int) -> FileProgress | None:
    """Where to resume reading ``path``, or None when nothing new can be there."""
    if is_gzip(path):
        return None if size == known.file_size else known
    if size == known.byte_offset:
        return None
    if size < known.byte_offset:
        log.warning("%s shrank below what was read (%d < %d bytes): reading it again from the start",
                    path, size, known.byte_offset)
        return FileProgress()
    return known


@dataclass
class _Batch:
    """Parsed blocks waiting to be written together in one short database session."""

    events: list[pa.Table] = field(default_factory=list)
    rejects: list[tuple[str, Reject]] = field(default_factory=list)
    progress: dict[str, FileProgress] = field(default_factory=dict)
    size: int = 0


def ingest_landing_zone(ch: ClickHouseResource, directory: Path, batch_bytes: int = FLUSH_BYTES) -> IngestReport:
    report = IngestReport()
    progress = read_progress(ch)
    batch = _Batch()
    for path in landing_files(directory):
        size = size_of(path)
        start = _start(path, progress.get(str(path), FileProgress()), size)
        if start is None:
            continue
        name = str(path)
        lines_read = start.lines_read
        clean = True
        report.files.setdefault(name, (0, 0))
        batch.progress[name] = FileProgress(start.byte_offset, lines_read, size)
        for block in read_blocks(path, start.byte_offset):
            events, rejects = parse_events(block.data, lines_read + 1, expect_clean=clean)
            clean = not rejects
            lines_read += block.data.count(b"\n")
            events = _with_source(events, name)
            batch.events.append(events)
            batch.rejects += [(name, r) for r in rejects]
            batch.progress[name] = FileProgress(block.end_offset, lines_read, size)
            batch.size += len(block.data)
            report.add(name, events, rejects)
            if batch.size >= batch_bytes:
                _write(ch, batch)
                batch = _Batch(progress={name: batch.progress[name]})
    if batch.progress:
        _write(ch, batch)
    return report


def _with_source(events: pa.Table, source: str) -> pa.Table:
    rows = events.num_rows
    return events.drop_columns([LINE_COLUMN]).append_column(
        "source", pa.repeat(pa.scalar(source), rows)
    ).append_column("source_position", pc.cast(events.column(LINE_COLUMN), pa.uint64()))


def _write(ch: ClickHouseResource, batch: _Batch) -> None:
    """Rows first, then offsets: a crash in between only causes a harmless re-read."""
    now = datetime.now(UTC)
    dead_letters = [DeadLetter("file", source, -1, r.line_number, r.reason, r.raw) for source, r in batch.rejects]
    with ch.connect() as client:
        insert_events(client, batch.events, dead_letters, now)
        client.insert(
            "ingest_files",
            [[path, p.byte_offset, p.lines_read, p.file_size, now] for path, p in batch.progress.items()],
            column_names=["path", "byte_offset", "lines_read", "file_size", "updated_at"],
        )
