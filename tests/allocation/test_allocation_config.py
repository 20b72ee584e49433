"""Specification of the attribution sections of LEDGER_CONFIG: teams, owners, shared-cost policy."""

from __future__ import annotations

import pytest

from demo.organisation import API_KEYS, TEAMS, WORKSPACES
from pipelines.allocation.config import AttributionConfig, FocusConfig
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.settings import PROJECT_ROOT


def load(tmp_path, text: str):
    path = tmp_path / "ledger.yaml"
    path.write_text(text)
    return LedgerConfig(path=str(path)).section(AttributionConfig)


TEAMS_YAML = "teams:\n  search: {cost_center: CC-100}\n  data: {cost_center: CC-500}\n"


def test_teams_owners_and_policy_are_read(tmp_path):
    config = load(tmp_path, TEAMS_YAML + "owners:\n  api_keys: {k1: search}\n  workspaces: {'': data}\n"
                            "shared_cost_policy: {assign: data}\nreconciliation: {coverage_warn_below: 0.5}\n")
    assert config.teams["search"].cost_center == "CC-100"
    assert (config.owners.api_keys, config.owners.workspaces) == ({"k1": "search"}, {"": "data"})
    assert config.shared_cost_policy.describe() == "assign: data"
    assert (config.reconciliation.coverage_warn_below, config.reconciliation.overcount_warn_above) == (0.5, 0.02)


def test_without_a_policy_the_residual_stays_its_own_line(tmp_path):
    assert load(tmp_path, TEAMS_YAML).shared_cost_policy.describe() == "none"


@pytest.mark.parametrize(("text", "message"), [
    (TEAMS_YAML + "owners:\n  api_keys: {k1: marketing}\n",
     "owners.api_keys.k1: team 'marketing' is not declared under teams"),
    (TEAMS_YAML + "owners:\n  workspaces: {'': marketing}\n",
     "owners.workspaces.'': team 'marketing' is not declared under teams"),
    (TEAMS_YAML + "shared_cost_policy: {assign: marketing}\n",
     "shared_cost_policy.assign: team 'marketing' is not declared under teams"),
    (TEAMS_YAML + "shared_cost_policy: evenly\n",
     "shared_cost_policy: must be 'proportional', 'none' or 'assign: TEAM', not 'evenly'"),
    ("teams:\n  search: {cost_centre: CC-100}\n", "teams.search.cost_centre: Extra inputs are not permitted"),
    ("teams:\n  search: {}\n", "teams.search.cost_center: Field required"),
    ("teams:\n  unattributed: {cost_center: X}\n", "teams.unattributed: 'unattributed' is reserved"),
    (TEAMS_YAML + "reconciliation: {coverage_warn_below: 80}\n",
     "reconciliation.coverage_warn_below: Input should be less than or equal to 1"),
    (TEAMS_YAML + "owner:\n  api_keys: {}\n", "owner: Extra inputs are not permitted"),
])
def test_a_config_mistake_fails_naming_section_entry_and_field(tmp_path, text, message):
    with pytest.raises(LedgerConfigError, match="ledger.yaml: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        load(tmp_path, text)


def test_the_project_config_charges_every_demo_key_and_team():
    config = LedgerConfig(path=str(PROJECT_ROOT / "ledger.yaml")).section(AttributionConfig)
    assert {team: t.cost_center for team, t in config.teams.items()} == TEAMS
    assert config.owners.api_keys == {key.id: key.owner_team for key in API_KEYS}
    assert set(config.owners.workspaces) == {w.id for w in WORKSPACES if w.id}  # the default workspace: no owner


def test_with_a_cost_centre_tag_a_team_need_not_name_its_cost_centre(tmp_path):
    config = load(tmp_path, "cost_centre_tag: cost-center\nteams:\n  search: {}\n  data: {cost_center: CC-500}\n")
    assert config.cost_centre_tag == "cost-center"
    assert (config.teams["search"].cost_center, config.teams["data"].cost_center) == (None, "CC-500")


@pytest.mark.parametrize(("value", "message"), [
    ("''", "cost_centre_tag: String should have at least 1 character"),
    ("'  '", "cost_centre_tag: String should match pattern"),
])
def test_an_empty_cost_centre_tag_names_the_field_and_leaves_other_sections_usable(tmp_path, value, message):
    path = tmp_path / "ledger.yaml"
    path.write_text(f"cost_centre_tag: {value}\n{TEAMS_YAML}focus: {{billing_account_id: org-acme}}\n")
    ledger = LedgerConfig(path=str(path))
    with pytest.raises(LedgerConfigError, match="ledger.yaml: " + message):
        ledger.section(AttributionConfig)
    assert ledger.section(FocusConfig).focus.billing_account_id == "org-acme"
