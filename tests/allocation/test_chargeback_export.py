"""Specification of the monthly chargeback export: exact lines, stable format, byte-identical re-export."""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from allocation_data import OCTOBER, config, export_october

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.export import export_chargeback

EXPECTED_CSV = """\
month,cost_center,team,feature,env,model,input_tokens,cache_write_5m_tokens,cache_write_1h_tokens,cache_read_tokens,\
output_tokens,web_search_requests,list_cost_usd,allocated_cost_usd,share,provisional,cost_type,priced_from
2026-10,CC-100 Search,search,,,claude-haiku-4-5-20251001,50000,0,0,0,20000,0,0.15,0.13,0.127451,false,tokens,cost_report
2026-10,CC-100 Search,search,(shared cost),,claude-sonnet-4-5-20250929,81250,0,0,0,0,0,0.24,0.24,0.235294,true,\
tokens,list
2026-10,CC-100 Search,search,query-rewrite,prod,claude-haiku-4-5-20251001,200000,0,0,0,60000,0,0.50,0.45,0.441176,\
false,tokens,cost_report
2026-10,CC-500 Data,data,(shared cost),,claude-sonnet-4-5-20250929,18750,0,0,0,0,0,0.06,0.06,0.058824,true,tokens,list
2026-10,CC-500 Data,data,doc-summarise,prod,claude-haiku-4-5-20251001,50000,0,0,0,20000,0,0.15,0.14,0.137255,\
false,tokens,cost_report
"""


@pytest.fixture
def october(priced):
    """ws1 (Haiku, 0.80 USD at list, cost report 0.72) split by events; console Sonnet use (0.30, no report)."""
    export_october(priced)
    return priced


def run_chargeback(ch, policy: object = "proportional") -> None:
    cfg = config(shared_cost_policy=policy)
    allocate_month(ch, OCTOBER, cfg)
    write_chargeback(ch, OCTOBER, chargeback_lines_for(showback_lines(ch, OCTOBER), cfg, month_closed=True),
                     cfg.shared_cost_policy)


def test_the_export_has_the_documented_columns_and_hand_computed_lines(october, tmp_path):
    # ws1 is trued up from 0.80 to 0.72 (x 0.9); the unattributed 0.30 is spread 0.585 : 0.135 (search : data)
    # = 0.24375 + 0.05625; rounding to the cent gives the two missing cents to the largest remainders.
    run_chargeback(october)
    result = export_chargeback(october, OCTOBER, tmp_path / "exports", "proportional")
    assert result.csv_path.read_text() == EXPECTED_CSV
    assert (result.rows, result.allocated_cost_usd, result.provisional) == (5, Decimal("1.02"), True)


def test_the_parquet_file_carries_the_same_lines_with_typed_columns(october, tmp_path):
    run_chargeback(october)
    result = export_chargeback(october, OCTOBER, tmp_path / "exports", "proportional")
    table = pq.read_table(result.parquet_path)
    assert table.column_names == EXPECTED_CSV.splitlines()[0].split(",")
    assert table.column("allocated_cost_usd").to_pylist() == [
        Decimal("0.13"), Decimal("0.24"), Decimal("0.45"), Decimal("0.06"), Decimal("0.14")]
    assert table.column("input_tokens").to_pylist() == [50000, 81250, 200000, 18750, 50000]
    assert table.column("provisional").to_pylist() == [False, True, False, True, False]
    assert table.column("priced_from").to_pylist() == ["cost_report", "list", "cost_report", "list", "cost_report"]


def test_re_exporting_the_same_data_gives_byte_identical_files(october, tmp_path):
    run_chargeback(october)
    first = export_chargeback(october, OCTOBER, tmp_path / "a", "proportional")
    run_chargeback(october)  # recomputed from scratch: new computed_at, same numbers
    second = export_chargeback(october, OCTOBER, tmp_path / "b", "proportional")
    for attr in ("csv_path", "parquet_path", "manifest_path"):
        assert getattr(first, attr).read_bytes() == getattr(second, attr).read_bytes()


def test_the_manifest_states_rows_totals_and_checksums(october, tmp_path):
    run_chargeback(october)
    result = export_chargeback(october, OCTOBER, tmp_path / "exports", "proportional")
    manifest = json.loads(result.manifest_path.read_text())
    assert (manifest["month"], manifest["rows"], manifest["allocated_cost_usd"]) == ("2026-10", 5, "1.02")
    assert manifest["files"]["chargeback-2026-10.csv"]["sha256"] == hashlib.sha256(
        EXPECTED_CSV.encode()).hexdigest()
    assert manifest["files"]["chargeback-2026-10.parquet"]["sha256"] == hashlib.sha256(
        result.parquet_path.read_bytes()).hexdigest()


def test_policy_none_exports_the_unattributed_line_without_cost_centre(october, tmp_path):
    run_chargeback(october, "none")
    result = export_chargeback(october, OCTOBER, tmp_path / "exports", "none")
    lines = result.csv_path.read_text().splitlines()
    assert lines[1] == ("2026-10,,unattributed,,,claude-sonnet-4-5-20250929,100000,0,0,0,0,0,0.30,0.30,0.294118,true,"
                        "tokens,list")
    assert result.allocated_cost_usd == Decimal("1.02")
