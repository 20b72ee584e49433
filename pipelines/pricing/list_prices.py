"""The effective-dated list price files (``model_prices.csv``, ``service_tier_discounts.csv``), read as exact
decimals for the ``model_prices`` asset, which loads them into ClickHouse. Usage is priced there, by the
shared rules of migration 0070 (model family, price cell, ``unit_prices``), never in Python.
"""

from __future__ import annotations

import csv
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
