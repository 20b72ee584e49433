"""The monthly chargeback export: ``chargeback-YYYY-MM.csv`` / ``.parquet`` plus a manifest.

Columns are a stable contract (docs/finance.md). Rows come in a fixed order and values in a fixed
format, and nothing time-dependent is written, so exporting the same data again gives byte-identical
files. Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.allocation.rounding import CENT
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

EXPORT_COLUMNS = ("month", "cost_center", "team", "feature", "env", "model", "input_tokens", "cache_write_5m_tokens",
                  "cache_write_1h_tokens", "cache_read_tokens", "output_tokens", "web_search_requests",
                  "list_cost_usd", "allocated_cost_usd", "share", "provisional")
PARQUET_SCHEMA = pa.schema(
    [pa.field(name, pa.string()) for name in EXPORT_COLUMNS[:6]]
    + [pa.field(name, pa.uint64()) for name in EXPORT_COLUMNS[6:12]]
    + [pa.field("list_cost_usd", pa.decimal128(20, 2)), pa.field("allocated_cost_usd", pa.decimal128(20, 2)),
       pa.field("share", pa.decimal128(9, 6)), pa.field("provisional", pa.bool_())]
)


def statement_name(month: date) -> str:
    """The month's statement beside its export (written by pipelines.reports: monthly_statement, ledger report)."""
    return f"statement-{month:%Y-%m}.html"


@dataclass(frozen=True)
class ExportResult:
    csv_path: Path
    parquet_path: Path
    manifest_path: Path
    rows: int
    allocated_cost_usd: Decimal
    list_cost_usd: Decimal
    provisional: bool
    manifest: dict


def export_rows(ch: ClickHouseResource, month: date) -> list[list[object]]:
    """The month's chargeback lines with the export's column values (money to the cent)."""
    rows = []
    for month_, *text, in_, w5, w1, read, out, search, list_cost, allocated, share, provisional in ch.query_rows(
            sql("chargeback_export_rows"), {"month": month}):
        rows.append([month_.strftime("%Y-%m"), *text, in_, w5, w1, read, out, search,
                     Decimal(list_cost).quantize(CENT, ROUND_HALF_UP), Decimal(allocated).quantize(CENT),
                     Decimal(share).quantize(Decimal("0.000001")), bool(provisional)])
    return rows


def _csv_bytes(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    writer.writerows([*row[:-1], "true" if row[-1] else "false"] for row in rows)
    return buffer.getvalue().encode()


def _parquet_bytes(rows: list[list[object]]) -> bytes:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in EXPORT_COLUMNS]
    table = pa.Table.from_arrays([pa.array(list(values), type=field.type)
                                  for values, field in zip(columns, PARQUET_SCHEMA, strict=True)],
                                 schema=PARQUET_SCHEMA)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def export_chargeback(ch: ClickHouseResource, month: date, directory: Path, policy: str) -> ExportResult:
    """Write the month's chargeback CSV, Parquet and manifest into ``directory``."""
    rows = export_rows(ch, month)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"chargeback-{month:%Y-%m}"
    files = {f"{stem}.csv": _csv_bytes(rows), f"{stem}.parquet": _parquet_bytes(rows)}
    allocated = sum((row[13] for row in rows), Decimal("0.00"))
    list_cost = sum((row[12] for row in rows), Decimal("0.00"))
    provisional = any(row[15] for row in rows)
    manifest = {
        "month": f"{month:%Y-%m}",
        "rows": len(rows),
        "allocated_cost_usd": str(allocated),
        "list_cost_usd": str(list_cost),
        "provisional": provisional,
        "shared_cost_policy": policy,
        "columns": list(EXPORT_COLUMNS),
        "files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                  for name, data in files.items()},
    }
    for name, data in files.items():
        _write_atomically(directory / name, data)
    manifest_path = directory / f"{stem}.manifest.json"
    _write_atomically(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return ExportResult(directory / f"{stem}.csv", directory / f"{stem}.parquet", manifest_path, len(rows),
                        allocated, list_cost, provisional, manifest)
