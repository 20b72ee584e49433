"""List cost, net cost and discount per chargeback line from the Analytics API (optional source, docs/analytics_api.md).

The month's figures are the Analytics API's: the sum of its days' ``total`` rows (never of overlapping group
rows), to the cent. The month's list cost and its discount (list - net) are each spread over the chargeback lines
by their share of list cost with the allocation's largest-remainder rule (``rounding.split_integer``), so the
lines' list, discount and net columns each add up to the Analytics API's month to the cent; a line's net is its
list minus its discount. The API's answer has no watermark, so the figures are as of their fetch: the oldest
fetch of the month's days. The month is ``final`` once that fetch is ``final_after_days`` past the month's end
(the data settles about 30 days later), else ``provisional as of`` that fetch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from dagster import get_dagster_logger

from pipelines.admin_api.config import AnalyticsApiConfig
from pipelines.allocation.months import month_bounds
from pipelines.allocation.rounding import CENT, split_integer
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

ANALYTICS_COLUMNS = ("analytics_list_cost_usd", "net_cost_usd", "discount_usd")


@dataclass(frozen=True)
class AnalyticsMonth:
    """The Analytics API's month: list and net cost to the cent, and how final they are."""

    month: date
    days: int
    list_usd: Decimal
    net_usd: Decimal
    fetched_at: datetime | None
    final_after_days: int = 30

    @property
    def discount_usd(self) -> Decimal:
        return self.list_usd - self.net_usd

    @property
    def final(self) -> bool:
        end = month_bounds(self.month)[1]
        return self.fetched_at is not None and self.fetched_at > end + timedelta(days=self.final_after_days)

    def finality(self) -> str:
        if self.fetched_at is None:
            return "no Analytics API data for the month"
        return "final" if self.final else f"provisional as of {self.fetched_at:%Y-%m-%dT%H:%M:%SZ}"

    def manifest(self) -> dict:
        return {"list_cost_usd": str(self.list_usd), "net_cost_usd": str(self.net_usd),
                "discount_usd": str(self.discount_usd), "days": self.days,
                "fetched_at": f"{self.fetched_at:%Y-%m-%dT%H:%M:%SZ}" if self.fetched_at else None,
                "finality": self.finality()}


def analytics_month(ch: ClickHouseResource, month: date, final_after_days: int = 30) -> AnalyticsMonth:
    """The month's Analytics API list and net cost (its days' total rows) and the oldest fetch of them."""
    [(days, list_usd, net_usd, fetched)] = ch.query_rows(sql("analytics_month_totals"), {"month": month})
    return AnalyticsMonth(month, int(days), Decimal(list_usd).quantize(CENT, ROUND_HALF_UP),
                          Decimal(net_usd).quantize(CENT, ROUND_HALF_UP),
                          fetched.replace(tzinfo=UTC, microsecond=0) if days else None, final_after_days)


def analytics_of(ch: ClickHouseResource, ledger_config: LedgerConfig, month: date) -> AnalyticsMonth | None:
    """The month's Analytics API figures where that optional source is on (LEDGER_CONFIG analytics_api), else None.

    A mistake in the ``analytics_api`` section is logged (file, section, field) and the chargeback goes on
    without the Analytics API figures: a typo there never stops the chargeback or its export."""
    try:
        settings = ledger_config.section(AnalyticsApiConfig).analytics_api
    except LedgerConfigError as exc:
        get_dagster_logger().warning("%s; the chargeback of %s goes on without the Analytics API figures",
                                     exc, f"{month:%Y-%m}")
        return None
    return analytics_month(ch, month, settings.final_after_days) if settings.enabled else None


def _cents(amount: Decimal) -> int:
    """An amount as whole cents, half up (the export's rounding of list cost)."""
    return max(0, int(Decimal(amount).quantize(CENT, ROUND_HALF_UP) / CENT))


def _split_cents(amount: Decimal, weights: list[int]) -> list[Decimal]:
    cents = int(amount / CENT)
    parts = split_integer(abs(cents), weights)
    return [Decimal(p if cents >= 0 else -p) * CENT for p in parts]


def spread(list_costs: Sequence[Decimal], allocated: Sequence[Decimal], month: AnalyticsMonth
           ) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(list, net, discount) per line, by the lines' share of list cost (of allocated cost when no line has a
    list cost); each column sums to the month's exactly."""
    if not list_costs:
        return []
    weights = [_cents(c) for c in list_costs]
    if sum(weights) <= 0:
        weights = [_cents(a) for a in allocated]
    if sum(weights) <= 0:
        weights = [1] * len(list_costs)  # nothing to weigh by: equal parts, still summing exactly
    lists = _split_cents(month.list_usd, weights)
    discounts = _split_cents(month.discount_usd, weights)
    return [(lst, lst - discount, discount) for lst, discount in zip(lists, discounts, strict=True)]


def team_figures(teams: Sequence[str], figures: Sequence[tuple[Decimal, Decimal, Decimal]]
            ) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """(list, net, discount) summed per team, from the lines' teams and their ``spread`` figures."""
    sums: dict[str, tuple[Decimal, Decimal, Decimal]] = {}
    for team, line in zip(teams, figures, strict=True):
        before = sums.get(team, (Decimal(0), Decimal(0), Decimal(0)))
        sums[team] = (before[0] + line[0], before[1] + line[1], before[2] + line[2])
    return sums
