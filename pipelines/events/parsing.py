"""Turn a block of complete JSONL lines into Arrow rows, isolating bad lines without losing good ones.

Fast path: pyarrow's multi-threaded JSON reader parses the whole block against EVENT_SCHEMA. When that
fails (a line is not JSON, or has a value of the wrong type), every line of the block is checked once
with a fast JSON parser and a precompiled type table, the bad lines are set aside with their reason,
and the cleaned block is parsed by pyarrow in one go. After a block with bad lines the next block skips
the whole-block attempt, as bad lines tend to come in batches.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.json as pj

from pipelines.events.schema import EVENT_SCHEMA, check_line

LINE_COLUMN = "line_number"
_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=EVENT_SCHEMA, unexpected_field_behavior="ignore")
_READ_OPTIONS = pj.ReadOptions(block_size=1 << 20)  # 1 MB blocks: both cores parse at once
_RAW_LIMIT = 4096


@dataclass
class Reject:
    line_number: int
    reason: str
    raw: str


@dataclass
class ParsedBlock:
    """Rows that parsed (EVENT_SCHEMA plus their line numbers) and lines that did not."""

    rows: list[pa.Table] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def table(self) -> pa.Table:
        schema = EVENT_SCHEMA.append(pa.field(LINE_COLUMN, pa.int64()))
        return pa.concat_tables(self.rows) if self.rows else schema.empty_table()


def raw_text(line: bytes) -> str:
    """The line as stored in rejected_events: decoded leniently and truncated."""
    return line[:_RAW_LIMIT].decode("utf-8", errors="replace")


def _read_arrow(data: bytes) -> pa.Table | str:
    """The parsed table, or pyarrow's reason for refusing the data."""
    try:
        return pj.read_json(io.BytesIO(data), read_options=_READ_OPTIONS, parse_options=_PARSE_OPTIONS)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        return str(exc)


def parse_block(data: bytes, first_line: int, expect_clean: bool = True) -> ParsedBlock:
    """Parse ``data`` (complete lines, each ending in a newline); line 1 of it is ``first_line``.

    ``expect_clean=False`` skips the whole-block attempt (use it after a block that had bad lines).
    """
    parsed = ParsedBlock()
    if expect_clean:
        table = _read_arrow(data)
        # pyarrow skips blank lines, so rows map to lines only when the counts agree.
        if isinstance(table, pa.Table) and table.num_rows == data.count(b"\n"):
            parsed.rows.append(_with_lines(table, range(first_line, first_line + table.num_rows)))
            return parsed
    good, numbers = [], []
    for number, line in enumerate(data.split(b"\n")[:-1], start=first_line):
        if not line.strip():
            continue  # a blank line carries no event; nothing is lost by skipping it
        reason = check_line(line)
        if reason is None:
            good.append(line)
            numbers.append(number)
        else:
            parsed.rejects.append(Reject(number, reason, raw_text(line)))
    if good:
        _parse_clean(good, numbers, parsed)
    return parsed


def _parse_clean(lines: list[bytes], numbers: list[int], parsed: ParsedBlock) -> None:
    table = _read_arrow(b"\n".join(lines) + b"\n")
    if isinstance(table, pa.Table) and table.num_rows == len(lines):
        parsed.rows.append(_with_lines(table, numbers))
        return
    # Something the line check accepts but pyarrow does not (a key given twice, say): rare, so
    # each line is parsed alone and pyarrow's own reason is kept.
    for line, number in zip(lines, numbers, strict=True):
        single = _read_arrow(line + b"\n")
        if isinstance(single, pa.Table) and single.num_rows == 1:
            parsed.rows.append(_with_lines(single, [number]))
        else:
            parsed.rejects.append(Reject(number, f"not a valid event: {single}", raw_text(line)))


def _with_lines(table: pa.Table, numbers: range | list[int]) -> pa.Table:
    return table.append_column(LINE_COLUMN, pa.array(numbers, pa.int64()))
