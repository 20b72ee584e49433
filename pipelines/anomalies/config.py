"""The ``anomalies:`` section of LEDGER_CONFIG: which scopes are watched, the lines an anomaly must cross, and
where the alerts go (docs/anomalies.md). Without the section the anomaly_alerts sensor sends nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from pipelines.ledger_config import ConfigSection, Strict

AnomalyScope = Literal["org", "workspace", "team", "feature", "api_key", "model"]
ALL_SCOPES: tuple[AnomalyScope, ...] = ("org", "workspace", "team", "feature", "api_key", "model")


class SpendLines(Strict):
    """A window's spend is an anomaly when it is above median + ``threshold`` x spread of the same hours and
    weekday in the baseline weeks, at least ``min_usd``, and ``min_increase_usd`` above the median."""

    scopes: tuple[AnomalyScope, ...] = Field(default=ALL_SCOPES, min_length=1)
    recent_hours: int = Field(default=3, ge=1, le=24, description="the short window, besides today so far")
    threshold: Decimal = Field(default=Decimal(4), gt=0, le=100, description="in spreads above the median")
    noise_floor: Decimal = Field(default=Decimal("0.1"), ge=0, le=10,
                                 description="the spread is at least this share of the median")
    min_usd: Decimal = Field(default=Decimal(10), ge=0)
    min_increase_usd: Decimal = Field(default=Decimal(10), ge=0)


class CacheLines(Strict):
    """A cache break: a feature whose cache-hit ratio fell to ``1 - hit_ratio_drop`` of its usual ratio (at least
    ``min_baseline_hit_ratio``), or whose share of cache writes never read rose by ``unread_share_rise``, losing
    at least ``min_lost_usd_per_day``."""

    min_baseline_hit_ratio: float = Field(default=0.2, gt=0, le=1)
    hit_ratio_drop: float = Field(default=0.5, gt=0, le=1)
    unread_share_rise: float = Field(default=0.3, gt=0, le=1)
    min_lost_usd_per_day: Decimal = Field(default=Decimal(1), ge=0)


class AnomalyLines(Strict):
    """What is compared with what: the baseline is the same hours (spend) or day (cache) of the same weekday in
    each of the ``baseline_weeks`` before; with fewer than ``min_baseline_weeks`` of them there is no verdict."""

    baseline_weeks: int = Field(default=4, ge=1, le=8)
    min_baseline_weeks: int = Field(default=3, ge=1, le=8)
    spend: SpendLines = SpendLines()
    cache: CacheLines = CacheLines()

    @model_validator(mode="after")
    def _enough_weeks(self) -> AnomalyLines:
        if self.min_baseline_weeks > self.baseline_weeks:
            raise ValueError(f"min_baseline_weeks ({self.min_baseline_weeks}) cannot exceed baseline_weeks "
                             f"({self.baseline_weeks})")
        return self


class Anomalies(AnomalyLines):
    slack_channel: str = Field(min_length=1)


class AnomaliesConfig(ConfigSection):
    anomalies: Anomalies | None = None  # without it nothing is alerted; the assets use the default lines
