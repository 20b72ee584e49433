"""Calendar months (UTC) as the allocation's unit of work: a month is computed and replaced whole."""

from __future__ import annotations

from datetime import UTC, date, datetime


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: date) -> date:
    return date(month.year - 1, 12, 1) if month.month == 1 else date(month.year, month.month - 1, 1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """[start, end) of the month as UTC datetimes."""
    start = month_start(month)
    return (datetime(start.year, start.month, 1, tzinfo=UTC),
            datetime.combine(next_month(start), datetime.min.time(), tzinfo=UTC))


def is_closed(month: date, now: datetime) -> bool:
    """Whether the month is over at ``now``; an open month's allocation is provisional."""
    return month_bounds(month)[1] <= now


def parse_month(key: str) -> date:
    """A month from a partition key ('2026-10-01') or 'YYYY-MM'."""
    return month_start(date.fromisoformat(key if len(key) > 7 else f"{key}-01"))
