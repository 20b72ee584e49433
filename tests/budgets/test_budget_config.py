"""Budgets in LEDGER_CONFIG: defaults, and load errors that name the budget and the field."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from budget_helpers import budget

from pipelines import settings
from pipelines.budgets.model import BudgetsConfig
from pipelines.ledger_config import LedgerConfig, LedgerConfigError


def load(tmp_path, *budgets, **sections):
    path = tmp_path / "ledger.yaml"
    path.write_text(yaml.safe_dump({"budgets": list(budgets), **sections}))
    return LedgerConfig(path=str(path)).section(BudgetsConfig)


def test_a_budget_gets_the_default_thresholds_50_75_90_100(tmp_path):
    [loaded] = load(tmp_path, budget(amount_usd="1500.50", env="prod")).budgets
    assert loaded.thresholds == (Decimal(50), Decimal(75), Decimal(90), Decimal(100))
    assert loaded.amount_usd == Decimal("1500.50")
    assert loaded.describe_scope() == "team search, env prod"


@pytest.mark.parametrize(("fields", "message"), [
    ({"amount_usd": 0}, "budget 'b1': amount_usd: Input should be greater than 0"),
    ({"amount_usd": -10}, "budget 'b1': amount_usd: Input should be greater than 0"),
    ({"thresholds": [50, 90, 75]}, "budget 'b1': thresholds: Value error, thresholds must be strictly ascending"),
    ({"scope": "department"}, "budget 'b1': scope: Input should be 'org', 'workspace', 'team', 'feature', "
                              "'api_key' or 'person'"),
    ({"period": "week"}, "budget 'b1': period: Input should be 'day' or 'month'"),
    ({"target": None}, "budget 'b1': target: a team budget needs a target"),
    ({"scope": "org"}, "budget 'b1': target: an org budget has no target"),
    ({"channel": "#x"}, "budget 'b1': channel: Extra inputs are not permitted"),
])
def test_an_invalid_budget_is_rejected_with_its_id_and_field(tmp_path, fields, message):
    with pytest.raises(LedgerConfigError, match=r"budgets\.0: ") as failure:
        load(tmp_path, budget("b1", **fields))
    assert message in str(failure.value)


def test_a_team_budget_for_a_team_that_is_not_configured_is_rejected(tmp_path):
    teams = {"search": {"cost_center": "CC-100"}}
    with pytest.raises(LedgerConfigError) as failure:
        load(tmp_path, budget("ok"), budget("typo", target="serach"), teams=teams)
    assert "budget 'typo': target: unknown team 'serach' (configured teams: search)" in str(failure.value)
    assert "'ok'" not in str(failure.value)


def test_without_configured_teams_any_team_name_is_accepted(tmp_path):
    assert [b.target for b in load(tmp_path, budget(target="anyone")).budgets] == ["anyone"]


def test_two_budgets_with_one_id_are_rejected(tmp_path):
    with pytest.raises(LedgerConfigError, match="budget 'b1': id: used by more than one budget"):
        load(tmp_path, budget("b1"), budget("b1", period="day"))


def test_the_bundled_ledger_yaml_budgets_are_valid():
    budgets = LedgerConfig(path=str(settings.PROJECT_ROOT / "ledger.yaml")).section(BudgetsConfig).budgets
    assert len(budgets) >= 3
    assert {b.scope for b in budgets} >= {"org", "team"}
