"""Specification of cost centres from workspace tags (LEDGER_CONFIG cost_centre_tag): the tag's value on the
spend's workspace first, then the team's declared cost_center, else 'unassigned' (flagged by a check); the
chargeback per cost centre still sums to the invoice, and the FOCUS export's Tags follow."""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from allocation_data import OCTOBER, admin_usage, config, cost_report, usage_event

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import ChargebackLine, chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.checks import cost_centres_assigned
from pipelines.allocation.config import AttributionConfig
from pipelines.allocation.export import export_chargeback
from pipelines.allocation.focus import export_focus
from pipelines.budgets.model import Budget
from pipelines.reports.statement import build_statement
from pipelines.storage.clickhouse import ClickHouseResource

DAY = OCTOBER.replace(day=5)
# search declares a cost centre, data does not (allowed because a tag is configured).
TAGGED = {"cost_centre_tag": "cost-center",
          "teams": {"search": {"cost_center": "CC-100 Search"}, "data": {}},
          "owners": {"api_keys": {"key_search": "search", "key_data": "data"}}}


@pytest.fixture
def ch(priced):
    priced.command("TRUNCATE TABLE admin_workspaces")
    return priced


def workspaces(ch: ClickHouseResource, tags: dict[str, dict[str, str]]) -> None:
    with ch.connect() as client:
        client.insert("admin_workspaces", [[wid, wid.upper(), "", t, None, None, datetime.now(UTC)]
                                           for wid, t in tags.items()],
                      column_names=["workspace_id", "name", "display_color", "tags", "created_at", "archived_at",
                                    "extracted_at"])


def three_workspaces(ch: ClickHouseResource) -> None:
    """ws1, tagged CC-900 Tagged: 300K input + 100K output of Haiku 4.5 (list $0.80) billed $0.72, events e1
    search 200K + 60K and e2 data 50K + 20K, the rest to key_search's owner search. ws2 (tags without the
    cost-center key): 100K input by key_search (search), billed $0.09. ws3 (no tags): 100K input by key_data
    (data), billed $0.11. The invoice: 0.72 + 0.09 + 0.11 = $0.92."""
    workspaces(ch, {"ws1": {"cost-center": "CC-900 Tagged", "env": "prod"}, "ws2": {"env": "dev"}, "ws3": {}})
    admin_usage(ch, input=300_000, output=100_000)
    usage_event(ch, "e1", "search", "query-rewrite", input=200_000, output=60_000)
    usage_event(ch, "e2", "data", "doc-summarise", input=50_000, output=20_000)
    admin_usage(ch, workspace="ws2", key="key_search", input=100_000)
    admin_usage(ch, workspace="ws3", key="key_data", input=100_000)
    for workspace, amount in (("ws1", "0.72"), ("ws2", "0.09"), ("ws3", "0.11")):
        cost_report(ch, DAY, workspace, amount)


def charge_back(ch: ClickHouseResource, cfg: AttributionConfig) -> list[ChargebackLine]:
    allocate_month(ch, OCTOBER, cfg)
    lines = chargeback_lines_for(showback_lines(ch, OCTOBER), cfg, month_closed=True)
    write_chargeback(ch, OCTOBER, lines, cfg.shared_cost_policy)
    return lines


def by_cost_centre(lines: list[ChargebackLine]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for c in lines:
        totals[c.cost_center] += c.allocated_cost_usd
    return dict(totals)


def test_chargeback_per_cost_centre_comes_from_workspace_tags_and_sums_to_the_invoice(ch):
    three_workspaces(ch)
    lines = charge_back(ch, config(**TAGGED))
    # ws1's whole bill goes to its tag's cost centre, whichever team spent it; ws2 (no cost-center tag) to
    # search's declared CC-100 Search; ws3 (untagged, data declares none) to 'unassigned'.
    assert by_cost_centre(lines) == {"CC-900 Tagged": Decimal("0.72"), "CC-100 Search": Decimal("0.09"),
                                     "unassigned": Decimal("0.11")}
    assert sum(by_cost_centre(lines).values()) == Decimal("0.92")


def test_the_tag_comes_before_the_team_s_cost_centre_and_the_team_s_before_unassigned(ch):
    three_workspaces(ch)
    lines = charge_back(ch, config(**TAGGED))
    assert sorted({(c.line.team, c.cost_center) for c in lines}) == [
        ("data", "CC-900 Tagged"), ("data", "unassigned"), ("search", "CC-100 Search"), ("search", "CC-900 Tagged")]


def test_showback_rows_carry_the_same_cost_centres(ch):
    three_workspaces(ch)
    charge_back(ch, config(**TAGGED))
    assert ch.query_rows("SELECT workspace_id, cost_center, sum(allocated_cost_usd) FROM allocation_hourly "
                         "GROUP BY workspace_id, cost_center ORDER BY workspace_id") == [
        ("ws1", "CC-900 Tagged", Decimal("0.72")), ("ws2", "CC-100 Search", Decimal("0.09")),
        ("ws3", "unassigned", Decimal("0.11"))]


def test_the_check_flags_spend_booked_to_unassigned_by_team(ch):
    three_workspaces(ch)
    result = cost_centres_assigned(charge_back(ch, config(**TAGGED)))
    assert not result.passed
    assert result.metadata["unassigned_usd"].value == "0.11"
    assert result.description.startswith("0.11 USD is booked to cost centre 'unassigned' (teams data)")


def test_residual_moved_by_the_policy_keeps_its_workspace_s_tag_else_takes_the_team_s(ch):
    # Console use (no key, no owner) of 100K Haiku input in ws1 and in ws2, no cost report: $0.10 at list each.
    workspaces(ch, {"ws1": {"cost-center": "CC-900 Tagged"}, "ws2": {}})
    admin_usage(ch, workspace="ws1", key="", input=100_000)
    admin_usage(ch, workspace="ws2", key="", input=100_000)
    lines = charge_back(ch, config(**TAGGED, shared_cost_policy={"assign": "search"}))
    assert [(c.cost_center, c.line.team, c.line.feature, c.allocated_cost_usd) for c in lines] == [
        ("CC-100 Search", "search", "(shared cost)", Decimal("0.10")),
        ("CC-900 Tagged", "search", "(shared cost)", Decimal("0.10"))]


def test_with_policy_none_the_residual_of_a_tagged_workspace_is_booked_to_the_tag(ch):
    workspaces(ch, {"ws1": {"cost-center": "CC-900 Tagged"}, "ws2": {}})
    admin_usage(ch, workspace="ws1", key="", input=100_000)
    admin_usage(ch, workspace="ws2", key="", input=100_000)
    lines = charge_back(ch, config(**TAGGED))
    assert [(c.cost_center, c.line.team, c.allocated_cost_usd) for c in lines] == [
        ("", "unattributed", Decimal("0.10")), ("CC-900 Tagged", "unattributed", Decimal("0.10"))]


def test_without_cost_centre_tag_workspace_tags_change_nothing(ch):
    three_workspaces(ch)
    cfg = config(owners=TAGGED["owners"])  # no cost_centre_tag: the teams' own cost centres
    with_tags = [(c.cost_center, c.line.key, c.allocated_cost_usd) for c in charge_back(ch, cfg)]
    ch.command("TRUNCATE TABLE admin_workspaces")
    assert [(c.cost_center, c.line.key, c.allocated_cost_usd) for c in charge_back(ch, cfg)] == with_tags
    assert {centre for centre, _key, _usd in with_tags} == {"CC-100 Search", "CC-500 Data"}


def test_the_focus_export_tags_each_charge_with_the_line_s_cost_centre(ch, tmp_path: Path):
    three_workspaces(ch)
    cfg = config(**TAGGED)
    charge_back(ch, cfg)
    version = export_chargeback(ch, OCTOBER, tmp_path, "none").version
    export = export_focus(ch, OCTOBER, tmp_path, version, ("org", None))
    billed: dict[str, Decimal] = defaultdict(Decimal)
    with open(export.csv_path, newline="") as handle:
        for row in csv.DictReader(handle):
            billed[json.loads(row["Tags"])["cost_center"]] += Decimal(row["BilledCost"])
    assert dict(billed) == {"CC-900 Tagged": Decimal("0.72"), "CC-100 Search": Decimal("0.09"),
                            "unassigned": Decimal("0.11")}


def test_a_statement_page_of_a_tag_s_cost_centre_covers_the_teams_charged_to_it(ch):
    three_workspaces(ch)
    cfg = config(**TAGGED)
    charge_back(ch, cfg)
    data_budget = Budget(id="data-monthly", scope="team", target="data", period="month", amount_usd=1,
                         slack_channel="#data")
    page = build_statement(ch, OCTOBER, cfg, [data_budget], datetime(2026, 11, 5, tzinfo=UTC), "CC-900 Tagged")
    # data declares no cost centre: its budget is on the page because ws1's tag charges data's spend there
    budgets = next(s for s in page.sections if s.anchor == "budgets")
    assert [row[0] for row in budgets.table_rows] == ["data-monthly"]
    assert page.totals[0] == ("charged (chargeback)", "$0.72")
