"""Specification of the FOCUS 1.3 export (https://focus.finops.org, Cost and Usage dataset; the column lists below
are the spec's dataset.md, written out here independently of the exporter's own list): every Mandatory column,
the spec's data types, each team's BilledCost equal to its chargeback to the cent, the spec's cross-column rules
on every row, byte-identical re-export, and corrections as ChargeClass "Correction" rows."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from allocation_data import OCTOBER, admin_usage, config, cost_report, export_october, usage_event

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.export import export_chargeback
from pipelines.allocation.focus import FocusExport, export_focus, focus_charges

# FOCUS 1.3 Cost and Usage: the 23 Mandatory columns and the Conditional / Recommended ones (dataset.md).
MANDATORY = {"BilledCost", "BillingAccountId", "BillingAccountName", "BillingCurrency", "BillingPeriodEnd",
             "BillingPeriodStart", "ChargeCategory", "ChargeClass", "ChargeDescription", "ChargePeriodEnd",
             "ChargePeriodStart", "ContractedCost", "EffectiveCost", "HostProviderName", "InvoiceIssuerName",
             "ListCost", "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "ServiceCategory",
             "ServiceName", "ServiceProviderName"}
OTHER_SPEC_COLUMNS = {
    "AllocatedMethodDetails", "AllocatedMethodId", "AllocatedResourceId", "AllocatedResourceName", "AllocatedTags",
    "AvailabilityZone", "BillingAccountType", "CapacityReservationId", "CapacityReservationStatus",
    "ChargeFrequency", "CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountName",
    "CommitmentDiscountQuantity", "CommitmentDiscountStatus", "CommitmentDiscountType", "CommitmentDiscountUnit",
    "ConsumedQuantity", "ConsumedUnit", "ContractApplied", "ContractedUnitPrice", "InvoiceId", "ListUnitPrice",
    "PricingCategory", "PricingCurrency", "PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
    "PricingCurrencyListUnitPrice", "RegionId", "RegionName", "ResourceId", "ResourceName", "ResourceType",
    "ServiceSubcategory", "SkuId", "SkuMeter", "SkuPriceDetails", "SkuPriceId", "SubAccountId", "SubAccountName",
    "SubAccountType", "Tags"}
NEVER_NULL = {"BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart",
              "ChargeCategory", "ChargeFrequency", "ChargePeriodEnd", "ChargePeriodStart", "ContractedCost",
              "EffectiveCost", "InvoiceIssuerName", "ListCost", "ProviderName", "PublisherName", "ServiceCategory",
              "ServiceName", "ServiceProviderName", "ServiceSubcategory"}
DECIMALS = {"BilledCost", "ContractedCost", "EffectiveCost", "ListCost", "ListUnitPrice", "PricingQuantity",
            "ConsumedQuantity"}
DATES = {"BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd"}
ACCOUNT = ("org-acme", "Acme Inc.")


@pytest.fixture
def ch(priced):
    return priced


def charge_back(ch, directory: Path, policy: str = "proportional") -> FocusExport:
    cfg = config(shared_cost_policy=policy)
    allocate_month(ch, OCTOBER, cfg)
    write_chargeback(ch, OCTOBER, chargeback_lines_for(showback_lines(ch, OCTOBER), cfg, month_closed=True),
                     cfg.shared_cost_policy)
    version = export_chargeback(ch, OCTOBER, directory, policy).version
    return export_focus(ch, OCTOBER, directory, version, ACCOUNT)


def rows(export: FocusExport) -> list[dict[str, str]]:
    with open(export.csv_path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_every_mandatory_column_is_there_and_the_ledger_s_own_columns_come_after_the_spec_s(ch, tmp_path):
    export_october(ch)
    header = list(rows(charge_back(ch, tmp_path))[0])
    spec = [name for name in header if not name.startswith("x_")]
    assert set(spec) >= MANDATORY
    assert set(spec) <= MANDATORY | OTHER_SPEC_COLUMNS
    assert header[:len(spec)] == spec  # custom columns are not intermixed


def test_the_parquet_file_has_the_spec_s_data_types_and_nullability(ch, tmp_path):
    export_october(ch)
    schema = pq.read_schema(charge_back(ch, tmp_path).parquet_path)
    assert {f.name for f in schema if pa.types.is_decimal(f.type)} == DECIMALS
    assert {f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.tz == "UTC"} == DATES
    assert {f.name for f in schema if not f.nullable} >= NEVER_NULL
    assert schema.field("ChargeClass").nullable and schema.field("ListUnitPrice").nullable


def test_each_team_s_billed_cost_is_its_chargeback_to_the_cent(ch, tmp_path):
    # The chargeback: search 0.13 (owner) + 0.45 (query-rewrite) + 0.24 (shared), data 0.14 + 0.06 (shared).
    export_october(ch)
    export = charge_back(ch, tmp_path)
    by_team: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows(export):
        by_team[json.loads(row["Tags"])["team"]] += Decimal(row["BilledCost"])
    assert by_team == {"search": Decimal("0.82"), "data": Decimal("0.20")}
    assert export.billed_cost_usd == Decimal("1.02")


def test_a_line_s_cents_are_paid_over_its_token_types_in_proportion_to_their_exact_amounts(ch, tmp_path):
    # data/doc-summarise is 0.14: input 50K trued up to $0.045, output 20K to $0.09, i.e. 1 : 2.
    export_october(ch)
    line = [r for r in rows(charge_back(ch, tmp_path)) if '"feature":"doc-summarise"' in r["Tags"]]
    assert [(r["x_TokenType"], r["PricingQuantity"], r["ListUnitPrice"], r["ListCost"], r["BilledCost"])
            for r in line] == [("input", "50000", "0.000001", "0.05", "0.046666666667"),
                               ("output", "20000", "0.000005", "0.1", "0.093333333333")]
    assert {(r["SubAccountId"], r["AllocatedMethodId"], r["x_PricedFrom"]) for r in line} == {
        ("ws1", "ledger-event-share", "cost_report")}


def test_a_shared_cost_line_carries_the_unattributed_tokens_it_was_spread_from(ch, tmp_path):
    # search's share of the console Sonnet 4.5 input: 100K x 0.585 / 0.72 = 81,250 tokens at $3 / MTok = $0.24375.
    export_october(ch)
    [shared] = [r for r in rows(charge_back(ch, tmp_path)) if '"team":"search"' in r["Tags"]
                and '"feature":"(shared cost)"' in r["Tags"]]
    assert (shared["PricingQuantity"], shared["ListUnitPrice"], shared["ListCost"], shared["BilledCost"]) == (
        "81250", "0.000003", "0.24375", "0.24")
    assert (shared["SubAccountId"], shared["AllocatedMethodId"], shared["x_Provisional"]) == (
        "default", "ledger-shared-cost", "true")


def test_every_row_follows_the_spec_s_cross_column_rules(ch, tmp_path):
    export_october(ch)
    for row in rows(charge_back(ch, tmp_path)):
        price, quantity = row["ListUnitPrice"], row["PricingQuantity"]
        assert Decimal(row["ListCost"]) == Decimal(price) * Decimal(quantity)
        assert bool(row["SkuPriceId"]) == bool(price) == bool(quantity) == bool(row["PricingUnit"])
        assert row["ChargeCategory"] == "Usage" and row["ConsumedQuantity"] == quantity
        assert row["BilledCost"] == row["EffectiveCost"] == row["ContractedCost"]
        assert (row["BillingPeriodStart"], row["BillingPeriodEnd"]) == ("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z")
        assert row["ChargeClass"] == "" and row["BillingAccountId"] == "org-acme"
        assert bool(row["SubAccountId"]) == bool(row["SubAccountName"])
        assert all(key.startswith("x_") for key in json.loads(row["SkuPriceDetails"]))


def test_re_exporting_the_same_data_gives_byte_identical_files(ch, tmp_path):
    export_october(ch)
    first = charge_back(ch, tmp_path / "a")
    charge_back(ch, tmp_path / "b")
    for name in (first.csv_path.name, first.parquet_path.name, first.metadata_path.name):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_the_metadata_names_the_generator_the_focus_version_and_every_column(ch, tmp_path):
    export_october(ch)
    export = charge_back(ch, tmp_path)
    meta = json.loads(export.metadata_path.read_text())
    [schema] = meta["Schema"]
    assert (meta["DataGenerator"], schema["FocusVersion"]) == ({"DataGenerator": "claude-ledger"}, "1.3")
    assert [c["ColumnName"] for c in schema["ColumnDefinition"]] == list(rows(export)[0])
    assert schema["DatasetInstanceId"] == meta["DatasetInstance"][0]["DatasetInstanceId"]
    assert meta["x_Files"][export.csv_path.name]["sha256"] == hashlib.sha256(export.csv_path.read_bytes()).hexdigest()
    assert (meta["x_Rows"], meta["x_BilledCostUsd"]) == (8, "1.02")


def test_a_correction_keeps_the_superseded_rows_and_adds_each_charge_s_difference(ch, tmp_path):
    # Only ws1, fully billed (final): $0.72 -> lines 0.13 / 0.45 / 0.14. Anthropic restates the day at the list
    # price, $0.80 -> 0.15 / 0.50 / 0.15: the correction adds +0.08 over the charges, the original rows stay.
    admin_usage(ch, input=300_000, output=100_000)
    usage_event(ch, "e1", "search", "query-rewrite", input=200_000, output=60_000)
    usage_event(ch, "e2", "data", "doc-summarise", input=50_000, output=20_000)
    cost_report(ch, OCTOBER.replace(day=5), "ws1", "0.72")
    first = charge_back(ch, tmp_path)
    original = first.csv_path.read_bytes()
    cost_report(ch, OCTOBER.replace(day=5), "ws1", "0.80")
    second = charge_back(ch, tmp_path)

    assert second.csv_path.name == "focus-2026-10.v2.csv" and first.csv_path.read_bytes() == original
    corrected = rows(second)
    before = [r for r in corrected if r["ChargeClass"] == ""]
    deltas = [r for r in corrected if r["ChargeClass"] == "Correction"]
    assert before == rows(first)
    assert sum(Decimal(r["BilledCost"]) for r in deltas) == Decimal("0.08")
    assert {r["x_TokenType"]: Decimal(r["BilledCost"]) for r in deltas
            if '"feature":"query-rewrite"' in r["Tags"]} == {"input": Decimal("0.02"), "output": Decimal("0.03")}
    assert all(r["PricingQuantity"] == "0" and r["ListCost"] == "0" for r in deltas)  # only the price moved
    assert second.billed_cost_usd == Decimal("0.80")


def test_a_second_correction_corrects_what_the_first_one_stated(ch, tmp_path):
    # $0.72, restated to $0.80 (v2), then to $0.88 (v3): v3's new correction rows add +0.08 again.
    admin_usage(ch, input=300_000, output=100_000)
    cost_report(ch, OCTOBER.replace(day=5), "ws1", "0.72")
    charge_back(ch, tmp_path)
    cost_report(ch, OCTOBER.replace(day=5), "ws1", "0.80")
    second = charge_back(ch, tmp_path)
    cost_report(ch, OCTOBER.replace(day=5), "ws1", "0.88")
    third = charge_back(ch, tmp_path)
    assert third.csv_path.name == "focus-2026-10.v3.csv"
    assert rows(third)[:len(rows(second))] == rows(second)
    new = rows(third)[len(rows(second)):]
    assert [r["ChargeClass"] for r in new] == ["Correction"] * len(new)
    assert sum(Decimal(r["BilledCost"]) for r in new) == Decimal("0.08")
    assert third.billed_cost_usd == Decimal("0.88") == sum(c.values["BilledCost"] for c in focus_charges(
        ch, OCTOBER, ACCOUNT))
