"""Generated hourly spend for the anomaly tests, written as the allocation writes it (``allocation_hourly``),
then rolled up by the real ``spend_hourly`` refresh.

Each cell (team, feature, workspace, api key, model) costs ``usd_per_hour`` on average, shaped by a weekly
pattern (weekends at ``weekend`` of a weekday) and a working-hours profile (08-19 UTC 4x the night), times
a seeded log-normal noise per hour; a ``Spike`` multiplies one cell's spend for some hours.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from budget_helpers import ALLOCATION_COLUMNS

from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.storage.clickhouse import ClickHouseResource


@dataclass(frozen=True)
class Cell:
    team: str
    feature: str
    workspace_id: str
    api_key_id: str
    model: str
    usd_per_hour: float


CELLS = (
    Cell("search", "query-rewrite", "wrkspc_search", "apikey_search", "claude-haiku-4-5", 2.0),
    Cell("search", "answer-synthesis", "wrkspc_search", "apikey_search", "claude-sonnet-4-5", 3.0),
    Cell("support", "ticket-triage", "wrkspc_support", "apikey_support", "claude-sonnet-4-5", 2.5),
    Cell("data", "doc-summarise", "", "apikey_platform", "claude-sonnet-4-5", 1.5),
)


@dataclass(frozen=True)
class Spike:
    feature: str
    start: datetime
    end: datetime
    factor: float


def _profile(hour: datetime, weekend: float) -> float:
    working = 1.6 if 8 <= hour.hour < 19 else 0.4
    return working * (weekend if hour.weekday() >= 5 else 1.0)


Spend = list[tuple[datetime, Cell, Decimal]]


def hourly_spend(start: datetime, end: datetime, *, weekend: float = 1.0, noise: float = 0.1, seed: int = 1,
                 spikes: tuple[Spike, ...] = (), cells: tuple[Cell, ...] = CELLS) -> Spend:
    rng = random.Random(seed)
    out = []
    hour = start
    while hour < end:
        for cell in cells:
            usd = cell.usd_per_hour * _profile(hour, weekend) * math.exp(rng.gauss(0, noise))
            usd *= math.prod(s.factor for s in spikes if s.feature == cell.feature and s.start <= hour < s.end)
            out.append((hour, cell, Decimal(f"{usd:.4f}")))
        hour += timedelta(hours=1)
    return out


def write_traffic(ch: ClickHouseResource, spend: Spend, now: datetime) -> None:
    """The spend as allocated rows, then the spend_hourly refresh (as the asset runs it after an allocation)."""
    stamp = datetime.now(UTC)
    rows = [[date(hour.year, hour.month, 1), hour, c.workspace_id, c.api_key_id, c.model, "standard", "0-200k",
             "output", c.team, c.feature, "prod", "CC-1", "events", 1, usd, usd, 0, stamp] for hour, c, usd in spend]
    with ch.connect() as client:
        client.insert("allocation_hourly", rows, column_names=ALLOCATION_COLUMNS)
    refresh_spend_rollup(ch, now)


# What the anomaly tests write; emptied between the tests that share one module-wide database.
WRITTEN_TABLES = ("allocation_hourly", "spend_hourly", "alerts_sent", "spend_anomalies", "cache_feature_daily",
                  "cache_waste_daily", "cache_breaks")


def emptied(ch: ClickHouseResource) -> ClickHouseResource:
    with ch.connect() as client:
        for table in WRITTEN_TABLES:
            client.command(f"TRUNCATE TABLE {table}")
    return ch
