"""Hand-made usage events and Admin API rows for the cache-analysis tests, written straight to chDB.

List prices used by the hand computations (USD per million tokens; pipelines/pricing/model_prices.csv):

| model             | input | 5m write | 1h write | cache read |
|-------------------|-------|----------|----------|------------|
| Sonnet 4.5        | 3     | 3.75     | 6        | 0.30       |
| Opus 4.5          | 5     | 6.25     | 10       | 0.50       |
| Opus 4.1          | 15    | 18.75    | 30       | 1.50       |
| Haiku 4.5         | 1     | 1.25     | 2        | 0.10       |

Batch tier: every token price x 0.5. Minimum cacheable prefix: Sonnet 4.5 1,024, Haiku 4.5 4,096 tokens.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pipelines.storage.clickhouse import ClickHouseResource

T0 = datetime(2026, 10, 5, 10, tzinfo=UTC)  # a Monday, 10:00 UTC
SONNET = "claude-sonnet-4-5-20250929"
OPUS_45 = "claude-opus-4-5-20251101"
OPUS_41 = "claude-opus-4-1-20250805"
HAIKU = "claude-haiku-4-5-20251001"

# What a test writes or the refresh derives; emptied between the tests sharing one database.
DATA_TABLES = ("usage_events", "admin_usage_hourly", "cache_feature_daily", "cache_key_daily", "cache_waste_daily",
               "cache_opportunities")

EVENT_COLUMNS = ["event_id", "ts", "team", "feature", "env", "workspace_id", "api_key_id", "model", "service_tier",
                 "input_tokens", "output_tokens", "cache_read_input_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "prompt_prefix_hash", "prompt_prefix_tokens", "ingested_at"]
ADMIN_COLUMNS = ["bucket_start", "workspace_id", "api_key_id", "model", "service_tier", "context_window",
                 "uncached_input_tokens", "cache_read_input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens",
                 "output_tokens", "web_search_requests", "extracted_at"]


@dataclass(frozen=True)
class Use:
    """One call that sends a prompt prefix: uncached unless it reads or writes the cache."""

    at: timedelta
    prefix_tokens: int = 10_000
    rest_tokens: int = 500  # uncached input beyond the prefix
    cache_read: bool = False
    write_5m: bool = False
    write_1h: bool = False

    def row(self, event_id: str, team: str, feature: str, model: str, prefix_hash: str, tier: str) -> list[object]:
        cached = self.cache_read or self.write_5m or self.write_1h
        p = self.prefix_tokens
        return [event_id, T0 + self.at, team, feature, "prod", "ws1", "key1", model, tier,
                self.rest_tokens + (0 if cached else p), 100, p if self.cache_read else 0,
                p if self.write_5m else 0, p if self.write_1h else 0, prefix_hash, p, datetime.now(UTC)]


def every(step: timedelta, count: int, **use: object) -> list[Use]:
    """``count`` uses, ``step`` apart, from T0."""
    return [Use(at=step * i, **use) for i in range(count)]


def send(ch: ClickHouseResource, uses: list[Use], *, team: str = "search", feature: str = "query-rewrite",
         model: str = SONNET, prefix_hash: str = "prefix-a", tier: str = "standard") -> None:
    rows = [u.row(f"{team}-{feature}-{prefix_hash}-{i}", team, feature, model, prefix_hash, tier)
            for i, u in enumerate(uses)]
    with ch.connect() as client:
        client.insert("usage_events", rows, column_names=EVENT_COLUMNS)


def admin_hour(ch: ClickHouseResource, hour: datetime, *, workspace: str = "ws1", key: str = "key1",
               model: str = SONNET, tier: str = "standard", uncached: int = 0, cache_read: int = 0,
               write_5m: int = 0, write_1h: int = 0) -> None:
    with ch.connect() as client:
        client.insert("admin_usage_hourly", [[hour, workspace, key, model, tier, "0-200k", uncached, cache_read,
                                              write_5m, write_1h, 0, 0, datetime.now(UTC)]],
                      column_names=ADMIN_COLUMNS)



def emptied(ch: ClickHouseResource) -> ClickHouseResource:
    """The module's database without the usage and cache results of the previous test."""
    with ch.connect() as client:
        for table in DATA_TABLES:
            client.command(f"TRUNCATE TABLE {table}")
    return ch
