"""The month as a FOCUS 1.3 Cost and Usage dataset (https://focus.finops.org, the FinOps Open Cost and Usage
Specification, v1.3; column rules in docs/finance.md "FOCUS export"): ``focus-YYYY-MM.csv`` / ``.parquet`` and a
``.metadata.json`` with the spec's DataGenerator, DatasetInstance and Schema metadata.

One row per charge: a chargeback line (team, feature, env, model, cost type) taken apart by workspace, token type,
tier, context window, prompt band, inference geo and speed, the SKU price it was billed at. Each line's cents are
paid out over its rows in proportion to their exact amounts (largest remainder, 1e-12 USD), so the rows of a
line sum to it exactly and the dataset's BilledCost sums to the chargeback to the cent. Shared-cost lines take
the composition of the unattributed usage they came from, Claude Code lines (feature ``claude-code``) that of
the Claude Code workspace's rows on the days they were split (``ledger-claude-code-share``). A correction (a
restated month already exported) keeps the rows of the version it supersedes and adds, per charge, the difference
as a row with ChargeClass ``Correction``. Nothing time-dependent is written: the same data gives byte-identical files.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipelines.allocation.chargeback import CLAUDE_CODE_FEATURE, SHARED_COST_FEATURE, TOKEN_COLUMNS
from pipelines.allocation.config import UNATTRIBUTED
from pipelines.allocation.export import ALLOCATED, export_rows, write_atomically
from pipelines.allocation.months import month_bounds
from pipelines.allocation.rounding import split_integer
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

if TYPE_CHECKING:
    import pyarrow as pa

sql = Queries(__file__)

FOCUS_VERSION = "1.3"
PROVIDER = "Anthropic"
PICO = Decimal("0.000000000001")
HOURS = Decimal("0.0000000001")  # hours to 1e-10: times a price of cents stays within the 12 decimals of USD
HOURLY = {"code_execution": "code_execution", "session_usage": "session_usage"}  # priced per hour (service_prices)
TOKEN_TYPE_OF_COLUMN = dict(zip(TOKEN_COLUMNS, ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output",
                                                "web_search"), strict=True))
SKU_METERS = {"input": "Input Tokens", "cache_write_5m": "5m Cache Write Tokens",
              "cache_write_1h": "1h Cache Write Tokens", "cache_read": "Cache Read Tokens", "output": "Output Tokens",
              "web_search": "Web Searches", "code_execution": "Code Execution Container Hours",
              "session_usage": "Managed Agents Session Hours"}

# (column, FOCUS data type, allows nulls): the spec's Mandatory columns and the Conditional / Recommended ones a
# pay-as-you-go AI API has; then the ledger's own detail, prefixed x_ (FOCUS columns first, as the spec asks).
COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("BilledCost", "Decimal", False), ("BillingAccountId", "String", False), ("BillingAccountName", "String", True),
    ("BillingCurrency", "String", False), ("BillingPeriodStart", "Date/Time", False),
    ("BillingPeriodEnd", "Date/Time", False), ("ChargeCategory", "String", False), ("ChargeClass", "String", True),
    ("ChargeDescription", "String", True), ("ChargeFrequency", "String", False),
    ("ChargePeriodStart", "Date/Time", False), ("ChargePeriodEnd", "Date/Time", False),
    ("ConsumedQuantity", "Decimal", True), ("ConsumedUnit", "String", True), ("ContractedCost", "Decimal", False),
    ("EffectiveCost", "Decimal", False), ("HostProviderName", "String", True), ("InvoiceIssuerName", "String", False),
    ("ListCost", "Decimal", False), ("ListUnitPrice", "Decimal", True), ("PricingQuantity", "Decimal", True),
    ("PricingUnit", "String", True), ("ProviderName", "String", False), ("PublisherName", "String", False),
    ("RegionId", "String", True), ("RegionName", "String", True), ("ServiceCategory", "String", False),
    ("ServiceName", "String", False), ("ServiceProviderName", "String", False),
    ("ServiceSubcategory", "String", False), ("SkuId", "String", True), ("SkuMeter", "String", True),
    ("SkuPriceDetails", "JSON", True), ("SkuPriceId", "String", True), ("SubAccountId", "String", True),
    ("SubAccountName", "String", True), ("Tags", "JSON", True), ("AllocatedMethodId", "String", True),
    ("AllocatedResourceId", "String", True), ("AllocatedResourceName", "String", True),
    ("AllocatedTags", "JSON", True),
    ("x_Model", "String", False), ("x_CostType", "String", False), ("x_TokenType", "String", True),
    ("x_ServiceTier", "String", True), ("x_ContextWindow", "String", True), ("x_PromptBand", "String", True),
    ("x_InferenceGeo", "String", True), ("x_Speed", "String", True), ("x_PricedFrom", "String", False),
    ("x_Provisional", "Boolean", False),
)
NAMES = tuple(name for name, _type, _null in COLUMNS)
# How the ledger split each origin charge (a cost report row) between its allocated rows (docs/finance.md).
ALLOCATION_METHODS = {"events": "ledger-event-share", "owner": "ledger-owner", "unattributed": "ledger-unattributed",
                      "shared": "ledger-shared-cost", "claude_code": "ledger-claude-code-share"}


@dataclass(frozen=True)
class Charge:
    """A FOCUS row before formatting: its identity (key) and values by column."""

    key: tuple[str, ...]
    values: dict[str, Any]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f") if value else "0"


def _json(mapping: dict[str, Any]) -> str | None:
    return json.dumps(mapping, sort_keys=True, separators=(",", ":")) if mapping else None


def _pay_out(cents: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """``cents`` split over the rows in proportion to ``weights`` (their exact amounts), exactly, in 1e-12 USD."""
    units = [int(w / PICO) for w in weights]
    if sum(units) <= 0:
        units = [1] * len(weights)
    sign = -1 if cents < 0 else 1
    return [sign * part * PICO for part in split_integer(int(abs(cents) / PICO), units)]


def _unit(cost_type: str, token_type: str) -> str:
    if cost_type in HOURLY:
        return "Hours"
    return "Requests" if token_type == "web_search" else "Tokens"


def _rows_of_lines(lines: list[list[Any]], details: list[dict[str, Any]], hourly_prices: dict[str, Decimal]
                   ) -> list[tuple[dict[str, Any], dict[str, Any], Decimal, int, Decimal, Decimal]]:
    """(chargeback line, detail row, billed USD, quantity, list unit price, list cost) for every charge."""
    by_line: dict[tuple[str, str, str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in details:
        key = (row["team"], row["feature"], row["env"], row["model"], row["cost_type"], row["cost_center"])
        by_line[key].append(row)
    charges = []
    for values in lines:
        line = dict(zip(("month", "cost_center", "team", "feature", "env", "model", *TOKEN_COLUMNS,
                         "list_cost_usd", "allocated_cost_usd", "share", "provisional", "cost_type", "priced_from"),
                        values, strict=True))
        shared = line["feature"] == SHARED_COST_FEATURE
        claude_code = line["feature"] == CLAUDE_CODE_FEATURE  # a team's part of the Claude Code workspace's rows
        origin = (UNATTRIBUTED, "", "", line["model"], line["cost_type"]) if shared else \
            ("", CLAUDE_CODE_FEATURE, line["env"], line["model"], line["cost_type"]) if claude_code else \
            (line["team"], line["feature"], line["env"], line["model"], line["cost_type"])
        # the rows of the line's cost centre; else those allocated without one, to which chargeback gave the
        # team's (the residual of untagged workspaces moved by the shared-cost policy)
        rows = by_line.get((*origin, line["cost_center"])) or by_line.get((*origin, ""), [])
        if not rows:
            continue
        billed = _pay_out(Decimal(values[ALLOCATED]), [Decimal(r["allocated_cost_usd"]) for r in rows])
        quantities = [int(r["quantity"]) for r in rows]
        if shared or claude_code:  # this team's tokens of the line, per token type, over the rows it came from
            for column, token_type in TOKEN_TYPE_OF_COLUMN.items():
                members = [i for i, r in enumerate(rows) if r["token_type"] == token_type and r["quantity"]]
                if members:
                    parts = split_integer(int(line[column]), [int(rows[i]["quantity"]) for i in members])
                    for i, part in zip(members, parts, strict=True):
                        quantities[i] = part
        for row, usd, quantity in zip(rows, billed, quantities, strict=True):
            unit_price = Decimal(row["list_unit_price"])
            if row["cost_type"] in HOURLY and row["token_type"] == "cost_report_only":
                unit_price = hourly_prices.get(row["cost_type"], Decimal(0))
                hours = (usd / unit_price).quantize(HOURS) if unit_price else Decimal(0)
                charges.append((line, row, usd, hours, unit_price, unit_price * hours))
                continue
            charges.append((line, row, usd, quantity, unit_price, unit_price * quantity))
    return charges


def _charge(month: date, line: dict[str, Any], row: dict[str, Any], billed: Decimal, quantity: Decimal | int,
            unit_price: Decimal, list_cost: Decimal, account: tuple[str, str | None]) -> Charge:
    start, end = month_bounds(month)
    cost_type, token_type = row["cost_type"], row["token_type"]
    adjustment = token_type == "cost_report_only" and cost_type not in HOURLY  # a report amount with no usage
    measured = not adjustment
    family_sku = f"{row['model'] or cost_type}:{cost_type if token_type == 'cost_report_only' else token_type}"
    dimensions = {"x_ServiceTier": row["service_tier"], "x_Speed": row["speed"], "x_InferenceGeo": row["inference_geo"],
                  "x_PromptBand": row["prompt_band"], "x_ContextWindow": row["context_window"]}
    dimensions = {k: v for k, v in dimensions.items() if v}
    geo = row["inference_geo"] if row["inference_geo"] not in ("", "not_available") else None
    tags = {"team": line["team"], "feature": line["feature"], "env": line["env"], "cost_center": line["cost_center"]}
    basis = "shared" if line["feature"] == SHARED_COST_FEATURE else row["basis"]
    meter = SKU_METERS.get(token_type if token_type != "cost_report_only" else cost_type, token_type)
    description = f"{row['model'] or cost_type} {meter}" + "".join(
        f" ({value})" for value in (row["service_tier"], row["speed"], row["inference_geo"]) if value
        and value not in ("standard", "global", "not_available"))
    resource = "/".join(part for part in (line["team"], line["feature"], line["env"]) if part)
    values = {
        "BilledCost": billed, "BillingAccountId": account[0], "BillingAccountName": account[1],
        "BillingCurrency": "USD", "BillingPeriodStart": start, "BillingPeriodEnd": end,
        "ChargeCategory": "Adjustment" if adjustment else "Usage", "ChargeClass": None,
        "ChargeDescription": description, "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": start, "ChargePeriodEnd": end,
        "ConsumedQuantity": Decimal(quantity) if measured else None,
        "ConsumedUnit": _unit(cost_type, token_type) if measured else None,
        "ContractedCost": billed, "EffectiveCost": billed, "HostProviderName": PROVIDER,
        "InvoiceIssuerName": PROVIDER,
        "ListCost": list_cost if measured else billed,
        "ListUnitPrice": unit_price if measured else None,
        "PricingQuantity": Decimal(quantity) if measured else None,
        "PricingUnit": _unit(cost_type, token_type) if measured else None,
        "ProviderName": PROVIDER, "PublisherName": PROVIDER, "RegionId": geo, "RegionName": geo,
        "ServiceCategory": "AI and Machine Learning",
        "ServiceName": "Claude Managed Agents" if cost_type == "session_usage" else "Claude API",
        "ServiceProviderName": PROVIDER, "ServiceSubcategory": "Generative AI",
        "SkuId": family_sku if measured else None, "SkuMeter": meter if measured else None,
        "SkuPriceDetails": _json(dimensions) if measured else None,
        "SkuPriceId": "|".join([family_sku, *dimensions.values()]) if measured else None,
        "SubAccountId": row["workspace_id"] or "default",
        "SubAccountName": row["workspace_name"] or ("Default workspace" if not row["workspace_id"] else
                                                    row["workspace_id"]),
        "Tags": _json({k: v for k, v in tags.items() if v}),
        "AllocatedMethodId": ALLOCATION_METHODS[basis],
        "AllocatedResourceId": resource, "AllocatedResourceName": resource,
        "AllocatedTags": _json({"basis": basis}),
        "x_Model": row["model"], "x_CostType": cost_type,
        "x_TokenType": None if token_type == "cost_report_only" else token_type,
        "x_ServiceTier": row["service_tier"] or None, "x_ContextWindow": row["context_window"] or None,
        "x_PromptBand": row["prompt_band"] or None, "x_InferenceGeo": row["inference_geo"] or None,
        "x_Speed": row["speed"] or None, "x_PricedFrom": row["priced_from"], "x_Provisional": bool(line["provisional"]),
    }
    return Charge(_key(values), values)


IDENTITY = ("AllocatedResourceId", "Tags", "x_Model", "x_CostType", "SubAccountId", "x_TokenType", "x_ServiceTier",
            "x_ContextWindow", "x_PromptBand", "x_InferenceGeo", "x_Speed", "x_PricedFrom")
AMOUNTS = ("BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "ConsumedQuantity", "PricingQuantity")


def _key(values: dict[str, Any]) -> tuple[str, ...]:
    """What identifies a charge across versions of the month (to correct it): the columns that say what it is."""
    return (*(str(values[name]) for name in IDENTITY), _number(values["ListUnitPrice"]))


def focus_charges(ch: ClickHouseResource, month: date, account: tuple[str, str | None]) -> list[Charge]:
    """The month's FOCUS rows from its chargeback lines and showback, in a fixed order."""
    details = [dict(zip(("team", "feature", "env", "model", "cost_type", "workspace_id", "workspace_name",
                         "token_type", "service_tier", "context_window", "prompt_band", "inference_geo", "speed",
                         "priced_from", "basis", "list_unit_price", "quantity", "list_cost_usd", "allocated_cost_usd",
                         "cost_center"),
                        row, strict=True))
               for row in ch.query_rows(sql("focus_rows_of_month"), {"month": month})]
    hourly = dict(ch.query_rows(sql("focus_hourly_service_prices"), {"month": month}))
    charges = [_charge(month, *charge, account) for charge in _rows_of_lines(export_rows(ch, month), details, hourly)]
    return sorted(charges, key=lambda c: c.key)


def _net(rows: list[Charge]) -> dict[tuple[str, ...], dict[str, Any]]:
    """Each charge's amounts as a file states them: its row plus any correction rows of it."""
    net: dict[tuple[str, ...], dict[str, Any]] = {}
    for row in rows:
        if row.key not in net:
            net[row.key] = dict(row.values)
            continue
        for name in AMOUNTS:
            if row.values[name] is not None:
                net[row.key][name] = (net[row.key][name] or Decimal(0)) + row.values[name]
    return net


def _corrections(previous: list[Charge], current: list[Charge]) -> list[Charge]:
    """Rows of a correction: the superseded version's rows as they were (its own corrections too), and per charge
    the difference between what that version states and what the month is now."""
    before = _net(previous)
    after = {c.key: c.values for c in current}
    rows = list(previous)
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        delta = dict(new if new is not None else old, ChargeClass="Correction")  # type: ignore[arg-type]
        changed = False
        for name in AMOUNTS:
            a = old[name] if old else None
            b = new[name] if new else None
            if a is None and b is None:
                continue
            delta[name] = (b or Decimal(0)) - (a or Decimal(0))
            changed = changed or delta[name] != 0
        if changed:
            rows.append(Charge(key, delta))
    return rows


def _format(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind == "Date/Time":
        return _utc(value)
    if kind == "Decimal":
        return _number(value)
    if kind == "Boolean":
        return "true" if value else "false"
    return str(value)


def _csv(charges: list[Charge]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(NAMES)
    writer.writerows([_format(c.values[name], kind) for name, kind, _n in COLUMNS] for c in charges)
    return buffer.getvalue().encode()


def _arrow_types() -> dict[str, pa.DataType]:
    """The Parquet type of each FOCUS column kind. pyarrow is imported when a file is written or read, not with this
    module, which every process loading the code location imports (as allocation/export.py's _parquet_schema)."""
    import pyarrow as pa

    return {"Decimal": pa.decimal128(38, 12), "String": pa.string(), "JSON": pa.string(),
            "Date/Time": pa.timestamp("s", tz="UTC"), "Boolean": pa.bool_()}


def _parquet(charges: list[Charge]) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = _arrow_types()
    schema = pa.schema([pa.field(name, types[kind], nullable=nulls) for name, kind, nulls in COLUMNS])
    arrays = [pa.array([c.values[name] for c in charges], type=types[kind]) for name, kind, _n in COLUMNS]
    sink = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_arrays(arrays, schema=schema), sink, compression="zstd")
    return sink.getvalue().to_pybytes()


def _read_charges(path: Path) -> list[Charge]:
    """A FOCUS file this module wrote, back as charges (to correct it)."""
    import pyarrow.parquet as pq  # with the file (_arrow_types)

    return [Charge(_key(values), values) for values in pq.read_table(path).to_pylist()]


def metadata(month: date, version: int, files: dict[str, bytes], charges: list[Charge],
             data_generator: str) -> dict[str, Any]:
    """The spec's dataset metadata (DataGenerator, DatasetInstance, Schema with a ColumnDefinition per column),
    with the files' checksums and totals. The instance and schema ids are stable, derived from their content."""
    instance = hashlib.sha256(f"{data_generator}/CostAndUsage".encode()).hexdigest()[:32]
    definitions = [{"ColumnName": name, "DataType": kind.upper().replace("/", ""),
                    **({"NumericPrecision": 38, "NumberScale": 12} if kind == "Decimal" else {}),
                    **({"ProviderTagPrefixes": []} if name == "Tags" else {})} for name, kind, _n in COLUMNS]
    schema_id = hashlib.sha256(json.dumps(definitions, sort_keys=True).encode()).hexdigest()[:32]
    billed = sum((c.values["BilledCost"] for c in charges), Decimal(0))
    return {
        "DataGenerator": {"DataGenerator": data_generator},
        "DatasetInstance": [{"DatasetInstanceId": instance, "DatasetInstanceName": "Claude API cost and usage",
                             "FocusDatasetId": "CostAndUsage"}],
        "Schema": [{"SchemaId": schema_id, "FocusVersion": FOCUS_VERSION, "DatasetInstanceId": instance,
                    "CreationDate": _utc(month_bounds(month)[1]), "ColumnDefinition": definitions}],
        "x_Month": f"{month:%Y-%m}", "x_Version": version, "x_Rows": len(charges),
        "x_BilledCostUsd": _number(billed),
        "x_Corrections": sum(1 for c in charges if c.values["ChargeClass"] == "Correction"),
        "x_Files": {name: {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                    for name, data in files.items()},
    }


@dataclass(frozen=True)
class FocusExport:
    csv_path: Path
    parquet_path: Path
    metadata_path: Path
    rows: int
    billed_cost_usd: Decimal


def _name(month: date, version: int, suffix: str) -> str:
    return f"focus-{month:%Y-%m}{'' if version == 1 else f'.v{version}'}{suffix}"


def export_focus(ch: ClickHouseResource, month: date, directory: Path, version: int,
                 account: tuple[str, str | None], data_generator: str = "claude-ledger") -> FocusExport:
    """Write the month's FOCUS files for chargeback ``version`` (from 2 on, a correction of the version before)."""
    charges = focus_charges(ch, month, account)
    if version > 1 and (directory / _name(month, version - 1, ".parquet")).exists():
        charges = _corrections(_read_charges(directory / _name(month, version - 1, ".parquet")), charges)
    directory.mkdir(parents=True, exist_ok=True)
    files = {_name(month, version, ".csv"): _csv(charges), _name(month, version, ".parquet"): _parquet(charges)}
    meta = metadata(month, version, files, charges, data_generator)
    for name, data in files.items():
        write_atomically(directory / name, data)
    metadata_path = directory / _name(month, version, ".metadata.json")
    write_atomically(metadata_path, (json.dumps(meta, indent=2, sort_keys=True) + "\n").encode())
    return FocusExport(directory / _name(month, version, ".csv"), directory / _name(month, version, ".parquet"),
                       metadata_path, len(charges), sum((c.values["BilledCost"] for c in charges), Decimal(0)))
