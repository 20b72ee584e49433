"""The reports' section of LEDGER_CONFIG: what the monthly statement writes."""

from __future__ import annotations

from pydantic import Field

from pipelines.ledger_config import ConfigSection, Strict


class StatementOptions(Strict):
    cost_centre_pages: bool = Field(default=False, description="Also write one page per cost centre.")


class StatementConfig(ConfigSection):
    """``statement: {cost_centre_pages: true}``: the statement's options (all optional)."""

    statement: StatementOptions = Field(default_factory=StatementOptions)
