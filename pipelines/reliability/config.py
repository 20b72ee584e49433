"""The ``rate_limits:`` section of LEDGER_CONFIG: the lines of the rate-limit alerts (docs/emitter.md)."""

from __future__ import annotations

from pydantic import Field

from pipelines.ledger_config import ConfigSection, Strict


class RateLimits(Strict):
    """A 429 share above ``max_429_share`` in an hour of at least ``min_requests`` calls, a request /
    token headroom (remaining / limit) below ``min_headroom``, or a workspace or API key whose busiest minute
    used more than ``configured_limit_alert_share`` of its configured limit (Rate Limits API; null: no such
    alerts), is a breach sent to ``slack_channel``."""

    max_429_share: float = Field(default=0.05, ge=0, le=1)
    min_requests: int = Field(default=20, ge=1)
    min_headroom: float = Field(default=0.10, ge=0, le=1)
    configured_limit_alert_share: float | None = Field(default=0.9, gt=0, le=1)
    slack_channel: str = Field(min_length=1)


class RateLimitsConfig(ConfigSection):
    rate_limits: RateLimits | None = None  # without it the rate_limit_alerts sensor sends nothing
