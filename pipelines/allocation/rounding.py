"""Largest-remainder rounding: integer parts that sum exactly to a total, deterministically."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def split_integer(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to non-negative ``weights``; the parts sum to ``total`` exactly.

    Each part is floor(total * w / W); the units left over go one each to the largest remainders,
    ties to the earlier weight. Zero weights get nothing; all-zero weights are an error.
    """
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("cannot split over weights that sum to zero")
    parts = [total * w // whole for w in weights]
    remainders = [total * w % whole for w in weights]
    for i in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[: total - sum(parts)]:
        parts[i] += 1
    return parts


def round_to_cents(amounts: Sequence[Decimal]) -> list[Decimal]:
    """Each amount rounded to the cent so that the parts sum to the total rounded to the cent (half up).

    Floors first; the cents still missing go to the amounts with the largest sub-cent remainders,
    ties to the earlier amount.
    """
    target = sum(amounts, Decimal(0)).quantize(CENT, ROUND_HALF_UP)
    floors = [a.quantize(CENT, ROUND_FLOOR) for a in amounts]
    remainders = [a - f for a, f in zip(amounts, floors, strict=True)]
    missing = int((target - sum(floors, Decimal(0))) / CENT)
    for i in sorted(range(len(amounts)), key=lambda i: (-remainders[i], i))[:missing]:
        floors[i] += CENT
    return floors
