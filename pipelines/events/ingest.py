"""Load new usage-event lines from the landing directory into ``usage_events`` / ``rejected_events``.

ClickHouse reads and checks each file itself, in one pass (``sql/usage_events_from_file.sql``, generated
from the rule set in ``rules.py``), where it lies: the local server shares this machine's disk. A server whose
disk does not hold the landing directory (``CLICKHOUSE_DSN``) gets the raw lines shipped instead, and the same rules
run there (``ship_lines``). Either way the whole run uses one database session.

Per file: its rows go in first, then its progress row in ``ingest_files``. A crash before the progress is
written re-reads the file next time, which changes nothing: ``usage_events`` collapses repeated event
ids and ``rejected_events`` repeated origins. Progress is written only once the file (or its new tail) is
loaded entirely, so a ``.jsonl.gz`` that was cut short by a crash is read again from its first line.

A plain file may still be growing (an appending writer): only complete lines are read, a trailing partial
line waits for its newline, and the next read resumes after the last complete line. Only the new tail is
read: it is copied (in the kernel) to a temporary file that ClickHouse reads. A ``.jsonl.gz`` file is read
whole by ClickHouse (skipping the lines already loaded); one that is still being written (its gzip stream
ends early) is left for the next run.
"""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

from pipelines.events.landing_zone import is_gzip, landing_files, size_of
from pipelines.events.load import Tally, ship_lines, tally
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

log = logging.getLogger(__name__)

_TAIL_PROBE = 1 << 16  # bytes read backwards at a time to find a file's last newline


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
    skipped: dict[str, str] = field(default_factory=dict)  # path -> why it was left for the next run

    @property
    def loaded(self) -> int:
        return sum(loaded for loaded, _ in self.files.values())

    @property
    def rejected(self) -> int:
        return sum(rejected for _, rejected in self.files.values())

    def add(self, path: str, counted: Tally) -> None:
        loaded, rejected = self.files.get(path, (0, 0))
        self.files[path] = (loaded + counted.loaded, rejected + counted.rejected)
        self.reasons.update(counted.reasons)
        for ts, pick in ((counted.first_ts, min), (counted.last_ts, max)):
            if ts is not None:
                attribute = "first_ts" if pick is min else "last_ts"
                current = getattr(self, attribute)
                setattr(self, attribute, ts if current is None else pick(current, ts))


def read_progress(client: Client) -> dict[str, FileProgress]:
    rows = client.query(sql("ingest_files_progress")).result_rows
    return {path: FileProgress(offset, lines, size) for path, offset, lines, size in rows}


def _last_line_end(path: Path, start: int, size: int) -> int:
    """Byte offset just after the last newline of ``path`` at or after ``start``; ``start`` if there is none."""
    with open(path, "rb") as handle:
        end = size
        while end > start:
            begin = max(start, end - _TAIL_PROBE)
            handle.seek(begin)
            cut = handle.read(end - begin).rfind(b"\n")
            if cut >= 0:
                return begin + cut + 1
            end = begin
    return start


@dataclass(frozen=True)
class FileRead:
    """What to read of one file: bytes [start, end) of a plain file, or a gz file from line skip_lines on."""

    start: int
    end: int
    line_offset: int  # lines before the first line read
    skip_lines: int = 0  # gz: lines of the file already loaded


def _plan(path: Path, known: FileProgress, size: int) -> FileRead | None:
    """What is new in ``path``, or None when nothing complete can be."""
    if is_gzip(path):
        return None if size == known.file_size else FileRead(0, size, 0, known.lines_read)
    if size < known.byte_offset:
        log.warning("%s shrank below what was read (%d < %d bytes): reading it again from the start",
                    path, size, known.byte_offset)
        known = FileProgress()
    end = _last_line_end(path, known.byte_offset, size)
    if end == known.byte_offset:
        return None  # nothing new, or only a line still being written
    return FileRead(known.byte_offset, end, known.lines_read)


@contextmanager
def _readable(path: Path, read: FileRead, size: int, scratch: Path) -> Iterator[Path]:
    """A path ClickHouse can read that holds exactly the lines planned: the file itself when that is all of
    it, else a temporary copy of the byte range (copy_file_range: no pass through Python)."""
    if is_gzip(path) or (read.start == 0 and read.end == size):
        yield path
        return
    scratch.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="tail-", suffix=".jsonl", dir=scratch)
    try:
        with open(path, "rb") as source:
            offset, remaining = read.start, read.end - read.start
            while remaining:
                copied = os.copy_file_range(source.fileno(), handle, remaining, offset)
                if not copied:
                    raise OSError(f"{path} ended at byte {offset} while its tail was being copied")
                offset += copied
                remaining -= copied
        os.close(handle)
        handle = -1
        yield Path(name)
    finally:
        if handle >= 0:
            os.close(handle)
        os.unlink(name)


def ingest_landing_zone(ch: ClickHouseResource, directory: Path,
                        on_file: Callable[[Path, FileRead], None] | None = None,
                        ship: bool | None = None) -> IngestReport:
    """Every new complete line of every landing-zone file, checked and stored, in one database session.

    ``on_file`` hears of each file just before it is read (the asset logs it). ``ship``: send the raw lines
    instead of letting ClickHouse read the file (default: when the server cannot read it in place; the benchmark
    compares both)."""
    ship = not ch.files_in_place if ship is None else ship
    report = IngestReport()
    run = uuid.uuid4().hex
    with ch.connect() as client:
        progress = read_progress(client)
        for number, path in enumerate(landing_files(directory)):
            size = size_of(path)
            known = progress.get(str(path), FileProgress())
            read = _plan(path, known, size)
            if read is None:
                continue
            batch = f"{run}:{number}"
            if on_file is not None:
                on_file(path, read)
            try:
                if not ship:
                    with _readable(path, read, size, ch.scratch_path) as readable:
                        client.command(sql("usage_events_from_file"), parameters={
                            "batch": batch, "source": str(path), "path": str(readable),
                            "line_offset": read.line_offset, "skip_lines": read.skip_lines})
                else:
                    ship_lines(client, batch, path, read.start, read.end, read.line_offset, read.skip_lines)
            except (DatabaseError, EOFError, OSError) as exc:
                if not is_gzip(path):
                    raise
                # A gzip stream that ends early is still being written (or was cut short): its progress
                # stays where it was, so the next run reads it again whole.
                log.warning("%s could not be read to its end, leaving it for the next run: %s", path, exc)
                report.skipped[str(path)] = str(exc).splitlines()[0][:200]
                continue
            counted = tally(client, batch)
            report.add(str(path), counted)
            lines = read.line_offset + read.skip_lines + counted.lines
            client.insert(
                "ingest_files",
                [[str(path), read.end, lines, size, datetime.now(UTC)]],
                column_names=["path", "byte_offset", "lines_read", "file_size", "updated_at"],
            )
    return report
