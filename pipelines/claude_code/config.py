"""The ``people:`` and ``claude_code:`` sections of LEDGER_CONFIG (docs/claude_code.md).

``people.teams`` maps a person to a team: ``match`` is an exact email or a glob pattern (``*@research.example.com``,
``fnmatch`` rules, case-insensitive). An exact email wins over a pattern, else the first matching pattern;
someone matched by nothing is ``unattributed``. ``people.store_emails`` (default false) says whether emails
are stored at all (only in the finance-only ``finance_claude_code_people``). A mistake names the item and field
(``people.teams.1.team: team 'x' is not declared under teams``) and fails only what reads these sections.
"""

from __future__ import annotations

from decimal import Decimal
from fnmatch import fnmatchcase

from pydantic import Field, ValidationInfo, field_validator

from pipelines.allocation.config import UNATTRIBUTED
from pipelines.ledger_config import ConfigSection, Strict

GLOB_CHARACTERS = frozenset("*?[")


def _declared_team(team: str, info: ValidationInfo) -> str:
    declared = (info.context or {}).get("teams")
    if declared is not None and team not in declared:
        raise ValueError(f"team '{team}' is not declared under teams")
    return team


class PersonTeam(Strict):
    """One person (an exact email) or many (a glob pattern) and their team."""

    match: str = Field(min_length=3)
    team: str = Field(min_length=1)

    @field_validator("match")
    @classmethod
    def _an_email_or_a_pattern(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError(f"must be an email or a glob pattern of emails (with '@'), not {value!r}")
        return value.lower()

    @field_validator("team")
    @classmethod
    def _team_is_declared(cls, value: str, info: ValidationInfo) -> str:
        return _declared_team(value, info)

    @property
    def is_pattern(self) -> bool:
        return bool(GLOB_CHARACTERS & set(self.match))


class People(Strict):
    store_emails: bool = False
    teams: list[PersonTeam] = Field(default_factory=list)

    def team_of(self, email: str) -> str:
        address = email.lower()
        for item in self.teams:
            if not item.is_pattern and item.match == address:
                return item.team
        for item in self.teams:
            if item.is_pattern and fnmatchcase(address, item.match):
                return item.team
        return UNATTRIBUTED


class ClaudeCodeSettings(Strict):
    workspace_id: str | None = Field(default=None, description="The workspace whose cost report is Claude Code's "
                                     "API spend ('' = the default workspace); unset: Claude Code's API spend is "
                                     "shown per team but not charged (it stays where the allocation put it).")
    api_keys: dict[str, str] = Field(default_factory=dict, description="API key name -> team, for api_actor "
                                     "records (Claude Code run unattended, e.g. in CI).")
    page_size: int = Field(default=1000, ge=1, le=1000, description="limit of one report page.")
    reconcile_warn_pct: Decimal = Field(default=Decimal(5), ge=0, description="The reconciliation check warns "
                                        "when a day's estimate differs from the cost report by more (in %).")

    @field_validator("api_keys")
    @classmethod
    def _teams_are_declared(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        for team in value.values():
            _declared_team(team, info)
        return value

    def team_of_key(self, name: str) -> str:
        return self.api_keys.get(name, UNATTRIBUTED)


class ClaudeCodeConfig(ConfigSection):
    people: People = Field(default_factory=People)
    claude_code: ClaudeCodeSettings = Field(default_factory=ClaudeCodeSettings)

    @classmethod
    def context(cls, document: dict) -> dict:
        teams = document.get("teams")
        return {"teams": set(teams) if isinstance(teams, dict) else set()}
