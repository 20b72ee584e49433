"""Spend anomalies from the spend rollup (``spend_hourly``), computed in ClickHouse (docs/anomalies.md).

``sql/spend_anomalies.sql`` finds the windows (yesterday, today so far, the last hours) of the watched scopes
whose spend is above their robust baseline; ``sql/spend_anomaly_contributors.sql`` says what moved in each.
Python only groups them: one spend anomaly per scope and day (the window with the highest score), and one
*incident* per day and top cell (team, feature, workspace, api key, model), reported at its broadest scope,
so a feature that spikes is alerted once, not once for each of its feature, key, model, team, workspace
and the organisation. A tick reads the rollup only: its cost grows with hours x scopes, not with events.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.anomalies.config import AnomalyLines
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

TOP_CONTRIBUTORS = 3  # per dimension
BROADEST_FIRST = ("org", "workspace", "team", "api_key", "model", "feature")  # the order of scopes on equal spend
NAMING_FIRST = ("feature", "api_key", "model", "team", "workspace", "cell")  # how what moved is named


@dataclass(frozen=True)
class Contributor:
    dimension: str  # feature, api_key, model, team or workspace
    value: str
    actual_usd: Decimal
    expected_usd: Decimal  # its baseline median

    @property
    def increase_usd(self) -> Decimal:
        return self.actual_usd - self.expected_usd


@dataclass(frozen=True)
class SpendAnomaly:
    window: str  # day (yesterday, or today so far) or hours (the last recent_hours)
    day: date
    window_start: datetime
    window_end: datetime
    scope: str
    target: str  # '' for org (and for the default workspace, or console use without an api key)
    actual_usd: Decimal
    expected_usd: Decimal  # the baseline median
    low_usd: Decimal  # the expected range
    high_usd: Decimal
    score: float  # (actual - median) / spread
    baseline_weeks: int
    contributors: tuple[Contributor, ...] = ()  # largest increase first, TOP_CONTRIBUTORS per dimension
    top_cell: str = ""  # team|feature|workspace|api key|model of the cell that rose most

    @property
    def key(self) -> str:
        """Alert key: once per scope, day and kind."""
        return f"anomaly:spend:{self.day}:{self.scope}:{self.target}"

    @property
    def cell_key(self) -> str:
        """Settled with ``key``: the incident, so the same cell's rise is not alerted again at another scope."""
        return f"anomaly:spend:{self.day}:cell:{self.top_cell}"

    @property
    def increase_usd(self) -> Decimal:
        return self.actual_usd - self.expected_usd

    def top(self, dimension: str) -> Contributor | None:
        return next((c for c in self.contributors if c.dimension == dimension), None)


@dataclass(frozen=True)
class Incident:
    """A day's anomalies that share their top cell: alerted once, at the broadest of them."""

    reported: SpendAnomaly
    covered: tuple[SpendAnomaly, ...]  # the same rise seen at narrower scopes

    @property
    def keys(self) -> tuple[str, ...]:
        return self.reported.key, self.reported.cell_key


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _windows(client: Client, now: datetime, lines: AnomalyLines) -> list[SpendAnomaly]:
    spend = lines.spend
    rows = client.query(sql("spend_anomalies"), parameters={
        "now": now, "weeks": lines.baseline_weeks, "min_weeks": lines.min_baseline_weeks,
        "recent_hours": spend.recent_hours, "scopes": list(spend.scopes), "threshold": spend.threshold,
        "noise_floor": spend.noise_floor, "min_usd": spend.min_usd, "min_increase_usd": spend.min_increase_usd,
    }).result_rows
    return [SpendAnomaly(window, day, _utc(start), _utc(end), scope, target, actual, median, low, high, score, weeks)
            for window, day, start, end, scope, target, actual, median, low, high, score, weeks in rows]


def _with_contributors(client: Client, anomalies: list[SpendAnomaly]) -> list[SpendAnomaly]:
    if not anomalies:
        return []
    weeks = timedelta(days=7 * max(a.baseline_weeks for a in anomalies))
    rows = client.query(sql("spend_anomaly_contributors"), parameters={
        "anomalies": [(a.window, a.window_start, a.window_end, a.scope, a.target, a.baseline_weeks) for a in anomalies],
        "since": min(a.window_start for a in anomalies) - weeks, "until": max(a.window_end for a in anomalies),
        "top": TOP_CONTRIBUTORS,
    }).result_rows
    found: dict[tuple[str, datetime, str, str], list[Contributor]] = {}
    for window, start, scope, target, dimension, value, actual, median in rows:
        found.setdefault((window, _utc(start), scope, target), []).append(Contributor(dimension, value, actual, median))
    out = []
    for a in anomalies:
        moved = sorted(found.get((a.window, a.window_start, a.scope, a.target), []),
                       key=lambda c: (-c.increase_usd, NAMING_FIRST.index(c.dimension), c.value))
        cell = next((c.value for c in moved if c.dimension == "cell"), "")
        out.append(replace(a, contributors=tuple(c for c in moved if c.dimension != "cell"), top_cell=cell))
    return out


def find_spend_anomalies(client: Client, now: datetime, lines: AnomalyLines) -> list[SpendAnomaly]:
    """The spend anomalies at ``now``: one per scope and day, the window with the highest score."""
    best: dict[tuple[date, str, str], SpendAnomaly] = {}
    for a in _windows(client, now, lines):
        known = best.get((a.day, a.scope, a.target))
        if known is None or a.score > known.score:
            best[(a.day, a.scope, a.target)] = a
    return _with_contributors(client, list(best.values()))


def incidents(anomalies: list[SpendAnomaly]) -> list[Incident]:
    """Anomalies grouped by day and top cell, each reported at its broadest scope (the most spend)."""
    groups: dict[tuple[date, str], list[SpendAnomaly]] = {}
    for a in anomalies:
        groups.setdefault((a.day, a.top_cell), []).append(a)
    out = []
    for (_day, _cell), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1])):
        ranked = sorted(members, key=lambda a: (-a.actual_usd, BROADEST_FIRST.index(a.scope), a.target))
        out.append(Incident(ranked[0], tuple(ranked[1:])))
    return out
