"""The monthly chargeback export: ``chargeback-YYYY-MM.csv`` / ``.parquet`` plus a manifest.

Columns are a stable contract (docs/finance.md). Rows come in a fixed order and values in a fixed
format, and nothing time-dependent is written, so exporting the same data again gives byte-identical
files. Files are written to a temporary name and renamed, so a reader never sees half a file.

A final export (the month closed, every line priced and trued up) is never overwritten. When the month's
numbers change afterwards (Anthropic restated a day), a correction is issued as the next version:
``chargeback-YYYY-MM.v2.csv`` / ``.parquet`` / ``.manifest.json`` and ``.v2.corrections.csv``, the delta per
cost centre and team against the version it supersedes (docs/finance.md "Corrections"). A provisional
export is a draft: it is replaced in place until the month is final.
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
from typing import TYPE_CHECKING

from pipelines.allocation.discounts import ANALYTICS_COLUMNS, AnalyticsMonth, spread
from pipelines.allocation.rounding import CENT
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

if TYPE_CHECKING:
    import pyarrow as pa

sql = Queries(__file__)

EXPORT_COLUMNS = ("month", "cost_center", "team", "feature", "env", "model", "input_tokens", "cache_write_5m_tokens",
                  "cache_write_1h_tokens", "cache_read_tokens", "output_tokens", "web_search_requests",
                  "list_cost_usd", "allocated_cost_usd", "share", "provisional", "cost_type", "priced_from")
CORRECTION_COLUMNS = ("cost_center", "team", "previous_usd", "corrected_usd", "delta_usd")
ALLOCATED, PROVISIONAL = EXPORT_COLUMNS.index("allocated_cost_usd"), EXPORT_COLUMNS.index("provisional")


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
    version: int = 1
    corrections_path: Path | None = None  # a correction of a final export: the delta per cost centre and team


def export_rows(ch: ClickHouseResource, month: date) -> list[list[object]]:
    """The month's chargeback lines with the export's column values (money to the cent)."""
    rows = []
    for (month_, *text, in_, w5, w1, read, out, search, list_cost, allocated, share, provisional, cost_type,
         priced_from) in ch.query_rows(sql("chargeback_export_rows"), {"month": month}):
        rows.append([month_.strftime("%Y-%m"), *text, in_, w5, w1, read, out, search,
                     Decimal(list_cost).quantize(CENT, ROUND_HALF_UP), Decimal(allocated).quantize(CENT),
                     Decimal(share).quantize(Decimal("0.000001")), bool(provisional), cost_type, priced_from])
    return rows


def _csv_bytes(rows: list[list[object]], columns: tuple[str, ...] = EXPORT_COLUMNS) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([*row[:PROVISIONAL], "true" if row[PROVISIONAL] else "false", *row[PROVISIONAL + 1:]]
                     for row in rows)
    return buffer.getvalue().encode()


def _parquet_schema(analytics: bool) -> pa.Schema:
    """The Parquet file's columns; ``analytics``: with the Analytics API's three (docs/finance.md).

    pyarrow is imported when a file is written, not with this module: every process that loads the code location
    imports it, and most write no file (pyarrow and numpy are a tenth of a second of CPU: docs/performance.md)."""
    import pyarrow as pa

    schema = pa.schema(
        [pa.field(name, pa.string()) for name in EXPORT_COLUMNS[:6]]
        + [pa.field(name, pa.uint64()) for name in EXPORT_COLUMNS[6:12]]
        + [pa.field("list_cost_usd", pa.decimal128(20, 2)), pa.field("allocated_cost_usd", pa.decimal128(20, 2)),
           pa.field("share", pa.decimal128(9, 6)), pa.field("provisional", pa.bool_()),
           pa.field("cost_type", pa.string()), pa.field("priced_from", pa.string())]
    )
    if analytics:
        schema = pa.schema([*schema, *(pa.field(name, pa.decimal128(20, 2)) for name in ANALYTICS_COLUMNS)])
    return schema


def _parquet_bytes(rows: list[list[object]], schema: pa.Schema) -> bytes:
    import pyarrow as pa  # with the file (_parquet_schema)
    import pyarrow.parquet as pq

    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    table = pa.Table.from_arrays([pa.array(list(values), type=field.type)
                                  for values, field in zip(columns, schema, strict=True)],
                                 schema=schema)
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _name(month: date, version: int, suffix: str) -> str:
    return f"chargeback-{month:%Y-%m}{'' if version == 1 else f'.v{version}'}{suffix}"


def latest_version(directory: Path, month: date) -> tuple[int, dict] | None:
    """The newest version of the month's export in ``directory`` and its manifest, or None."""
    found = None
    version = 1
    while (directory / _name(month, version, ".manifest.json")).exists():
        found = (version, json.loads((directory / _name(month, version, ".manifest.json")).read_text()))
        version += 1
    return found


def _totals(rows: list[list[object]]) -> dict[tuple[str, str], Decimal]:
    totals: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        key = (str(row[1]), str(row[2]))
        totals[key] = totals.get(key, Decimal("0.00")) + Decimal(row[ALLOCATED])  # type: ignore[arg-type]
    return totals


def _previous_rows(path: Path) -> list[list[object]]:
    with open(path, newline="") as handle:
        return [[*row.values()] for row in csv.DictReader(handle)]


def _corrections(previous: list[list[object]], rows: list[list[object]]) -> tuple[bytes, dict]:
    before, after = _totals(previous), _totals(rows)
    lines = [(centre, team, before.get((centre, team), Decimal("0.00")), after.get((centre, team), Decimal("0.00")))
             for centre, team in sorted(before.keys() | after.keys())]
    lines = [(centre, team, old, new, new - old) for centre, team, old, new in lines if new != old]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CORRECTION_COLUMNS)
    writer.writerows(lines)
    by_centre: dict[str, Decimal] = {}
    for centre, _team, _old, _new, delta in lines:
        by_centre[centre] = by_centre.get(centre, Decimal("0.00")) + delta
    summary = {"delta_usd": str(sum((line[4] for line in lines), Decimal("0.00"))),
               "delta_by_cost_center": {centre: str(delta) for centre, delta in sorted(by_centre.items())},
               "delta_by_team": {f"{centre}/{team}": str(delta) for centre, team, _o, _n, delta in lines}}
    return buffer.getvalue().encode(), summary


def with_analytics(rows: list[list[object]], analytics: AnalyticsMonth) -> list[list[object]]:
    """The rows with the Analytics API's list, net and discount per line (``discounts.spread``)."""
    figures = spread([row[12] for row in rows], [row[ALLOCATED] for row in rows], analytics)  # type: ignore[misc]
    return [[*row, *line] for row, line in zip(rows, figures, strict=True)]


def export_chargeback(ch: ClickHouseResource, month: date, directory: Path, policy: str,
                      analytics: AnalyticsMonth | None = None) -> ExportResult:
    """Write the month's chargeback CSV, Parquet and manifest into ``directory``: in place while the month is
    provisional, as a new version (a correction) when a final export's numbers changed, not at all when
    nothing changed. ``analytics`` (the optional Analytics API source is on): three more columns, list, net and
    discount per line, and the month's figures and watermark in the manifest; None: the files are unchanged."""
    rows = export_rows(ch, month)
    directory.mkdir(parents=True, exist_ok=True)
    columns, file_rows = EXPORT_COLUMNS, rows
    if analytics is not None:
        columns, file_rows = (*EXPORT_COLUMNS, *ANALYTICS_COLUMNS), with_analytics(rows, analytics)
    csv_bytes = _csv_bytes(file_rows, columns)
    latest = latest_version(directory, month)
    version, previous = 1, None
    if latest is not None:
        version, previous = latest
        unchanged = previous["files"][_name(month, version, ".csv")]["sha256"] == hashlib.sha256(csv_bytes).hexdigest()
        if previous["final"] and not unchanged:
            version += 1
    files = {_name(month, version, ".csv"): csv_bytes,
             _name(month, version, ".parquet"): _parquet_bytes(file_rows, _parquet_schema(analytics is not None))}
    allocated = sum((row[ALLOCATED] for row in rows), Decimal("0.00"))  # type: ignore[misc]
    list_cost = sum((row[12] for row in rows), Decimal("0.00"))  # type: ignore[misc]
    provisional = any(row[PROVISIONAL] for row in rows)
    manifest: dict = {
        "month": f"{month:%Y-%m}",
        "version": version,
        "final": not provisional,
        "rows": len(rows),
        "allocated_cost_usd": str(allocated),
        "list_cost_usd": str(list_cost),
        "provisional": provisional,
        "unpriced_lines": sum(1 for row in rows if row[-1] == "unpriced"),
        "shared_cost_policy": policy,
        "columns": list(columns),
    }
    if analytics is not None:
        manifest["analytics_api"] = analytics.manifest()
    corrections_path = None
    if version > 1:  # a correction of the version before, whether issued now or written again unchanged
        corrections, summary = _corrections(_previous_rows(directory / _name(month, version - 1, ".csv")), rows)
        corrections_path = directory / _name(month, version, ".corrections.csv")
        files[corrections_path.name] = corrections
        manifest["supersedes"] = _name(month, version - 1, ".manifest.json")
        manifest["correction"] = summary
    manifest["files"] = {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                         for name, data in files.items()}
    for name, data in files.items():
        write_atomically(directory / name, data)
    manifest_path = directory / _name(month, version, ".manifest.json")
    write_atomically(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return ExportResult(directory / _name(month, version, ".csv"), directory / _name(month, version, ".parquet"),
                        manifest_path, len(rows), allocated, list_cost, provisional, manifest, version,
                        corrections_path)
