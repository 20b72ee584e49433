"""Money as people read it: US dollars to the cent, rounded half up, the sign before the dollar sign.

``usd(Decimal("-0.005"))`` is ``-$0.01``, never ``$-0.01``; an amount that rounds to zero has no sign. Exact
amounts stay ``Decimal`` everywhere else (tables, exports, metadata values meant for machines).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(amount: Decimal | int | str) -> Decimal:
    """``amount`` rounded half up to the cent (a negative amount that rounds to zero is 0.00)."""
    rounded = Decimal(amount).quantize(CENT, ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)


def usd(amount: Decimal | int | str) -> str:
    """$1,234.57 or -$0.01."""
    value = cents(amount)
    return f"-${-value:,}" if value < 0 else f"${value:,}"


def signed_usd(amount: Decimal | int | str) -> str:
    """A change: +$1,234.57, -$0.01 or +$0.00."""
    value = cents(amount)
    return usd(value) if value < 0 else f"+{usd(value)}"
