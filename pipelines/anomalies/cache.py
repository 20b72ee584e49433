"""Cache breaks from the cache rollups (``cache_feature_daily``, ``cache_waste_daily``), computed in ClickHouse by
``sql/cache_breaks.sql`` (docs/anomalies.md): a feature whose cache-hit ratio dropped sharply, or whose cache
writes stopped being read, priced in dollars lost that day, with the models where the loss happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.anomalies.config import AnomalyLines
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

WHAT = {"cache_hit_drop": "cache-hit ratio", "cache_unread_writes": "share of cache writes never read"}


@dataclass(frozen=True)
class CacheBreak:
    kind: str  # cache_hit_drop or cache_unread_writes
    day: date
    team: str
    feature: str
    actual_ratio: float  # hit ratio, or unread share of the writes, that day
    expected_ratio: float  # its baseline median
    tokens: int  # the day's input tokens (hit drop) or cache-write tokens (unread writes)
    baseline_weeks: int
    lost_usd: Decimal  # that day
    models: tuple[tuple[str, Decimal], ...]  # (model family, lost USD), largest first

    @property
    def target(self) -> str:
        return f"{self.team}/{self.feature}"

    @property
    def key(self) -> str:
        """Alert key: once per feature, day and kind."""
        return f"anomaly:{self.kind}:{self.day}:feature:{self.target}"


def find_cache_breaks(client: Client, now: datetime, lines: AnomalyLines) -> list[CacheBreak]:
    """The cache breaks of yesterday and the day before, as the rollups hold them at ``now``."""
    cache = lines.cache
    rows = client.query(sql("cache_breaks"), parameters={
        "now": now, "weeks": lines.baseline_weeks, "min_weeks": lines.min_baseline_weeks,
        "min_baseline_hit_ratio": cache.min_baseline_hit_ratio, "hit_ratio_drop": cache.hit_ratio_drop,
        "unread_share_rise": cache.unread_share_rise, "min_lost_usd": cache.min_lost_usd_per_day,
    }).result_rows
    return [CacheBreak(kind, day, team, feature, actual, expected, tokens, weeks, lost, tuple(models))
            for kind, day, team, feature, actual, expected, tokens, weeks, lost, models in rows]
