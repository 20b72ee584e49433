"""The effective-dated list price table (``model_prices.csv``), read as exact decimals.

The pipeline prices usage in ClickHouse from the same file; this reader serves Python callers that
need a single price (the demo organisation and the Admin API simulator's cost report).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

PRICE_FILE = Path(__file__).with_name("model_prices.csv")
TIER_FILE = Path(__file__).with_name("service_tier_discounts.csv")
TOKEN_TYPES = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    model: str
    effective_from: date
    context_window: str
    usd_per_mtok: dict[str, Decimal]
    web_search_per_request: Decimal


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@cache
def price_table(path: Path = PRICE_FILE) -> tuple[Price, ...]:
    return tuple(
        Price(
            model=row["model"],
            effective_from=date.fromisoformat(row["effective_from"]),
            context_window=row["context_window"],
            usd_per_mtok={t: Decimal(row[t]) for t in TOKEN_TYPES},
            web_search_per_request=Decimal(row["web_search_per_request"]),
        )
        for row in _rows(path)
    )


@cache
def tier_rows(path: Path = TIER_FILE) -> tuple[tuple[str, date, Decimal], ...]:
    """(service tier, effective from, multiplier on token prices) rows."""
    return tuple(
        (row["service_tier"], date.fromisoformat(row["effective_from"]), Decimal(row["multiplier"]))
        for row in _rows(path)
    )


def tier_multipliers() -> dict[str, Decimal]:
    """The latest multiplier per service tier."""
    return {tier: multiplier for tier, _, multiplier in sorted(tier_rows(), key=lambda r: r[1])}


def family_of(model: str, families: set[str]) -> str | None:
    """The priced family of a model id: the id itself, or a family plus a ``-YYYYMMDD`` date."""
    if model in families:
        return model
    match = re.fullmatch(r"(.+)-\d{8}", model)
    return match.group(1) if match and match.group(1) in families else None


def list_price(model: str, day: date, context_window: str = "0-200k") -> Price | None:
    """The price in force for ``model`` on ``day``, or None: an unknown model is never guessed."""
    table = price_table()
    family = family_of(model, {p.model for p in table})
    candidates = [
        p for p in table
        if p.model == family and p.context_window == context_window and p.effective_from <= day
    ]
    return max(candidates, key=lambda p: p.effective_from, default=None)
