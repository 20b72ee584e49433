"""Ad hoc SQL for finance (``ledger sql``): one statement, read-only unless asked, printed as a table, CSV or JSON.

Read-only is ClickHouse's own ``readonly = 1`` setting on the query: the server (or chDB) refuses writes, DDL and
setting changes, whatever the text says. On a server, a ``finance_readonly`` user (sql/finance_readonly_role.sql)
is the stronger fence; this one also protects the embedded database, which has no users.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pipelines.storage.clickhouse import ClickHouseResource

Format = Literal["table", "csv", "json"]
READ_ONLY = {"readonly": 1}


@dataclass(frozen=True)
class QueryResult:
    columns: tuple[str, ...]
    rows: list[tuple]


def run_query(ch: ClickHouseResource, text: str, write: bool = False) -> QueryResult:
    """Run one statement; ``write`` lifts the read-only setting (for maintenance, never for finance users)."""
    with ch.connect() as client:
        if write:
            summary = client.command(text)
            return QueryResult(("result",), [(str(summary),)])
        result = client.query(text, settings=READ_ONLY)
        return QueryResult(tuple(result.column_names), list(result.result_rows))


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")  # exact: money is never a float
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def render(result: QueryResult, form: Format) -> str:
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([("" if v is None else _text(v)) for v in row] for row in result.rows)
        return buffer.getvalue()
    if form == "json":
        return json.dumps([dict(zip(result.columns, map(_json_value, row), strict=True)) for row in result.rows],
                          indent=2) + "\n"
    cells = [[_text(v) for v in row] for row in result.rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(result.columns)]
    numeric = [bool(result.rows) and all(isinstance(r[i], int | float | Decimal) or r[i] is None
                                         for r in result.rows) for i in range(len(result.columns))]

    def line(values: list[str]) -> str:
        return "  ".join(v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))

    out = [line(list(result.columns)), "  ".join("-" * w for w in widths), *(line(r) for r in cells)]
    out.append(f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})")
    return "\n".join(v.rstrip() for v in out) + "\n"
