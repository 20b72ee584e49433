"""The ``prices:`` section of LEDGER_CONFIG: negotiated or extra list prices on top of the bundled files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from pipelines.ledger_config import ConfigSection, Strict
from pipelines.pricing.list_prices import TOKEN_TYPES, Price


class PriceOverride(Strict):
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


class PricingConfig(ConfigSection):
    prices: list[PriceOverride] = Field(default_factory=list)
