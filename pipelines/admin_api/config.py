"""The ``admin_api:`` section of LEDGER_CONFIG: how far back the collector re-reads the reports.

Anthropic's usage and cost data can change for weeks after the day (restatement), so the daily runs re-fetch
a trailing window; a change in a month already exported is issued as a correction (docs/finance.md).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.ledger_config import ConfigSection, Strict


class AdminApiCollection(Strict):
    restatement_days: int = Field(default=31, ge=1, le=366,
                                  description="Days of usage and cost the daily runs re-fetch.")


class AdminApiConfig(ConfigSection):
    admin_api: AdminApiCollection = Field(default_factory=AdminApiCollection)


class AnalyticsApiSettings(Strict):
    """The optional second source, the Usage and Cost Analytics API (beta): docs/analytics_api.md."""

    enabled: bool = Field(default=False, description="Collect the Analytics API cost report and show list, net "
                          "and discount in the chargeback export. Off: nothing is fetched and nothing changes.")
    group_by: tuple[Literal["product", "model"], ...] = Field(
        default=("product", "model"), description="Dimensions of the analytics_cost_daily group rows (the API's "
        "group_by[]; () fetches the daily totals only).")
    refetch_days: int = Field(default=35, ge=1, le=366, description="Days the daily run re-fetches: the data is "
                              "final only after about 30 days.")
    final_after_days: int = Field(default=30, ge=0, le=366, description="A month is final once it was fetched "
                                  "is this many days past the month's end.")


class AnalyticsApiConfig(ConfigSection):
    analytics_api: AnalyticsApiSettings = Field(default_factory=AnalyticsApiSettings)
