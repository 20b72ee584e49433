"""The ``admin_api:`` section of LEDGER_CONFIG: how far back the collector re-reads the reports.

Anthropic's usage and cost data can change for weeks after the day (restatement), so the daily runs re-fetch
a trailing window; a change in a month already exported is issued as a correction (docs/finance.md).
"""

from __future__ import annotations

from pydantic import Field

from pipelines.ledger_config import ConfigSection, Strict


class AdminApiCollection(Strict):
    restatement_days: int = Field(default=31, ge=1, le=366,
                                  description="Days of usage and cost the daily runs re-fetch.")


class AdminApiConfig(ConfigSection):
    admin_api: AdminApiCollection = Field(default_factory=AdminApiCollection)
