"""How fresh each source is: the end of its newest data and when it was last written (rollups only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class Freshness:
    source: str
    data_until: datetime | None  # end of the newest data (None: no data, or not a time series)
    written_at: datetime | None  # when the source was last written (None: never)

    def age_s(self, now: datetime) -> float | None:
        """Seconds from the end of the newest data (else the last write) to ``now``."""
        moment = self.data_until or self.written_at
        return None if moment is None else max((now - moment).total_seconds(), 0.0)


def source_freshness(ch: ClickHouseResource) -> list[Freshness]:
    rows = ch.query_rows(sql("source_freshness"))
    return sorted((Freshness(source, _utc(until), _utc(written)) for source, until, written in rows),
                  key=lambda f: f.source)


def unpriced_by_month(ch: ClickHouseResource) -> list[tuple]:
    """(month, units) of the spend rollup's usage of models without a price."""
    return ch.query_rows(sql("unpriced_spend_by_month"))
