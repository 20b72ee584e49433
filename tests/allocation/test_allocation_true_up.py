"""Specification of the true-up: where a cost report exists, allocations sum to it exactly."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from allocation_data import (
    HOUR,
    OCTOBER,
    admin_usage,
    config,
    cost_report,
    showback,
    usage_event,
)

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.checks import sums_to_authority

M = 1_000_000
OCT_5 = date(2026, 10, 5)


def costs(ch, workspace: str = "ws1") -> list[tuple]:
    return [(team, token_type, list_cost, allocated, provisional)
            for token_type, team, _f, _b, _q, list_cost, allocated, provisional in showback(ch, workspace)]


def test_allocated_cost_is_scaled_to_the_cost_report_of_the_day_and_workspace(priced):
    admin_usage(priced, output=600_000)  # Haiku 4.5 output at 5 USD per million: 3.00 USD at list price
    usage_event(priced, "e1", "search", "query-rewrite", output=200_000)
    usage_event(priced, "e2", "data", "doc-summarise", output=400_000)
    cost_report(priced, OCT_5, "ws1", "3.30")
    allocate_month(priced, OCTOBER, config())
    assert costs(priced) == [("data", "output", Decimal("2.00"), Decimal("2.20"), 0),
                             ("search", "output", Decimal("1.00"), Decimal("1.10"), 0)]


def test_a_day_without_cost_report_is_provisional_at_list_price(priced):
    admin_usage(priced, input=M)
    admin_usage(priced, input=M, hour=HOUR + timedelta(days=1))
    cost_report(priced, OCT_5, "ws1", "0.90")
    allocate_month(priced, OCTOBER, config())
    assert costs(priced) == [("search", "input", Decimal("1.00"), Decimal("0.90"), 0),
                             ("search", "input", Decimal("1.00"), Decimal("1.00"), 1)]


def test_a_report_that_does_not_divide_evenly_still_sums_exactly(priced):
    admin_usage(priced, output=600_000)
    for event_id, team in (("e1", "data"), ("e2", "research"), ("e3", "search")):
        usage_event(priced, event_id, team, "f", output=200_000)
    cost_report(priced, OCT_5, "ws1", "1.00")
    allocate_month(priced, OCTOBER, config())
    # 1.00 / 3 in units of 1e-12 USD: the one unit left over goes to the first row in order.
    assert [allocated for *_, allocated, _p in costs(priced)] == [
        Decimal("0.333333333334"), Decimal("0.333333333333"), Decimal("0.333333333333")]
    assert priced.query_rows("SELECT sum(allocated_cost_usd) FROM allocation_hourly") == [(Decimal("1.00"),)]


def test_the_true_up_spreads_by_list_cost_across_token_types_and_keys(priced):
    admin_usage(priced, input=M, output=M)  # 1.00 + 5.00 at list, owner search
    admin_usage(priced, key="key_other", input=2 * M)  # 2.00 at list, nobody owns key_other nor ws1
    cost_report(priced, OCT_5, "ws1", "4.00")  # half of the 8.00 list price
    allocate_month(priced, OCTOBER, config())
    assert sorted(costs(priced)) == [("search", "input", Decimal("1.00"), Decimal("0.50"), 0),
                                     ("search", "output", Decimal("5.00"), Decimal("2.50"), 0),
                                     ("unattributed", "input", Decimal("2.00"), Decimal("1.00"), 0)]


def test_a_cost_report_without_usage_becomes_an_unattributed_line(priced):
    cost_report(priced, OCT_5, "ws_quiet", "0.42")
    allocate_month(priced, OCTOBER, config())
    assert priced.query_rows("SELECT token_type, team, basis, quantity, allocated_cost_usd FROM allocation_hourly") == [
        ("cost_report_only", "unattributed", "unattributed", 0, Decimal("0.42"))]



def test_a_workspace_day_whose_only_cost_is_code_execution_has_its_reconciliation_row(priced):
    cost_report(priced, OCT_5, "ws_tools", "0.35", model="", cost_type="code_execution")
    allocate_month(priced, OCTOBER, config())
    assert priced.query_rows(
        "SELECT date, workspace_id, authority_tokens, event_tokens, coverage, allocated_cost_usd, cost_report_usd "
        "FROM finance_reconciliation_daily") == [(OCT_5, "ws_tools", 0, 0, None, Decimal("0.35"), Decimal("0.35"))]

def test_the_sum_check_passes_when_allocations_match_the_report_to_the_cent(priced):
    admin_usage(priced, input=3 * M)
    usage_event(priced, "e1", "data", "f", input=100_000)
    cost_report(priced, OCT_5, "ws1", "2.71")
    admin_usage(priced, input=M, hour=HOUR + timedelta(days=1))
    allocate_month(priced, OCTOBER, config())
    result = sums_to_authority(priced, OCTOBER)
    assert result.passed
    assert (result.metadata["with_cost_report"].value, result.metadata["provisional"].value) == (1, 1)


def test_the_sum_check_fails_when_a_day_does_not_add_up(priced):
    admin_usage(priced, input=3 * M)
    cost_report(priced, OCT_5, "ws1", "2.71")
    allocate_month(priced, OCTOBER, config())
    priced.command("ALTER TABLE allocation_hourly UPDATE allocated_cost_usd = 2.70 WHERE 1 SETTINGS mutations_sync = 1")
    result = sums_to_authority(priced, OCTOBER)
    assert not result.passed
    assert result.metadata["cost_mismatches"].value == 1
