"""The time alerting sensors and assets run at: the wall clock, or a frozen instant (tests, replays)."""

from __future__ import annotations

from datetime import UTC, datetime

from dagster import ConfigurableResource
from pydantic import Field


class Clock(ConfigurableResource):
    frozen_at: str = Field(default="", description="ISO 8601 instant to use as now; empty: the wall clock.")

    def now(self) -> datetime:
        if not self.frozen_at:
            return datetime.now(UTC)
        moment = datetime.fromisoformat(self.frozen_at)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
