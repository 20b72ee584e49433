"""Turn a block of complete JSONL lines into Arrow rows, isolating bad lines without losing good ones.

Fast path: pyarrow's multi-threaded JSON reader parses the whole block against EVENT_SCHEMA.
When that fails (a line is not JSON, or has a value of the wrong type), the block is split into
eighths and each part is tried again, down to single lines checked one by one, so the cost of a bad
line is a few small re-parses rather than a Python loop over the whole file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.json as pj

from pipelines.events.schema import EVENT_SCHEMA, check_line

LINE_COLUMN = "line_number"
_SPLIT = 8
_PARSE_OPTIONS = pj.ParseOptions(explicit_schema=EVENT_SCHEMA, unexpected_field_behavior="ignore")
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


def _read_arrow(data: bytes) -> pa.Table | None:
    options = pj.ReadOptions(block_size=max(len(data), 1 << 16))
    try:
        return pj.read_json(io.BytesIO(data), read_options=options, parse_options=_PARSE_OPTIONS)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None


def _with_lines(table: pa.Table, first_line: int) -> pa.Table:
    numbers = pa.array(range(first_line, first_line + table.num_rows), pa.int64())
    return table.append_column(LINE_COLUMN, numbers)


def parse_block(data: bytes, first_line: int) -> ParsedBlock:
    """Parse ``data`` (complete lines, each ending in a newline); line 1 of it is ``first_line``."""
    parsed = ParsedBlock()
    table = _read_arrow(data)
    # pyarrow skips blank lines, so rows map to lines only when the counts agree.
    if table is not None and table.num_rows == data.count(b"\n"):
        parsed.rows.append(_with_lines(table, first_line))
        return parsed
    _parse_lines(data.split(b"\n")[:-1], first_line, parsed)
    return parsed


def _parse_lines(lines: list[bytes], first_line: int, parsed: ParsedBlock) -> None:
    if len(lines) <= _SPLIT:
        _check_each(lines, first_line, parsed)
        return
    step = -(-len(lines) // _SPLIT)
    for start in range(0, len(lines), step):
        part = lines[start : start + step]
        table = _read_arrow(b"\n".join(part) + b"\n")
        if table is not None and table.num_rows == len(part):
            parsed.rows.append(_with_lines(table, first_line + start))
        else:
            _parse_lines(part, first_line + start, parsed)


def _check_each(lines: list[bytes], first_line: int, parsed: ParsedBlock) -> None:
    good, numbers = [], []
    for offset, line in enumerate(lines):
        if not line.strip():
            continue  # a blank line carries no event; nothing is lost by skipping it
        result = check_line(line)
        if isinstance(result, str):
            parsed.rejects.append(Reject(first_line + offset, result, raw_text(line)))
        else:
            good.append(result)
            numbers.append(first_line + offset)
    if good:
        table = pa.Table.from_pylist(good, schema=EVENT_SCHEMA)
        parsed.rows.append(table.append_column(LINE_COLUMN, pa.array(numbers, pa.int64())))
