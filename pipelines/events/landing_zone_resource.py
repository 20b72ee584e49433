"""The landing directory as a Dagster resource, shared by the ingest asset and its sensor."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from pipelines import settings
from pipelines.events.landing_zone import landing_files, size_of


class LandingZone(ConfigurableResource):
    events_dir: str = Field(default="", description="Directory of *.jsonl / *.jsonl.gz; empty: LEDGER_EVENTS_DIR.")

    @classmethod
    def from_env(cls) -> LandingZone:
        return cls(events_dir=str(settings.events_dir()))

    @property
    def path(self) -> Path:
        return Path(self.events_dir).resolve() if self.events_dir else settings.events_dir()

    def fingerprint(self) -> dict[str, int]:
        """File name to size: what the sensor compares between ticks (no database access)."""
        return {str(p): size_of(p) for p in landing_files(self.path)}
