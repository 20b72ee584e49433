"""``LEDGER_CONFIG`` (``ledger.yaml``): prices overrides, teams and attribution, budgets.

Validated on load; an error names the section, the entry and the field, so a typo fails loudly
instead of silently changing who pays for what. Each section is owned by the part of the pipeline
that uses it; unknown top-level keys are rejected.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines import settings
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


class LedgerConfig(_Strict):
    prices: list[PriceOverride] = Field(default_factory=list)


def _describe(error: ValidationError) -> str:
    parts = []
    for item in error.errors():
        where = ".".join(str(p) for p in item["loc"])
        parts.append(f"{where}: {item['msg']}")
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
