"""Specification of the finance SQL views (docs/finance.md) on a small hand-computed month."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from allocation_data import (
    HOUR,
    OCTOBER,
    SONNET,
    admin_usage,
    config,
    cost_report,
    emptied,
    usage_event,
)

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.storage.sql_files import SHARED_SQL_DIR, split_statements

OCT_5 = date(2026, 10, 5)


@pytest.fixture(scope="module")
def month(database):
    """ws1: two search events explain all Haiku usage (0.0015 at list), the report says 0.003; console
    Sonnet use (0.003 at list, no report) is unattributed. Built once: the tests below only read views."""
    with database.connect():  # one embedded session for the whole module; inner units of work reuse it
        ch = emptied(database)
        admin_usage(ch, input=1000, output=100)
        usage_event(ch, "e1", "search", "query-rewrite", input=600, output=60)
        usage_event(ch, "e2", "search", "query-rewrite", input=400, output=40, ts=HOUR + timedelta(minutes=30))
        admin_usage(ch, workspace="", key="", model=SONNET, input=1000)
        cost_report(ch, OCT_5, "ws1", "0.003")
        cfg = config()
        allocate_month(ch, OCTOBER, cfg)
        lines = chargeback_lines_for(showback_lines(ch, OCTOBER), cfg, month_closed=True)
        write_chargeback(ch, OCTOBER, lines, cfg.shared_cost_policy)
        yield ch


def test_daily_spend_by_team_feature_env_and_model(month):
    assert month.query_rows(
        "SELECT date, team, feature, env, model, input_tokens, output_tokens, list_cost_usd, allocated_cost_usd, "
        "provisional FROM finance_daily_spend ORDER BY team") == [
        (OCT_5, "search", "query-rewrite", "prod", "claude-haiku-4-5-20251001", 1000, 100, Decimal("0.0015"),
         Decimal("0.003"), 0),
        (OCT_5, "unattributed", "", "", SONNET, 1000, 0, Decimal("0.003"), Decimal("0.003"), 1),
    ]


def test_unit_cost_per_request_and_per_thousand_requests(month):
    assert month.query_rows(
        "SELECT team, feature, requests, allocated_cost_usd, cost_per_request_usd, cost_per_1k_requests_usd "
        "FROM finance_unit_cost_by_feature") == [
        ("search", "query-rewrite", 2, Decimal("0.003"), Decimal("0.0015"), Decimal("1.5"))]


def test_model_mix_shares_the_months_spend(month):
    assert month.query_rows("SELECT month, model, allocated_cost_usd, cost_share FROM finance_model_mix "
                            "ORDER BY model") == [
        (OCTOBER, "claude-haiku-4-5-20251001", Decimal("0.003"), Decimal("0.5")),
        (OCTOBER, SONNET, Decimal("0.003"), Decimal("0.5")),
    ]


def test_reconciliation_shows_coverage_per_workspace_and_day(month):
    assert month.query_rows(
        "SELECT workspace_id, authority_tokens, event_tokens, explained_tokens, coverage, overcount_rate, "
        "allocated_cost_usd, cost_report_usd FROM finance_reconciliation_daily ORDER BY workspace_id") == [
        ("", 1000, 0, 0, 0.0, None, Decimal("0.003"), None),
        ("ws1", 1100, 1100, 1100, 1.0, 0.0, Decimal("0.003"), Decimal("0.003")),
    ]


def test_monthly_chargeback_lines_are_in_cents(month):
    assert month.query_rows("SELECT team, allocated_cost_usd, share FROM finance_monthly_chargeback "
                            "ORDER BY team") == [
        # 0.003 + 0.003 = 0.006 rounds to 0.01; equal remainders: the cent goes to the first line.
        ("search", Decimal("0.01"), Decimal("1")), ("unattributed", Decimal("0.00"), Decimal("0"))]


def test_the_finance_role_may_only_select_from_finance_views_and_the_schema_version():
    statements = split_statements((SHARED_SQL_DIR / "finance_readonly_role.sql").read_text())
    grants = [s for s in statements if s.startswith("GRANT")]
    views = {grant.split()[3] for grant in grants}
    assert all(s.startswith("GRANT SELECT ON ") and s.endswith("TO finance_readonly") for s in grants)
    assert views == {"finance_daily_spend", "finance_monthly_chargeback", "finance_unit_cost_by_feature",
                     "finance_model_mix", "finance_reconciliation_daily", "schema_migrations"}
