"""The allocation's sections of LEDGER_CONFIG: teams and cost centres, owners of unexplained traffic, the
shared-cost policy and the reconciliation thresholds of the allocation's checks."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, model_validator

from pipelines.ledger_config import ConfigSection, Strict

UNATTRIBUTED = "unattributed"
UNASSIGNED = "unassigned"  # the cost centre of a declared team's spend that neither a workspace tag nor the team names
DEFAULT_WORKSPACE_LABEL = "''"  # how an error names the default workspace (key '' in owners.workspaces)


class Team(Strict):
    """A team that can be charged, and the cost centre finance books it to (optional when ``cost_centre_tag``
    names a workspace tag to take cost centres from)."""

    cost_center: str | None = Field(default=None, min_length=1)


class Owners(Strict):
    """Who pays for traffic no event explains: by api key first, else by workspace ('' = default workspace)."""

    api_keys: dict[str, str] = Field(default_factory=dict)
    workspaces: dict[str, str] = Field(default_factory=dict)


class SharedCostPolicy(Strict):
    """What chargeback does with the unattributed residual: spread it over teams by their allocated
    share (``proportional``), give it to one team (``assign: TEAM``) or keep it as its own line (``none``)."""

    kind: Literal["proportional", "assign", "none"]
    team: str = ""

    def describe(self) -> str:
        return f"assign: {self.team}" if self.kind == "assign" else self.kind


def _parse_shared_cost_policy(value: object) -> object:
    if isinstance(value, SharedCostPolicy):
        return value
    if value in ("proportional", "none"):
        return {"kind": value}
    if isinstance(value, dict) and list(value) == ["assign"] and isinstance(value["assign"], str) and value["assign"]:
        return {"kind": "assign", "team": value["assign"]}
    raise ValueError(f"must be 'proportional', 'none' or 'assign: TEAM', not {value!r}")


class Reconciliation(Strict):
    """Asset-check thresholds of the allocation: events vs Admin API, as shares of tokens."""

    coverage_warn_below: float = Field(default=0.8, ge=0, le=1)
    overcount_warn_above: float = Field(default=0.02, ge=0, le=1)


def attribution_errors(teams: dict[str, Team], owners: Owners, policy: SharedCostPolicy,
                       cost_centre_tag: str | None = None) -> list[str]:
    """Cross-section rules: owners and the assigned team must be declared teams; without a cost-centre tag
    every team names its cost centre."""
    errors = [f"teams.{name}: '{UNATTRIBUTED}' is reserved for the residual nobody owns"
              for name in teams if name == UNATTRIBUTED]
    if cost_centre_tag is None:
        errors += [f"teams.{name}.cost_center: Field required (or name a workspace tag in cost_centre_tag)"
                   for name, team in teams.items() if team.cost_center is None]
    errors += ["teams: a team name must not be empty" for name in teams if not name.strip()]
    for kind, mapping in (("api_keys", owners.api_keys), ("workspaces", owners.workspaces)):
        errors += [f"owners.{kind}.{key or DEFAULT_WORKSPACE_LABEL}: team '{team}' is not declared under teams"
                   for key, team in mapping.items() if team not in teams]
    if policy.kind == "assign" and policy.team not in teams:
        errors.append(f"shared_cost_policy.assign: team '{policy.team}' is not declared under teams")
    return errors


class AttributionConfig(ConfigSection):
    """Who pays: the teams (and their cost centres), owners of traffic no event explains, the policy for
    the residual nobody owns, how closely events must match the Admin API, and the workspace tag (if any)
    whose value is the cost centre of the workspace's spend (docs/finance.md "Cost centres from workspace
    tags")."""

    teams: dict[str, Team] = Field(default_factory=dict)
    cost_centre_tag: str | None = Field(default=None, min_length=1, pattern=r"\S")
    owners: Owners = Field(default_factory=Owners)
    shared_cost_policy: Annotated[SharedCostPolicy, BeforeValidator(_parse_shared_cost_policy)] = SharedCostPolicy(
        kind="none")
    reconciliation: Reconciliation = Field(default_factory=Reconciliation)

    @model_validator(mode="after")
    def _attribution_is_consistent(self) -> AttributionConfig:
        errors = attribution_errors(self.teams, self.owners, self.shared_cost_policy, self.cost_centre_tag)
        if errors:
            raise ValueError("; ".join(errors))
        return self


class FocusAccount(Strict):
    """The billing account FOCUS rows name (BillingAccountId is mandatory in FOCUS): the Anthropic organisation
    that receives the invoice, as finance knows it."""

    billing_account_id: str = Field(default="anthropic-organization", min_length=1)
    billing_account_name: str | None = None


class FocusConfig(ConfigSection):
    """The ``focus:`` section: the account of the FOCUS 1.3 export (docs/finance.md "FOCUS export")."""

    focus: FocusAccount = Field(default_factory=FocusAccount)
