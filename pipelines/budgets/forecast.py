"""The period-end forecast of a budget: weekday seasonality, an 80 % interval (p10 / p50 / p90), plain Decimal.

The method (docs/forecast.md has it with its backtest against the straight run rate):

- **History**: the scope's spend on each complete day of the four weeks before today, from the first day
  the rollup has data. Less than two weeks of it: the straight run rate (spend so far x period length /
  time elapsed), as before, with no interval.
- **Weekday shape**: the mean spend of each weekday over the history, divided by the mean of the seven
  (a factor of 1 is an average day, a quiet Sunday maybe 0.3).
- **Level**: the mean spend of the last seven days (a whole week, so no weekday is over-represented).
- **Each day still to come** is expected to cost level x its weekday factor. The rest of today is that
  times the share of the weekday's spend that comes after the current hour in the history (its hourly
  profile), less what the current hour has spent already.
- **p50** = spend so far + the expected rest of the period.
- **Interval**: the history's day-to-day noise, cv = root mean square of (day / its weekday mean - 1)
  over n - 7 degrees of freedom. The rest of the period varies by cv on each day independently, and by
  cv / sqrt(7) on all days together (the level is a mean of seven days):
  sd^2 = cv^2 x (sum of e_i^2 + (sum of e_i)^2 / 7) over the expected amounts e_i. p10 / p90 = p50 -/+
  1.2816 sd (normal quantiles), p10 never below the spend so far.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal

HISTORY_DAYS = 28
MIN_HISTORY_DAYS = 14  # two samples of every weekday, and 7 degrees of freedom for the noise
LEVEL_DAYS = 7
Z_90 = Decimal("1.2815515655")  # the standard normal's 90th percentile: p10 / p90 = p50 -/+ Z_90 sd
ZERO = Decimal(0)
PICO = Decimal("1e-12")  # money is Decimal(38, 12) in ClickHouse

Method = Literal["seasonal", "run_rate", "closed"]


@dataclass(frozen=True)
class DayTotal:
    """A scope's spend on one day: in total, and in the hours before the hour of day the forecast is made at."""

    spend_usd: Decimal
    before_hour_usd: Decimal = ZERO


@dataclass(frozen=True)
class Forecast:
    p10_usd: Decimal
    p50_usd: Decimal
    p90_usd: Decimal
    method: Method
    history_days: int  # complete days of history the forecast used (0 for the run rate and a closed period)


def run_rate(spent: Decimal, start: datetime, end: datetime, now: datetime) -> Decimal:
    """The straight run rate: spend so far x period length / time elapsed (a closed period: its spend)."""
    elapsed = (now - start).total_seconds()
    if now >= end or elapsed <= 0:
        return spent
    return spent * Decimal((end - start).total_seconds()) / Decimal(elapsed)


def _mean(values: list[Decimal]) -> Decimal:
    return sum(values, ZERO) / len(values)


def _straight(spent: Decimal, start: datetime, end: datetime, now: datetime) -> Forecast:
    projected = run_rate(spent, start, end, now)
    return Forecast(projected, projected, projected, "run_rate", 0)


def forecast_period(days: Mapping[date, DayTotal], start: datetime, end: datetime, now: datetime,
                    data_from: date | None) -> Forecast:
    """Spend of [start, end) at its end, seen at ``now``. ``days``: the scope's spend per day (a missing day
    spent nothing), ``before_hour_usd`` taken at ``now``'s hour of day; ``data_from``: the first day the rollup
    has data (days before it are unknown, not zero)."""
    first, last = start.date(), end.date()
    spent = sum((t.spend_usd for d, t in days.items() if first <= d < last), ZERO)
    if now >= end:
        return Forecast(spent, spent, spent, "closed", 0)
    today = now.date()
    history = [today - timedelta(days=back) for back in range(HISTORY_DAYS, 0, -1)]
    history = [d for d in history if data_from is not None and d >= data_from]
    if len(history) < MIN_HISTORY_DAYS:
        return _straight(spent, start, end, now)
    spend = {d: days[d].spend_usd if d in days else ZERO for d in history}
    weekday_mean = {w: _mean([spend[d] for d in history if d.weekday() == w]) for w in range(7)}
    average_day = _mean(list(weekday_mean.values()))
    if average_day == 0:  # a scope that spent nothing in its history: only its own period says anything
        return _straight(spent, start, end, now)

    factor = {w: mean / average_day for w, mean in weekday_mean.items()}
    level = _mean([spend[d] for d in history[-LEVEL_DAYS:]])
    same_weekday = [d for d in history if d.weekday() == today.weekday()]
    weekday_total = sum((spend[d] for d in same_weekday), ZERO)
    before = sum((days[d].before_hour_usd for d in same_weekday if d in days), ZERO)
    share_after = 1 - before / weekday_total if weekday_total else 1 - Decimal(now.hour) / 24
    this_hour = days[today].spend_usd - days[today].before_hour_usd if today in days else ZERO
    rest_of_today = max(ZERO, level * factor[today.weekday()] * share_after - this_hour)
    later_days = [today + timedelta(days=i) for i in range(1, (last - today).days)]
    expected = [rest_of_today] + [level * factor[d.weekday()] for d in later_days]

    residuals = [spend[d] / weekday_mean[d.weekday()] - 1 for d in history if weekday_mean[d.weekday()] > 0]
    freedom = len(residuals) - sum(1 for mean in weekday_mean.values() if mean > 0)
    cv_squared = sum((r * r for r in residuals), ZERO) / freedom
    total = sum(expected, ZERO)
    sd = (cv_squared * (sum((e * e for e in expected), ZERO) + total * total / LEVEL_DAYS)).sqrt()
    p50 = spent + total
    return Forecast(max(spent, p50 - Z_90 * sd).quantize(PICO), p50.quantize(PICO), (p50 + Z_90 * sd).quantize(PICO),
                    "seasonal", len(history))
