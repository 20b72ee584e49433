"""Usage against the configured rate limits: limits collected from the simulator's Rate Limits API over real
HTTP, usage from hand-made usage events, the busiest minute per hour, workspace / API key and model group against
the workspace's effective limit, and one Slack alert per breach of configured_limit_alert_share."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from admin_api_traffic import Traffic, simulator_for
from dagster import AssetKey, DagsterInstance, build_sensor_context, materialize
from event_lines import event, write_lines
from slack_api_server import FakeSlack

from demo.organisation import RateLimitGroup, Workspace
from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.assets import admin_rate_limits, admin_workspaces
from pipelines.admin_api.client import AdminApiClient
from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.events.ingest import ingest_landing_zone
from pipelines.ledger_config import LedgerConfig
from pipelines.reliability.assets import rate_limit_health
from pipelines.reliability.health import UNTIL_THE_END, LimitUsage, limit_usage_between, refresh_rate_limit_health
from pipelines.reliability.sensors import rate_limit_alerts
from pipelines.storage.clickhouse import ClickHouseResource

HAIKU, SONNET = "claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929"
H10 = datetime(2026, 10, 5, 10, tzinfo=UTC)
GROUP = RateLimitGroup("rlg_haiku", "Claude Haiku 4.x", ("claude-haiku-4-5", "claude-haiku-4-5-20251001"),
                       (("requests_per_minute", 10), ("input_tokens_per_minute", 1000),
                        ("output_tokens_per_minute", 100)))
OVERRIDES = {"wrkspc_1": {"rlg_haiku": (("requests_per_minute", 4),)}}  # wrkspc_1 inherits the token limits


def call(event_id: str, minute: int, key: str = "apikey_1", workspace: str | None = "wrkspc_1", model: str = HAIKU,
         usage: dict | None = None, status: int = 200, error: str | None = None) -> dict:
    return event(event_id, ts=f"2026-10-05T10:{minute:02d}:30Z", api_key_id=key, workspace_id=workspace, model=model,
                 usage=usage or {"input_tokens": 100, "output_tokens": 10}, status=status, error_type=error)


EVENTS = [
    # 10:01 in wrkspc_1: apikey_1 twice (one with a 50-token cache write and a 500-token cache read), apikey_2 once
    call("e1", 1, usage={"input_tokens": 100, "output_tokens": 10, "cache_creation_input_tokens": 50,
                         "cache_read_input_tokens": 500}),
    call("e2", 1),
    call("e3", 1, key="apikey_2"),
    # 10:02: apikey_1 once; 10:03: a 429, which used no capacity
    call("e4", 2),
    call("e5", 3, status=429, error="rate_limit_error", usage={"input_tokens": 0, "output_tokens": 0}),
    # 10:05 in the default workspace: apikey_3, 950 input tokens of the organisation's 1,000 per minute
    call("e6", 5, key="apikey_3", workspace=None, usage={"input_tokens": 950, "output_tokens": 20}),
    # a model in no configured model group: no row
    call("e7", 6, model=SONNET),
]


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(Traffic(), monkeypatch, workspaces=(Workspace(None, "Default"), Workspace("wrkspc_1", "One")),
                       rate_limit_groups=(GROUP,), workspace_rate_limits=OVERRIDES) as sim:
        yield sim


@pytest.fixture
def ch(ch: ClickHouseResource, tmp_path: Path, simulator: AdminApiSimulator) -> ClickHouseResource:
    """Limits collected from the simulator, the events ingested, rate-limit health refreshed."""
    resource = ch
    collected = materialize([admin_workspaces, admin_rate_limits], instance=DagsterInstance.ephemeral(),
                            resources={"clickhouse": resource, "admin_api": AdminApiClient.from_env()})
    assert collected.success
    landing = tmp_path / "events"
    landing.mkdir()
    write_lines(landing / "events.jsonl", *EVENTS)
    assert ingest_landing_zone(resource, landing).loaded == 7
    refresh_rate_limit_health(resource, lookback_hours=48)
    return resource


def cells(ch: ClickHouseResource) -> dict[tuple[str, str, str], LimitUsage]:
    """(subject label, limiter type) -> the hour-10 cell."""
    return {(u.label, u.limit_type): u for u in limit_usage_between(ch, H10, UNTIL_THE_END, limit=1000)}


def test_the_busiest_minute_of_a_workspace_counts_all_its_keys_against_its_override(ch):
    usage = cells(ch)[("wrkspc_1", "requests_per_minute")]
    assert (usage.peak_per_minute, usage.peak_minute, usage.limit_value, usage.inherited) == (
        3, datetime(2026, 10, 5, 10, 1, tzinfo=UTC), 4, False)
    assert usage.share == 0.75  # 3 of 4
    assert usage.group_name == "Claude Haiku 4.x"


def test_each_key_is_measured_against_its_workspace_limit(ch):
    found = cells(ch)
    assert found[("wrkspc_1 / apikey_1", "requests_per_minute")].share == 0.5  # 2 of 4 at 10:01
    assert found[("wrkspc_1 / apikey_2", "requests_per_minute")].share == 0.25  # 1 of 4


def test_input_tokens_per_minute_count_uncached_input_and_cache_writes_but_not_cache_reads(ch):
    usage = cells(ch)[("wrkspc_1", "input_tokens_per_minute")]
    # 10:01: (100 + 50 written) + 100 + 100; the 500 read tokens do not count; inherited limit 1,000
    assert (usage.peak_per_minute, usage.limit_value, usage.inherited, usage.share) == (350, 1000, True, 0.35)
    output = cells(ch)[("wrkspc_1", "output_tokens_per_minute")]
    assert (output.peak_per_minute, output.share) == (30, 0.3)  # 10 + 10 + 10 of 100


def test_a_rate_limited_call_uses_no_capacity(ch):
    # apikey_1: 2 calls at 10:01, 1 at 10:02, the 429 at 10:03 is not a third minute with a call
    assert cells(ch)[("wrkspc_1 / apikey_1", "requests_per_minute")].peak_per_minute == 2


def test_the_default_workspace_runs_under_the_organisation_limits(ch):
    usage = cells(ch)[("(default)", "input_tokens_per_minute")]
    assert (usage.peak_per_minute, usage.limit_value, usage.share) == (950, 1000, 0.95)


def test_a_model_in_no_model_group_has_no_row(ch):
    models = ch.query_rows("SELECT DISTINCT group_id FROM configured_limit_usage_hourly FINAL")
    assert models == [("rlg_haiku",)]
    # 3 limiter types x (2 workspaces + 3 keys)
    assert len(cells(ch)) == 15


def test_the_asset_depends_on_the_configured_limits_and_shows_the_headroom(ch):
    assert AssetKey("admin_rate_limits") in rate_limit_health.asset_deps[AssetKey("rate_limit_health")]
    result = materialize([rate_limit_health], resources={"clickhouse": ch}, instance=DagsterInstance.ephemeral())
    metadata = result.asset_materializations_for_node("rate_limit_health")[0].metadata
    assert metadata["configured_limit_cells"].value == 15
    [check] = result.get_asset_check_evaluations()
    assert check.check_name == "models_have_a_rate_limit_group"
    assert not check.passed  # e7's Sonnet is in no configured model group
    assert (check.metadata["models_without_group"].value, check.metadata["calls_without_group"].value) == (1, 1)
    assert f"| {SONNET} | 1 |" in check.metadata["models"].value
    table = metadata["configured_limit_headroom"].value.splitlines()
    assert table[2:4] == [
        "| 2026-10-05 10:00 | (default) / apikey_3 | Claude Haiku 4.x | input_tokens_per_minute | 1,000 (inherited) | "
        "950 at 10:05 | 95.0% |",
        "| 2026-10-05 10:00 | (default) | Claude Haiku 4.x | input_tokens_per_minute | 1,000 (inherited) | "
        "950 at 10:05 | 95.0% |"]


# ---------------------------------------------------------------- alerts


def configure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **lines: object) -> None:
    path = tmp_path / "ledger.yaml"
    path.write_text(yaml.safe_dump({"rate_limits": {"slack_channel": "#api-limits", **lines}}))
    monkeypatch.setenv("LEDGER_CONFIG", str(path))


def tick(ch: ClickHouseResource, slack: FakeSlack, now: str) -> str:
    context = build_sensor_context(instance=DagsterInstance.ephemeral(), resources={
        "clickhouse": ch, "slack": SlackResource(bot_token="xoxb-test", api_url=slack.base_url),
        "clock": Clock(frozen_at=now), "ledger_config": LedgerConfig()})
    return rate_limit_alerts(context).skip_message


def test_a_workspace_and_its_key_above_the_share_alert_once_and_the_next_tick_sends_nothing(
        ch, slack, tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, configured_limit_alert_share=0.9)
    first = tick(ch, slack, "2026-10-05T10:30:00")
    second = tick(ch, slack, "2026-10-05T10:31:00")
    assert [body["text"] for body in slack.delivered] == [
        "95.0 % of the configured input tokens per minute limit on Claude Haiku 4.x: api key (default) / apikey_3 "
        "used 950 of 1,000 input tokens per minute at 2026-10-05 10:05 UTC (line: 90.0 %).",
        "95.0 % of the configured input tokens per minute limit on Claude Haiku 4.x: workspace (default) used 950 "
        "of 1,000 input tokens per minute at 2026-10-05 10:05 UTC (line: 90.0 %).",
    ]
    assert "2 rate-limit breaches" in first and "2 delivered" in first
    assert "0 delivered, 2 already sent" in second
    assert len(slack.received) == 2
    assert ch.query_rows("SELECT alert_key, kind FROM alerts_sent FINAL ORDER BY alert_key") == [
        ("configured_limit|2026-10-05T10|api_key||apikey_3|rlg_haiku|input_tokens_per_minute",
         "rate_limit_configured_limit"),
        ("configured_limit|2026-10-05T10|workspace|||rlg_haiku|input_tokens_per_minute",
         "rate_limit_configured_limit"),
    ]


def test_the_share_comes_from_the_rate_limits_section(ch, slack, tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, configured_limit_alert_share=0.7)
    tick(ch, slack, "2026-10-05T10:30:00")
    # above 70 %: wrkspc_1's 3 of 4 requests, and the default workspace's and apikey_3's 950 of 1,000 input tokens
    assert sorted(body["text"].split(":")[1].split(" used ")[0].strip() for body in slack.delivered) == [
        "api key (default) / apikey_3", "workspace (default)", "workspace wrkspc_1"]


def test_a_null_share_sends_no_configured_limit_alert(ch, slack, tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, configured_limit_alert_share=None)
    tick(ch, slack, "2026-10-05T10:30:00")
    assert slack.received == []
