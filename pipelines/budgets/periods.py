"""Budget periods: a UTC calendar day or month, named by a stable label used in alert keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

PeriodKind = Literal["day", "month"]


@dataclass(frozen=True)
class Period:
    kind: PeriodKind
    start: datetime
    end: datetime

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d}" if self.kind == "day" else f"{self.start:%Y-%m}"

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def elapsed_share(self, now: datetime) -> float:
        """Share of the period that has passed at ``now`` (0 before it starts, 1 after it ends)."""
        return min(max((now - self.start) / self.length, 0.0), 1.0)

    def previous(self) -> Period:
        return period_of(self.kind, self.start - timedelta(seconds=1))


def _next_month(start: datetime) -> datetime:
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def period_of(kind: PeriodKind, moment: datetime) -> Period:
    """The period of ``kind`` that contains ``moment`` (UTC)."""
    moment = moment.astimezone(UTC)
    if kind == "day":
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return Period(kind, start, start + timedelta(days=1))
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Period(kind, start, _next_month(start))


def periods_to_check(kind: PeriodKind, now: datetime, grace: timedelta) -> list[Period]:
    """The current period, and the previous one while late data may still move it (``grace`` after its end)."""
    current = period_of(kind, now)
    previous = current.previous()
    return [previous, current] if now - previous.end < grace else [current]
