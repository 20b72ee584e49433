"""Each budget's state in a period: spend, percent, thresholds crossed, projected period-end spend.

Computed from the spend rollup only (one query per tick, whatever the number of budgets or events). The
projection is the weekday-seasonal forecast of ``pipelines.budgets.forecast`` (p50, with p10 / p90), read
from the same rows: the period and the four weeks before today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.budgets.claude_code import claude_code_person_spend, with_claude_code_teams
from pipelines.budgets.forecast import HISTORY_DAYS, DayTotal, Forecast, forecast_period
from pipelines.budgets.model import Budget
from pipelines.budgets.periods import Period, periods_to_check
from pipelines.budgets.spend import DailySpend, read_daily_spend
from pipelines.storage.clickhouse import ClickHouseResource

# A period that ended less than this long ago is still checked: late events or a fresh allocation
# can still push it over a threshold, and that alert must not be lost.
LATE_DATA_GRACE = timedelta(hours=24)
# Without enough history the projection is the run rate: no forecast warning from it before this share of
# the period has passed (a run rate from the first hours is noise).
FORECAST_MIN_ELAPSED = 0.2
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class BudgetStatus:
    budget: Budget
    period: Period
    now: datetime
    spend_usd: Decimal
    unpriced_units: int
    data_until: datetime | None  # end of the newest hour in the rollup
    forecast: Forecast  # of the period's spend at its end

    @property
    def percent(self) -> Decimal:
        return self.spend_usd * HUNDRED / self.budget.amount_usd

    @property
    def crossed(self) -> tuple[Decimal, ...]:
        return tuple(t for t in self.budget.thresholds if self.percent >= t)

    @property
    def is_current(self) -> bool:
        return self.period.start <= self.now < self.period.end

    @property
    def projected_usd(self) -> Decimal:
        """Spend at period end: the forecast's p50 (a closed period: its spend)."""
        return self.forecast.p50_usd

    @property
    def projected_percent(self) -> Decimal:
        return self.projected_usd * HUNDRED / self.budget.amount_usd

    @property
    def projected_to_exceed(self) -> bool:
        """The projection passes 100 % while the spend has not yet; from a run rate only late enough in the
        period to mean it."""
        if not self.is_current or self.percent >= HUNDRED:
            return False
        if self.forecast.method == "run_rate" and self.period.elapsed_share(self.now) < FORECAST_MIN_ELAPSED:
            return False
        return self.projected_percent >= HUNDRED


def statuses_from_daily(
    budgets: list[Budget], daily: list[DailySpend], now: datetime, grace: timedelta = LATE_DATA_GRACE,
    people: list[DailySpend] | None = None,
) -> list[BudgetStatus]:
    """``daily``: the rollup's days from the earliest period start (and four weeks before today) on, with
    ``spend_before_hour_usd`` taken at ``now``'s hour of day; ``people``: Claude Code spend per person (the
    rows of person budgets, never counted by the others)."""
    data_until = max((d.data_until for d in daily), default=None)
    data_from = min((d.day for d in daily), default=None)
    by_scope: dict[tuple[str, str, str, str, str], list[DailySpend]] = {}
    for d in daily:
        by_scope.setdefault((d.team, d.feature, d.env, d.workspace_id, d.api_key_id), []).append(d)
    statuses = []
    for budget in budgets:
        if budget.scope == "person":
            matching = [d for d in people or [] if d.person == budget.target]
        else:
            matching = [d for scope, rows in by_scope.items() if budget.matches(*scope) for d in rows]
        days = _day_totals(matching)
        for period in periods_to_check(budget.period, now, grace):
            first, end = period.start.date(), period.end.date()
            rows = [d for d in matching if first <= d.day < end]
            statuses.append(BudgetStatus(
                budget, period, now,
                spend_usd=sum((d.spend_usd for d in rows), Decimal(0)),
                unpriced_units=sum(d.unpriced_units for d in rows),
                data_until=data_until,
                forecast=forecast_period(days, period.start, period.end, now, data_from),
            ))
    return statuses


def _day_totals(rows: list[DailySpend]) -> dict[date, DayTotal]:
    totals: dict[date, DayTotal] = {}
    for d in rows:
        known = totals.get(d.day, DayTotal(Decimal(0)))
        totals[d.day] = DayTotal(known.spend_usd + d.spend_usd, known.before_hour_usd + d.spend_before_hour_usd)
    return totals


def read_budget_statuses(
    client: Client, budgets: list[Budget], now: datetime, grace: timedelta = LATE_DATA_GRACE
) -> list[BudgetStatus]:
    """Every budget in every period still checked at ``now`` (the current one, and the previous one
    within ``grace`` of its end), from one read of the rollup (which also holds the forecasts' history)."""
    if not budgets:
        return []
    history_from = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=HISTORY_DAYS)
    since = min([history_from, *(p.start for b in budgets for p in periods_to_check(b.period, now, grace))])
    daily = with_claude_code_teams(client, read_daily_spend(client, since, now.hour), since)
    people = claude_code_person_spend(client, since) if any(b.scope == "person" for b in budgets) else None
    return statuses_from_daily(budgets, daily, now, grace, people)


def budget_statuses(
    ch: ClickHouseResource, budgets: list[Budget], now: datetime, grace: timedelta = LATE_DATA_GRACE
) -> list[BudgetStatus]:
    with ch.connect() as client:
        return read_budget_statuses(client, budgets, now, grace)
