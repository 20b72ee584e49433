"""Specification: the monthly chargeback books the Claude Code workspace to the teams of the people who used it, on
the days Claude Code's split of its invoice exists (claude_code_team_daily, docs/claude_code.md); other days stay
with the workspace's owner, and the month still sums to the invoice to the cent.

The month below: ws_research (owner research, CONFIG) is the Claude Code workspace. Haiku 4.5 on it:
- 5 Oct: 1,000,000 input ($1.00 list) + 200,000 output ($1.00 list), invoiced $1.00, so each token type is trued
  up to $0.50; Claude Code's split that day: search $0.333333333333, data $0.666666666667 (1 : 2).
- 6 Oct: 500,000 input ($0.50 list), invoiced $0.50; no split that day: it stays with research.
Invoice of the month: $1.50.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from allocation_data import HOUR, OCTOBER, admin_usage, claude_code_split, config, cost_report

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.assets import chargeback
from pipelines.allocation.chargeback import ChargebackLine, chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.export import export_chargeback
from pipelines.allocation.focus import export_focus
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.reports.statement import build_statement
from pipelines.storage.clickhouse import ClickHouseResource

WORKSPACE = "ws_research"
SPLIT_DAY, OWNER_DAY = date(2026, 10, 5), date(2026, 10, 6)


@pytest.fixture
def ch(priced):
    priced.command("TRUNCATE TABLE claude_code_team_daily")
    return priced


def month_of_claude_code(ch: ClickHouseResource) -> None:
    admin_usage(ch, hour=HOUR, workspace=WORKSPACE, key="key_claude_code", input=1_000_000, output=200_000)
    cost_report(ch, SPLIT_DAY, WORKSPACE, "1.00")
    admin_usage(ch, hour=HOUR.replace(day=6), workspace=WORKSPACE, key="key_claude_code", input=500_000)
    cost_report(ch, OWNER_DAY, WORKSPACE, "0.50")


def charge_back(ch: ClickHouseResource) -> list[ChargebackLine]:
    cfg = config(shared_cost_policy="none")
    allocate_month(ch, OCTOBER, cfg)
    lines = chargeback_lines_for(showback_lines(ch, OCTOBER), cfg, month_closed=True)
    write_chargeback(ch, OCTOBER, lines, cfg.shared_cost_policy)
    return lines


def test_the_claude_code_workspace_is_charged_to_its_users_teams_on_the_days_it_is_split(ch):
    # 5 Oct: the workspace's $1.00 split 1 : 2 in 1e-12 USD: search 0.333333333333 -> 0.33, data 0.666666666667
    # -> 0.66 + the month's missing cent (largest remainder) = 0.67. 6 Oct's $0.50 stays with the owner.
    # 0.33 + 0.67 + 0.50 = 1.50, the invoice.
    month_of_claude_code(ch)
    claude_code_split(ch, SPLIT_DAY, WORKSPACE, {"search": "0.333333333333", "data": "0.666666666667"})
    lines = charge_back(ch)
    assert [(c.cost_center, c.line.team, c.line.feature, c.allocated_cost_usd) for c in lines] == [
        ("CC-100 Search", "search", "claude-code", Decimal("0.33")),
        ("CC-400 Research", "research", "", Decimal("0.50")),
        ("CC-500 Data", "data", "claude-code", Decimal("0.67")),
    ]
    assert sum(c.allocated_cost_usd for c in lines) == Decimal("1.50")


def test_a_claude_code_line_keeps_its_share_of_the_tokens_at_their_list_price(ch):
    # 1,000,000 input x 1/3 = 333,333.3 -> 333,333 (data takes the left-over token, larger remainder);
    # 200,000 output x 1/3 = 66,666.7 -> 66,667 (search's remainder is the larger). List: the day's $2.00 x
    # 333333333333 / 10^12 = 0.666666666666 exactly.
    month_of_claude_code(ch)
    claude_code_split(ch, SPLIT_DAY, WORKSPACE, {"search": "0.333333333333", "data": "0.666666666667"})
    [search] = [c.line for c in charge_back(ch) if c.line.team == "search"]
    assert (search.tokens[0], search.tokens[4]) == (333_333, 66_667)
    assert search.list_cost_usd == Decimal("0.666666666666")
    assert search.showback_cost_usd == Decimal("0.333333333333")
    assert search.model == "claude-haiku-4-5-20251001" and search.priced_from == "cost_report"


def test_the_focus_export_carries_the_claude_code_lines_as_their_workspace_s_usage(ch, tmp_path: Path):
    month_of_claude_code(ch)
    claude_code_split(ch, SPLIT_DAY, WORKSPACE, {"search": "0.333333333333", "data": "0.666666666667"})
    charge_back(ch)
    version = export_chargeback(ch, OCTOBER, tmp_path, "none").version
    export = export_focus(ch, OCTOBER, tmp_path, version, ("org-acme", "Acme Inc."))
    with open(export.csv_path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    search = [r for r in rows if json.loads(r["Tags"]) == {"team": "search", "feature": "claude-code",
                                                           "cost_center": "CC-100 Search"}]
    assert sorted((r["x_TokenType"], r["PricingQuantity"], r["SubAccountId"], r["AllocatedMethodId"])
                  for r in search) == [("input", "333333", WORKSPACE, "ledger-claude-code-share"),
                                       ("output", "66667", WORKSPACE, "ledger-claude-code-share")]
    assert sum(Decimal(r["BilledCost"]) for r in search) == Decimal("0.33")
    assert export.billed_cost_usd == Decimal("1.50")


def test_without_a_configured_claude_code_workspace_the_owner_keeps_it(ch):
    # No claude_code.workspace_id: claude_code_team_daily shows the api estimate with charged_usd 0.
    month_of_claude_code(ch)
    with ch.connect() as client:
        client.insert("claude_code_team_daily",
                      [[SPLIT_DAY, "", "search", "api", Decimal("0.40"), Decimal(0), 0, datetime.now(UTC)]],
                      column_names=["date", "workspace_id", "team", "customer_type", "estimated_cost_usd",
                                    "charged_usd", "provisional", "computed_at"])
    assert [(c.line.team, c.line.feature, c.allocated_cost_usd) for c in charge_back(ch)] == [
        ("research", "", Decimal("1.50"))]


def test_the_chargeback_s_lineage_includes_the_claude_code_split_of_its_month():
    assert {key.to_user_string() for key in chargeback.asset_deps[chargeback.key]} >= {
        "allocation", "claude_code_team_daily"}


def test_the_statement_s_budget_spend_counts_claude_code_where_the_chargeback_does(ch):
    # Budget spend (the rollup, with Claude Code split as team budgets count it) + shared cost (none) = chargeback:
    # search 0.33, data 0.67 (Claude Code), research 0.50 (its 6 October); nothing left over.
    month_of_claude_code(ch)
    claude_code_split(ch, SPLIT_DAY, WORKSPACE, {"search": "0.333333333333", "data": "0.666666666667"})
    charge_back(ch)
    now = datetime(2026, 11, 5, 12, tzinfo=UTC)
    refresh_spend_rollup(ch, now)
    statement = build_statement(ch, OCTOBER, config(shared_cost_policy="none"), [], now)
    [shared] = [s for s in statement.sections if s.anchor == "shared-cost"]
    assert shared.table_rows == (("CC-100 Search", "search", "$0.33", "$0.00", "$0.33", "$0.00"),
                                 ("CC-400 Research", "research", "$0.50", "$0.00", "$0.50", "$0.00"),
                                 ("CC-500 Data", "data", "$0.67", "$0.00", "$0.67", "$0.00"))
