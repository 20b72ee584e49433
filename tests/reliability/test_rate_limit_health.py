"""Rate-limit health per hour, model and API key from hand-made usage events, and the breaches of its lines."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import materialize
from dagster_cli import run_dagster
from event_lines import event, write_lines

from pipelines.events.ingest import ingest_landing_zone
from pipelines.reliability.assets import rate_limit_health
from pipelines.reliability.health import (
    HealthLines,
    breaches_between,
    current_breaches,
    health_between,
    refresh_rate_limit_health,
)
from pipelines.storage.clickhouse import ClickHouseResource

HAIKU, SONNET = "claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"
H10, H11 = datetime(2026, 10, 5, 10, tzinfo=UTC), datetime(2026, 10, 5, 11, tzinfo=UTC)


def call(event_id: str, minute: int, status: int, latency: int, hour: int = 10, model: str = HAIKU,
         key: str = "apikey_1", error: str | None = None, ratelimit: dict | None = None) -> dict:
    return event(event_id, ts=f"2026-10-05T{hour}:{minute:02d}:00Z", model=model, api_key_id=key, status=status,
                 latency_ms=latency, error_type=error, ratelimit=ratelimit)


EVENTS = [
    # 10:00, haiku, apikey_1: five calls, one 429 and one 529
    call("e1", 1, 200, 100, ratelimit={"requests-limit": 100, "requests-remaining": 50, "tokens-limit": 1000,
                                       "tokens-remaining": 900, "input-tokens-limit": 800,
                                       "input-tokens-remaining": 200}),
    call("e2", 2, 200, 200, ratelimit={"requests-limit": 100, "requests-remaining": 40, "tokens-limit": 1000,
                                       "tokens-remaining": 950}),
    call("e3", 3, 200, 400),
    call("e4", 4, 429, 5, error="rate_limit_error", ratelimit={"requests-limit": 100, "requests-remaining": 0}),
    call("e5", 5, 529, 50, error="overloaded_error"),
    # 10:00, sonnet, apikey_2: plenty of room, no token headers
    call("e6", 6, 200, 1000, model=SONNET, key="apikey_2", ratelimit={"requests-limit": 100,
                                                                     "requests-remaining": 100}),
    # 11:00, haiku, apikey_1: one quiet call without headers
    call("e7", 1, 200, 300, hour=11),
]


@pytest.fixture
def ch(ch: ClickHouseResource, tmp_path: Path) -> ClickHouseResource:
    """The events ingested into the test's database."""
    resource = ch
    landing = tmp_path / "events"
    landing.mkdir()
    write_lines(landing / "events.jsonl", *EVENTS)
    assert ingest_landing_zone(resource, landing).loaded == 7
    return resource


def test_health_per_hour_model_and_key_is_computed_from_the_events(ch: ClickHouseResource):
    refresh = refresh_rate_limit_health(ch, lookback_hours=48)
    assert (refresh.window_start, refresh.cells, refresh.requests, refresh.rate_limited) == (
        datetime(2026, 10, 3, 11, tzinfo=UTC), 3, 7, 1)
    rows = {(r.hour, r.model, r.api_key_id): r for r in health_between(ch, H10, datetime(2026, 10, 6, tzinfo=UTC))}

    haiku = rows[(H10, HAIKU, "apikey_1")]
    assert (haiku.requests, haiku.rate_limited, haiku.rate_limited_share) == (5, 1, 0.2)
    assert haiku.requests_headroom_min == 0.0  # the 429's 0 of 100
    assert haiku.tokens_headroom_min == 0.25  # input tokens 200 of 800, below tokens 900 / 1000
    # successful calls 100, 200, 400 ms, linear interpolation: p90 = 200 + 0.8 * 200, p99 = 200 + 0.98 * 200
    assert (haiku.latency_p50_ms, haiku.latency_p90_ms, haiku.latency_p99_ms) == (200, 360, 396)
    assert haiku.error_types == {"rate_limit_error": 1, "overloaded_error": 1}

    sonnet = rows[(H10, SONNET, "apikey_2")]
    assert (sonnet.requests, sonnet.rate_limited_share, sonnet.requests_headroom_min) == (1, 0.0, 1.0)
    assert sonnet.tokens_headroom_min is None  # no token headers is not zero headroom
    assert sonnet.error_types == {}

    quiet = rows[(H11, HAIKU, "apikey_1")]
    assert (quiet.requests_headroom_min, quiet.tokens_headroom_min) == (None, None)
    assert (quiet.latency_p50_ms, quiet.latency_p90_ms, quiet.latency_p99_ms) == (300, 300, 300)


def test_refreshing_twice_changes_nothing(ch: ClickHouseResource):
    refresh_rate_limit_health(ch, lookback_hours=48)
    refresh_rate_limit_health(ch, lookback_hours=48)
    assert ch.query_rows("SELECT count(), sum(requests) FROM rate_limit_health_hourly FINAL") == [(3, 7)]


def test_breaches_name_each_line_passed_in_each_cell(ch: ClickHouseResource):
    refresh_rate_limit_health(ch, lookback_hours=48)
    lines = HealthLines(max_rate_limited_share=0.1, min_requests=5, min_headroom=0.3)
    found = breaches_between(ch, H10, datetime(2026, 10, 6, tzinfo=UTC), lines)
    assert [(b.hour, b.model, b.api_key_id, b.kind, b.value, b.line) for b in found] == [
        (H10, HAIKU, "apikey_1", "rate_limited_share", 0.2, 0.1),
        (H10, HAIKU, "apikey_1", "requests_headroom", 0.0, 0.3),
        (H10, HAIKU, "apikey_1", "tokens_headroom", 0.25, 0.3),
    ]
    assert found[0].key == f"rate_limit|2026-10-05T10|{HAIKU}|apikey_1|rate_limited_share"


def test_a_429_share_in_an_hour_with_too_few_calls_is_no_breach(ch: ClickHouseResource):
    refresh_rate_limit_health(ch, lookback_hours=48)
    lines = HealthLines(max_rate_limited_share=0.1, min_requests=6, min_headroom=0.0)
    assert breaches_between(ch, H10, datetime(2026, 10, 6, tzinfo=UTC), lines) == []


def test_current_breaches_are_those_of_the_recent_hours_only(ch: ClickHouseResource):
    refresh_rate_limit_health(ch, lookback_hours=48)
    lines = HealthLines(max_rate_limited_share=0.1, min_requests=5, min_headroom=0.3)
    at = datetime(2026, 10, 5, 11, 30, tzinfo=UTC)
    assert current_breaches(ch, at, lines, recent_hours=1) == []
    assert {b.kind for b in current_breaches(ch, at, lines, recent_hours=2)} == {
        "rate_limited_share", "requests_headroom", "tokens_headroom"}


def test_the_asset_stores_the_health_and_shows_the_worst_cells(ch: ClickHouseResource):
    result = materialize([rate_limit_health], resources={"clickhouse": ch}, run_config={
        "ops": {"rate_limit_health": {"config": {"max_rate_limited_share": 0.1, "min_requests": 5,
                                                 "min_headroom": 0.3}}}})
    assert result.success
    metadata = result.asset_materializations_for_node("rate_limit_health")[0].metadata
    assert (metadata["cells"].value, metadata["requests"].value, metadata["rate_limited"].value) == (3, 7, 1)
    assert metadata["breaches_in_window"].value == 3
    table = metadata["worst_cells"].value
    assert table.splitlines()[2].startswith(f"| 2026-10-05 10:00 | {HAIKU} | apikey_1 | 5 | 20.0% | 0.0% | 25.0% |")
    assert "rate_limit_error 1" in table


def test_the_dagster_cli_refreshes_rate_limit_health_from_the_landing_zone(tmp_path, databases):
    landing = tmp_path / "events"
    landing.mkdir()
    write_lines(landing / "a.jsonl", event("e1", ts="2026-10-05T10:00:00Z"),
                event("e2", ts="2026-10-05T10:01:00Z", status=429, error_type="rate_limit_error"))
    with databases.resource(tmp_path / "ledger") as ch:
        completed = run_dagster("asset", "materialize", "--select", "usage_events,rate_limit_health", home=tmp_path,
                                ch=ch, LEDGER_EVENTS_DIR=str(landing))
        assert completed.returncode == 0, completed.stderr[-3000:]
        health = ch.query_rows("SELECT requests, rate_limited FROM rate_limit_health_hourly FINAL")
    assert health == [(2, 1)]
