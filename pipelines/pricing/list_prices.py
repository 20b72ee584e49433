"""The bundled price files, read as exact decimals for the ``model_prices`` asset, which loads them into
ClickHouse. Usage is priced there, by the shared rules (``unit_prices``, migrations 0070 and 0090), never
in Python.

- ``model_prices.csv``: USD per million tokens of each model family's price schedule, per prompt band;
- ``price_multipliers.csv``: multipliers by service tier, speed (fast mode) and inference geo;
- ``service_prices.csv``: what is not tokens (web search, code execution, session hours).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

HERE = Path(__file__).parent
PRICE_FILE = HERE / "model_prices.csv"
MULTIPLIER_FILE = HERE / "price_multipliers.csv"
SERVICE_FILE = HERE / "service_prices.csv"
TOKEN_TYPES = ("input", "cache_write_5m", "cache_write_1h", "cache_read", "output")
PER_MILLION = Decimal(1_000_000)


@dataclass(frozen=True)
class Price:
    """One row of a model's price schedule: from ``effective_from``, for prompts above ``prompt_tokens_above``."""

    model: str
    effective_from: date
    prompt_tokens_above: int
    usd_per_mtok: dict[str, Decimal]


@dataclass(frozen=True)
class Multiplier:
    dimension: str  # service_tier, speed or inference_geo
    value: str
    model: str  # a family, or * for all
    effective_from: date
    multiplier: Decimal


@dataclass(frozen=True)
class ServicePrice:
    cost_type: str
    unit: str
    effective_from: date
    usd_per_unit: Decimal
    free_units_per_month: Decimal


def csv_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(line for line in handle if not line.startswith("#")))


@cache
def price_table(path: Path = PRICE_FILE) -> tuple[Price, ...]:
    return tuple(
        Price(row["model"], date.fromisoformat(row["effective_from"]), int(row["prompt_tokens_above"]),
              {t: Decimal(row[t]) for t in TOKEN_TYPES})
        for row in csv_rows(path)
    )


@cache
def multiplier_table(path: Path = MULTIPLIER_FILE) -> tuple[Multiplier, ...]:
    return tuple(
        Multiplier(row["dimension"], row["value"], row["model"], date.fromisoformat(row["effective_from"]),
                   Decimal(row["multiplier"]))
        for row in csv_rows(path)
    )


@cache
def service_price_table(path: Path = SERVICE_FILE) -> tuple[ServicePrice, ...]:
    return tuple(
        ServicePrice(row["cost_type"], row["unit"], date.fromisoformat(row["effective_from"]),
                     Decimal(row["usd_per_unit"]), Decimal(row["free_units_per_month"]))
        for row in csv_rows(path)
    )
