"""A budget as written in the ``budgets:`` section of LEDGER_CONFIG, validated on load.

Every error names the budget (its id) and the field, e.g.
``budget 'search-daily': amount_usd: Input should be greater than 0``.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import pairwise
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from pipelines.budgets.periods import PeriodKind
from pipelines.emitter.guard_state import OnRedisError, Policy, scope_covers
from pipelines.ledger_config import ConfigSection

Scope = Literal["org", "workspace", "team", "feature", "api_key", "person"]
PSEUDONYM_PREFIX = "person_"  # pipelines.claude_code.pseudonyms: a person budget names no email
DEFAULT_THRESHOLDS = (Decimal(50), Decimal(75), Decimal(90), Decimal(100))


class Budget(BaseModel):
    """Scope (optionally filtered by env) x period x amount x thresholds x Slack channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    scope: Scope
    target: str | None = Field(
        default=None,
        description="The team, feature, workspace id ('' = default workspace), api key id ('' = console) or a "
        "person's pseudonym (person_…, Claude Code spend); none for org.",
    )
    env: str | None = None
    period: PeriodKind
    amount_usd: Decimal = Field(gt=0)
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    slack_channel: str = Field(min_length=1)
    policy: Policy = Field(
        default="alert",
        description="At call time (the emitter's BudgetGuard): alert = nothing, Slack only; block = refuse a call "
        "that would pass amount_usd; downgrade = send it on the next model of `downgrade` instead.",
    )
    downgrade: tuple[str, ...] = Field(default=(), description="A downgrade budget's models, dearest first.")
    on_redis_error: OnRedisError = Field(
        default="fail_open", description="The guard's counters unreachable: let the call through, or refuse it.")

    @model_validator(mode="wrap")
    @classmethod
    def _name_the_budget(cls, data: Any, handler: Any) -> Budget:
        budget_id = data.get("id") if isinstance(data, dict) else None
        try:
            budget = handler(data)
        except ValidationError as exc:
            fields = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'budget'}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"budget {budget_id!r}: {fields}") from None
        if isinstance(budget, Budget) and (problem := budget._target_problem() or budget._policy_problem()):
            raise ValueError(f"budget {budget_id!r}: {problem}")
        return budget

    @field_validator("thresholds")
    @classmethod
    def _ascending_and_positive(cls, thresholds: tuple[Decimal, ...]) -> tuple[Decimal, ...]:
        if not thresholds:
            raise ValueError("at least one threshold is needed")
        if any(t <= 0 for t in thresholds):
            raise ValueError("thresholds are percentages greater than 0")
        if any(b <= a for a, b in pairwise(thresholds)):
            raise ValueError(f"thresholds must be strictly ascending, got {[str(t) for t in thresholds]}")
        return thresholds

    def _target_problem(self) -> str | None:
        if self.scope == "org" and self.target is not None:
            return "target: an org budget has no target"
        if self.scope != "org" and self.target is None:
            return f"target: a {self.scope} budget needs a target"
        if self.scope == "person" and not (self.target or "").startswith(PSEUDONYM_PREFIX):
            return ("target: a person budget names the person's pseudonym (person_…, from "
                    "finance_claude_code_by_person), never an email")
        if self.scope == "person" and (self.env is not None or self.policy != "alert"):
            return "a person budget (Claude Code spend) has no env filter and only policy alert"
        return None

    def _policy_problem(self) -> str | None:
        if self.policy == "downgrade" and not self.downgrade:
            return ("downgrade: a downgrade budget needs its models, dearest first "
                    "(e.g. [claude-opus-4-6, claude-sonnet-4-6, claude-haiku-4-5])")
        if self.policy != "downgrade" and self.downgrade:
            return f"downgrade: only a downgrade budget switches models (policy is {self.policy!r})"
        if any(not model.strip() for model in self.downgrade):
            return "downgrade: a model id cannot be empty"
        if repeated := sorted({m for m in self.downgrade if self.downgrade.count(m) > 1}):
            return f"downgrade: {repeated[0]!r} is listed more than once"
        return None

    def describe_scope(self) -> str:
        what = "whole organisation" if self.scope == "org" else f"{self.scope} {self.target or '(default)'}"
        return f"{what}, env {self.env}" if self.env else what

    def matches(self, team: str, feature: str, env: str, workspace_id: str, api_key_id: str) -> bool:
        """Whether spend with these rollup columns counts against this budget (the guard's rule, one home); a
        person budget's spend is Claude Code's per person, never a rollup row."""
        if self.scope == "person":
            return False
        return scope_covers(self.scope, self.target, self.env, team=team, feature=feature, env=env,
                            workspace_id=workspace_id, api_key_id=api_key_id)


def budget_config_errors(budgets: list[Budget], teams: set[str]) -> list[str]:
    """Cross-budget problems: a repeated id, or a team budget for a team that is not configured
    (checked only when teams are configured)."""
    errors, seen = [], set()
    for budget in budgets:
        if budget.id in seen:
            errors.append(f"budget {budget.id!r}: id: used by more than one budget")
        seen.add(budget.id)
        if budget.scope == "team" and teams and budget.target not in teams:
            errors.append(f"budget {budget.id!r}: target: unknown team {budget.target!r} "
                          f"(configured teams: {', '.join(sorted(teams))})")
    return errors


class BudgetsConfig(ConfigSection):
    """The ``budgets:`` section; a team budget is checked against the teams the file declares."""

    budgets: list[Budget] = Field(default_factory=list)

    @classmethod
    def context(cls, document: dict[str, Any]) -> dict[str, Any]:
        teams = document.get("teams")
        return {"teams": set(teams) if isinstance(teams, dict) else set()}

    @model_validator(mode="after")
    def _budgets_are_consistent(self, info: ValidationInfo) -> BudgetsConfig:
        errors = budget_config_errors(self.budgets, (info.context or {}).get("teams", set()))
        if errors:
            raise ValueError("; ".join(errors))
        return self
