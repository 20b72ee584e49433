"""``LEDGER_CONFIG`` (``ledger.yaml``): prices overrides, teams and attribution, budgets, rate-limit alert lines.

Validated on load; an error names the section, the entry and the field, so a typo fails loudly
instead of silently changing who pays for what. Each section is owned by the part of the pipeline
that uses it; unknown top-level keys are rejected.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from pipelines import settings
from pipelines.budgets.model import Budget, budget_config_errors
from pipelines.pricing.list_prices import TOKEN_TYPES, Price


class LedgerConfigError(ValueError):
    pass


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PriceOverride(_Strict):
    """A list price that replaces or adds to the bundled table (e.g. a negotiated rate)."""

    model: str
    effective_from: date
    context_window: str = "0-200k"
    input: Decimal = Field(ge=0)
    cache_write_5m: Decimal = Field(ge=0)
    cache_write_1h: Decimal = Field(ge=0)
    cache_read: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)
    web_search_per_request: Decimal = Field(default=Decimal("0.01"), ge=0)

    def to_price(self) -> Price:
        return Price(self.model, self.effective_from, self.context_window,
                     {t: getattr(self, t) for t in TOKEN_TYPES}, self.web_search_per_request)


UNATTRIBUTED = "unattributed"
DEFAULT_WORKSPACE_LABEL = "''"  # how an error names the default workspace (key '' in owners.workspaces)


class Team(_Strict):
    """A team that can be charged, and the cost centre finance books it to."""

    cost_center: str = Field(min_length=1)


class Owners(_Strict):
    """Who pays for traffic no event explains: by api key first, else by workspace ('' = default workspace)."""

    api_keys: dict[str, str] = Field(default_factory=dict)
    workspaces: dict[str, str] = Field(default_factory=dict)


class SharedCostPolicy(_Strict):
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


class Reconciliation(_Strict):
    """Asset-check thresholds of the allocation: events vs Admin API, as shares of tokens."""

    coverage_warn_below: float = Field(default=0.8, ge=0, le=1)
    overcount_warn_above: float = Field(default=0.02, ge=0, le=1)


class RateLimits(_Strict):
    """Lines of the rate_limit_alerts sensor (docs/emitter.md): a 429 share above ``max_429_share`` in an hour
    of at least ``min_requests`` calls, or a request / token headroom (remaining / limit) below ``min_headroom``."""

    max_429_share: float = Field(default=0.05, ge=0, le=1)
    min_requests: int = Field(default=20, ge=1)
    min_headroom: float = Field(default=0.10, ge=0, le=1)
    slack_channel: str = Field(min_length=1)


def attribution_errors(teams: dict[str, Team], owners: Owners, policy: SharedCostPolicy) -> list[str]:
    """Cross-section rules: owners and the assigned team must be declared teams."""
    errors = [f"teams.{name}: '{UNATTRIBUTED}' is reserved for the residual nobody owns"
              for name in teams if name == UNATTRIBUTED]
    errors += ["teams: a team name must not be empty" for name in teams if not name.strip()]
    for kind, mapping in (("api_keys", owners.api_keys), ("workspaces", owners.workspaces)):
        errors += [f"owners.{kind}.{key or DEFAULT_WORKSPACE_LABEL}: team '{team}' is not declared under teams"
                   for key, team in mapping.items() if team not in teams]
    if policy.kind == "assign" and policy.team not in teams:
        errors.append(f"shared_cost_policy.assign: team '{policy.team}' is not declared under teams")
    return errors


class LedgerConfig(_Strict):
    prices: list[PriceOverride] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    teams: dict[str, Team] = Field(default_factory=dict)
    owners: Owners = Field(default_factory=Owners)
    shared_cost_policy: Annotated[SharedCostPolicy, BeforeValidator(_parse_shared_cost_policy)] = SharedCostPolicy(
        kind="none")
    reconciliation: Reconciliation = Field(default_factory=Reconciliation)
    # Minimum cacheable prefix length (tokens) per model family; overrides pipelines/pricing/cache_minimums.csv.
    cache_minimums: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
    # Rate-limit alerts; without this section the rate_limit_alerts sensor sends nothing.
    rate_limits: RateLimits | None = None

    @model_validator(mode="after")
    def _attribution_is_consistent(self) -> LedgerConfig:
        errors = attribution_errors(self.teams, self.owners, self.shared_cost_policy)
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @model_validator(mode="after")
    def _budgets_are_consistent(self) -> LedgerConfig:
        errors = budget_config_errors(self.budgets, set(self.teams))
        if errors:
            raise ValueError("; ".join(errors))
        return self


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def load_ledger_config(path: Path | None = None) -> LedgerConfig:
    path = path or settings.ledger_config_path()
    if not path.exists():
        return LedgerConfig()
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise LedgerConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise LedgerConfigError(f"{path} must be a mapping of sections")
    try:
        return LedgerConfig.model_validate(raw)
    except ValidationError as exc:
        raise LedgerConfigError(f"{path}: {_describe(exc)}") from None
