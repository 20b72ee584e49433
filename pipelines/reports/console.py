"""Ad hoc SQL for finance (``ledger sql``): one statement, read-only unless asked, printed as a table, CSV or JSON.

The table is for reading: money (a decimal column whose name says ``usd``, as every money column of the ledger's
tables and views does) to the cent, other decimals without trailing zeros, floats (shares, ratios) to four places;
``exact`` prints every digit as stored. CSV and JSON always carry the exact values.

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

from pipelines.metadata import text_table
from pipelines.money import cents
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


def _float(value: float) -> str:
    """A share or ratio as people read it: four places, no trailing zeros (tiny values in scientific form)."""
    if value and abs(value) < 0.0001:
        return f"{value:.2e}"
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _cell(value: Any, money: bool) -> str:
    if isinstance(value, Decimal):
        return f"{cents(value):,}" if money else format(value.normalize(), "f")
    if isinstance(value, float):
        return _float(value)
    return _text(value)


def _is_money(name: str, values: list[Any]) -> bool:
    return "usd" in name.lower() and any(isinstance(v, Decimal) for v in values)


def render(result: QueryResult, form: Format, exact: bool = False) -> str:
    if form == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([("" if v is None else _text(v)) for v in row] for row in result.rows)
        return buffer.getvalue()
    if form == "json":
        return json.dumps([dict(zip(result.columns, map(_json_value, row), strict=True)) for row in result.rows],
                          indent=2) + "\n"
    columns = [[row[i] for row in result.rows] for i in range(len(result.columns))]
    money = [_is_money(name, values) for name, values in zip(result.columns, columns, strict=True)]
    cells = [[_text(v) if exact else _cell(v, m) for v, m in zip(row, money, strict=True)] for row in result.rows]
    numeric = {i for i, values in enumerate(columns) if values and all(
        isinstance(v, int | float | Decimal) or v is None for v in values)}
    rounded = not exact and any(isinstance(v, Decimal) and cents(v) != v
                                for values, m in zip(columns, money, strict=True) if m for v in values)
    count = f"{len(result.rows)} row{'s' if len(result.rows) != 1 else ''}"
    note = "; money to the cent, --exact prints every digit" if rounded else ""
    return "\n".join([*text_table(result.columns, cells, numeric, rule=True), f"({count}{note})"]) + "\n"
