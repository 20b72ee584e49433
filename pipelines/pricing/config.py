"""The ``prices:`` section of LEDGER_CONFIG: negotiated or extra list prices on top of the bundled files."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import Field

from pipelines.ledger_config import ConfigSection, Strict
from pipelines.pricing.list_prices import TOKEN_TYPES, Price


class PriceOverride(Strict):
    """A list price that replaces or adds to the bundled table (e.g. a negotiated rate), USD per million tokens.
    Like a row of model_prices.csv: it and the bundled rows of the same model and date form that day's schedule."""

    model: str
    effective_from: date
    prompt_tokens_above: int = Field(default=0, ge=0, description="0: the base rate; e.g. 200,000: long context")
    input: Decimal = Field(ge=0)
    cache_write_5m: Decimal = Field(ge=0)
    cache_write_1h: Decimal = Field(ge=0)
    cache_read: Decimal = Field(ge=0)
    output: Decimal = Field(ge=0)

    def to_price(self) -> Price:
        return Price(self.model, self.effective_from, self.prompt_tokens_above,
                     {t: getattr(self, t) for t in TOKEN_TYPES})


class PricingConfig(ConfigSection):
    prices: list[PriceOverride] = Field(default_factory=list)
