"""Rate-limit health per hour, model and API key (ClickHouse SQL in ``sql/rate_limit_health_*.sql``), usage against
the configured rate limits per hour, workspace / API key and model group (``sql/configured_limit_usage_*.sql``,
limits from the ``admin_rate_limits`` dimension), and the breaches of configurable lines that an alert sensor
turns into messages.

``current_breaches`` is what a Slack sensor (sharing the budget alerts' delivery) calls on each tick: it
reads the pre-aggregated ``rate_limit_health_hourly`` only, so its cost does not grow with raw events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

HOUR = timedelta(hours=1)
UNTIL_THE_END = datetime(2100, 1, 1, tzinfo=UTC)  # an open end of an hour range


@dataclass(frozen=True)
class HealthLines:
    """Where healthy ends. A 429 share above ``max_rate_limited_share`` counts only in an hour with at least
    ``min_requests`` calls; headroom is remaining / limit of the rate-limit headers."""

    max_rate_limited_share: float = 0.05
    min_requests: int = 20
    min_headroom: float = 0.10


@dataclass(frozen=True)
class HealthRow:
    hour: datetime
    model: str
    api_key_id: str
    requests: int
    rate_limited: int
    rate_limited_share: float
    requests_headroom_min: float | None
    tokens_headroom_min: float | None
    latency_p50_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    error_types: dict[str, int]


@dataclass(frozen=True)
class Breach:
    """One line passed in one cell. ``kind``: ``rate_limited_share``, ``requests_headroom`` or ``tokens_headroom``."""

    hour: datetime
    model: str
    api_key_id: str
    kind: str
    value: float
    line: float
    requests: int
    rate_limited: int

    @property
    def key(self) -> str:
        """Names the breach once, for a sensor's exactly-once record of what was sent."""
        return f"rate_limit|{self.hour:%Y-%m-%dT%H}|{self.model}|{self.api_key_id}|{self.kind}"


@dataclass(frozen=True)
class LimitUsage:
    """The busiest minute of an hour of a workspace (``subject`` 'workspace', api_key_id '') or an API key
    (``subject`` 'api_key') in one model group, against the workspace's configured limit of one limiter type."""

    hour: datetime
    subject: str
    workspace_id: str
    api_key_id: str
    group_id: str
    group_name: str
    limit_type: str
    limit_value: int
    inherited: bool
    peak_per_minute: int
    peak_minute: datetime
    share: float

    @property
    def label(self) -> str:
        """``workspace`` or ``workspace / api key``; '' shown as (default) and (console)."""
        workspace = self.workspace_id or "(default)"
        return workspace if self.subject == "workspace" else f"{workspace} / {self.api_key_id or '(console)'}"

    @property
    def key(self) -> str:
        """Names the breach of this cell once (per hour, subject, model group and limiter type)."""
        return (f"configured_limit|{self.hour:%Y-%m-%dT%H}|{self.subject}|{self.workspace_id}|{self.api_key_id}|"
                f"{self.group_id}|{self.limit_type}")


@dataclass(frozen=True)
class Refresh:
    window_start: datetime | None
    cells: int
    requests: int
    rate_limited: int
    limit_cells: int = 0  # rows of usage against a configured limit


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def refresh_rate_limit_health(ch: ClickHouseResource, lookback_hours: int, now: datetime | None = None) -> Refresh:
    """Recompute every hour from ``lookback_hours`` before the latest event's hour on; totals of those hours."""
    rows = ch.query_rows(sql("rate_limit_health_window_start"), {"lookback_hours": lookback_hours})
    if not rows:
        return Refresh(None, 0, 0, 0)
    start = _utc(rows[0][0])
    parameters = {"from": start, "computed_at": now or datetime.now(UTC)}
    with ch.connect() as client:
        client.command(sql("rate_limit_health_from_events"), parameters=parameters)
        client.command(sql("configured_limit_usage_from_events"), parameters=parameters)
    cells = health_between(ch, start, UNTIL_THE_END, limit=1_000_000)
    limit_cells = limit_usage_between(ch, start, UNTIL_THE_END, limit=1_000_000)
    return Refresh(start, len(cells), sum(c.requests for c in cells), sum(c.rate_limited for c in cells),
                   len(limit_cells))


def health_between(ch: ClickHouseResource, start: datetime, end: datetime, limit: int = 10) -> list[HealthRow]:
    """Cells of the hours in [start, end), worst first (highest 429 share, then least headroom)."""
    rows = ch.query_rows(sql("rate_limit_health_between"), {"from": _utc(start), "to": _utc(end), "limit": limit})
    return [HealthRow(_utc(r[0]), *r[1:11], dict(r[11])) for r in rows]


def limit_usage_between(ch: ClickHouseResource, start: datetime, end: datetime, min_share: float = 0.0,
                        limit: int = 10) -> list[LimitUsage]:
    """Usage against the configured limits in the hours in [start, end) with a share of at least ``min_share``,
    highest share first."""
    rows = ch.query_rows(sql("configured_limit_usage_between"),
                         {"from": _utc(start), "to": _utc(end), "min_share": min_share, "limit": limit})
    return [LimitUsage(_utc(r[0]), *r[1:10], _utc(r[10]), r[11]) for r in rows]


def models_without_limit_group(ch: ClickHouseResource, start: datetime) -> list[tuple[str, int]]:
    """(model, calls) of the usage events from ``start`` on whose model no configured model group lists."""
    return [(model, calls) for model, calls in ch.query_rows(sql("configured_limit_unmapped_models"),
                                                             {"from": _utc(start)})]


def current_limit_breaches(ch: ClickHouseResource, now: datetime, line: float, recent_hours: int = 2
                           ) -> list[LimitUsage]:
    """Cells of the hour of ``now`` and the ``recent_hours - 1`` before it whose busiest minute used more than
    ``line`` of the configured limit: what a sensor alerts on."""
    end = _utc(now).replace(minute=0, second=0, microsecond=0) + HOUR
    return [u for u in limit_usage_between(ch, end - recent_hours * HOUR, end, line, limit=1_000_000)
            if u.share > line]


def breaches_between(ch: ClickHouseResource, start: datetime, end: datetime,
                     lines: HealthLines = HealthLines()) -> list[Breach]:
    """Every line passed in the hours in [start, end), one ``Breach`` per cell and kind."""
    params: dict[str, Any] = {"from": _utc(start), "to": _utc(end), "max_share": lines.max_rate_limited_share,
                              "min_requests": lines.min_requests, "min_headroom": lines.min_headroom}
    found = []
    for hour, model, key, requests, limited, share, req_headroom, tok_headroom in ch.query_rows(
            sql("rate_limit_breaches"), params):
        base = {"hour": _utc(hour), "model": model, "api_key_id": key, "requests": requests, "rate_limited": limited}
        if share > lines.max_rate_limited_share and requests >= lines.min_requests:
            found.append(Breach(kind="rate_limited_share", value=share, line=lines.max_rate_limited_share, **base))
        if req_headroom is not None and req_headroom < lines.min_headroom:
            found.append(Breach(kind="requests_headroom", value=req_headroom, line=lines.min_headroom, **base))
        if tok_headroom is not None and tok_headroom < lines.min_headroom:
            found.append(Breach(kind="tokens_headroom", value=tok_headroom, line=lines.min_headroom, **base))
    return found


def current_breaches(ch: ClickHouseResource, now: datetime, lines: HealthLines = HealthLines(),
                     recent_hours: int = 2) -> list[Breach]:
    """Breaches in the hour of ``now`` and the ``recent_hours - 1`` hours before it: what a sensor alerts on."""
    end = _utc(now).replace(minute=0, second=0, microsecond=0) + HOUR
    return breaches_between(ch, end - recent_hours * HOUR, end, lines)
