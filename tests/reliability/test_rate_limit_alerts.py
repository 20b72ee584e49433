"""The rate_limit_alerts sensor against a local Slack Web API: each breach of the rate_limits lines once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from dagster import DagsterInstance, build_sensor_context
from slack_api_server import FakeSlack, server_error

from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.reliability.config import RateLimitsConfig
from pipelines.reliability.sensors import rate_limit_alerts
from pipelines.storage.clickhouse import ClickHouseResource

TOKEN = "xoxb-test-secret-token"
HAIKU = "claude-haiku-4-5-20251001"
COLUMNS = ["hour", "model", "api_key_id", "requests", "rate_limited", "rate_limited_share", "requests_headroom_min",
           "tokens_headroom_min", "computed_at"]
LINES = {"max_429_share": 0.05, "min_requests": 20, "min_headroom": 0.10, "slack_channel": "#api-limits"}


def cell(ch: ClickHouseResource, hour: str, requests: int, rate_limited: int, requests_headroom: float | None = None,
         tokens_headroom: float | None = None, model: str = HAIKU, key: str = "apikey_1") -> None:
    """One row of rate_limit_health_hourly, as the rate_limit_health asset would write it."""
    row = [datetime.fromisoformat(hour).replace(tzinfo=UTC), model, key, requests, rate_limited,
           rate_limited / requests, requests_headroom, tokens_headroom, datetime.now(UTC)]
    with ch.connect() as client:
        client.insert("rate_limit_health_hourly", [row], column_names=COLUMNS)


def configure(tmp_path, monkeypatch, rate_limits: dict[str, Any] | None) -> None:
    path = tmp_path / "ledger.yaml"
    path.write_text(yaml.safe_dump({"rate_limits": rate_limits} if rate_limits is not None else {}))
    monkeypatch.setenv("LEDGER_CONFIG", str(path))


@dataclass
class Ticks:
    """Drives ``rate_limit_alerts`` like the daemon: one instance, the cursor carried from tick to tick."""

    ch: ClickHouseResource
    slack: SlackResource
    instance: DagsterInstance
    cursor: str | None = None

    def tick(self, now: str) -> Any:
        context = build_sensor_context(
            instance=self.instance, cursor=self.cursor,
            resources={"clickhouse": self.ch, "slack": self.slack, "clock": Clock(frozen_at=now),
                       "ledger_config": LedgerConfig()},
        )
        result = rate_limit_alerts(context)
        self.cursor = context.cursor
        return result



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    """One embedded database per module, emptied before each test."""
    with module_ch.connect() as client:
        for table in ("rate_limit_health_hourly", "alerts_sent"):
            client.command(f"TRUNCATE TABLE {table}")
    return module_ch


@pytest.fixture
def ticks(ch, slack, instance, tmp_path, monkeypatch) -> Ticks:
    configure(tmp_path, monkeypatch, LINES)
    return Ticks(ch, SlackResource(bot_token=TOKEN, api_url=slack.base_url), instance)


def titles(slack: FakeSlack) -> list[str]:
    return [body["text"].split(":")[0] for body in slack.delivered]


def test_a_breach_is_sent_once_and_the_next_tick_sends_nothing(ch, slack, ticks):
    cell(ch, "2026-10-05 10:00", requests=40, rate_limited=3)  # 7.5 % > 5 %
    ticks.tick("2026-10-05T10:30:00")
    result = ticks.tick("2026-10-05T10:31:00")
    assert titles(slack) == [f"429 rate of 7.5 % on {HAIKU}"]
    assert len(slack.received) == 1
    assert "1 rate-limit breaches in the last 2 hours; alerts: 0 delivered, 1 already sent" in result.skip_message
    assert ch.query_rows("SELECT alert_key, kind, channel, destination FROM alerts_sent FINAL") == [
        (f"rate_limit|2026-10-05T10|{HAIKU}|apikey_1|rate_limited_share", "rate_limit_rate_limited_share",
         "#api-limits", "slack"),
    ]


def test_the_message_has_a_text_fallback_block_kit_and_a_link_to_the_asset(ch, slack, ticks):
    ticks.slack = SlackResource(bot_token=TOKEN, api_url=slack.base_url, dagster_ui_url="http://dagster.local:3000/")
    cell(ch, "2026-10-05 09:00", requests=1200, rate_limited=90)
    ticks.tick("2026-10-05T10:02:00")
    [request] = slack.received
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = request.body
    assert body["channel"] == "#api-limits"
    assert body["text"] == (f"429 rate of 7.5 % on {HAIKU}: 90 of 1,200 calls with api key apikey_1 were "
                            "rate-limited in the hour 2026-10-05 09:00 UTC (line: 5.0 %).")
    header, section, context, actions = body["blocks"]
    assert header["text"]["text"] == f":rotating_light: 429 rate of 7.5 % on {HAIKU}"
    assert [f["text"] for f in section["fields"]] == [
        f"*Model*\n`{HAIKU}`", "*API key*\n`apikey_1`", "*Hour*\n2026-10-05 09:00 UTC",
        "*Calls*\n1,200 (90 rate-limited)", "*429 rate*\n7.5 %", "*Line*\n5.0 %",
    ]
    assert context["elements"][0]["text"] == (
        "Lines: 429 rate above 5.0 % in hours of at least 20 calls · headroom (remaining / limit) below 10.0 %")
    assert actions["elements"][0]["url"] == "http://dagster.local:3000/assets/rate_limit_health"


def test_request_and_token_headroom_below_the_line_are_two_alerts(ch, slack, ticks):
    cell(ch, "2026-10-05 10:00", requests=10, rate_limited=0, requests_headroom=0.04, tokens_headroom=0.08, key="")
    ticks.tick("2026-10-05T10:30:00")
    assert [body["text"] for body in slack.delivered] == [
        f"Request headroom down to 4.0 % on {HAIKU} with api key (console) in the hour 2026-10-05 10:00 UTC: "
        "the least remaining / limit seen (line: 10.0 %; 0 of 10 calls rate-limited).",
        f"Token headroom down to 8.0 % on {HAIKU} with api key (console) in the hour 2026-10-05 10:00 UTC: "
        "the least remaining / limit seen (line: 10.0 %; 0 of 10 calls rate-limited).",
    ]
    assert slack.delivered[0]["blocks"][0]["text"]["text"].startswith(":warning: Request headroom")


def test_the_lines_come_from_the_rate_limits_section(ch, slack, ticks, tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, {"max_429_share": 0.10, "min_requests": 50, "min_headroom": 0.2,
                                      "slack_channel": "#limits"})
    cell(ch, "2026-10-05 10:00", requests=100, rate_limited=8, requests_headroom=0.15)  # 8 % <= 10 %; 15 % < 20 %
    cell(ch, "2026-10-05 10:00", requests=40, rate_limited=20, model="claude-opus-4-1")  # 50 %, but only 40 calls
    ticks.tick("2026-10-05T10:30:00")
    [body] = slack.delivered
    assert body["text"].startswith(f"Request headroom down to 15.0 % on {HAIKU} with api key apikey_1")
    assert "(line: 20.0 %; 8 of 100 calls rate-limited)" in body["text"]
    assert body["channel"] == "#limits"


def test_slack_5xx_then_ok_delivers_once(ch, slack, ticks):
    slack.will_answer(server_error(503), server_error(500))
    cell(ch, "2026-10-05 10:00", requests=40, rate_limited=3)
    for minute in range(4):
        ticks.tick(f"2026-10-05T10:3{minute}:00")
    assert [r.reply.status for r in slack.received] == [503, 500, 200]
    assert titles(slack) == [f"429 rate of 7.5 % on {HAIKU}"]


def test_a_reset_cursor_or_a_restarted_daemon_sends_nothing_again(ch, slack, ticks):
    cell(ch, "2026-10-05 10:00", requests=40, rate_limited=3)
    ticks.tick("2026-10-05T10:30:00")
    ticks.cursor = None
    ticks.tick("2026-10-05T10:31:00")
    ticks.instance = DagsterInstance.ephemeral()
    ticks.tick("2026-10-05T10:32:00")
    assert len(slack.received) == 1


def test_the_same_cell_breaching_in_the_next_hour_alerts_again_and_older_hours_not_at_all(ch, slack, ticks):
    cell(ch, "2026-10-05 07:00", requests=40, rate_limited=30)  # three hours ago: not checked any more
    cell(ch, "2026-10-05 09:00", requests=40, rate_limited=3)
    cell(ch, "2026-10-05 10:00", requests=40, rate_limited=4)
    ticks.tick("2026-10-05T10:05:00")
    assert [body["text"].split(" in the hour ")[1][:16] for body in slack.delivered] == [
        "2026-10-05 09:00", "2026-10-05 10:00"]


def test_without_a_rate_limits_section_nothing_is_sent(ch, slack, ticks, tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, None)
    cell(ch, "2026-10-05 10:00", requests=40, rate_limited=40)
    result = ticks.tick("2026-10-05T10:30:00")
    assert result.skip_message == "no rate_limits section in LEDGER_CONFIG"
    assert slack.received == []


def test_a_rate_limits_section_needs_a_slack_channel_and_shares_within_0_and_1(tmp_path, monkeypatch):
    configure(tmp_path, monkeypatch, {"max_429_share": 5})
    with pytest.raises(LedgerConfigError) as failure:
        LedgerConfig().section(RateLimitsConfig)
    assert "rate_limits.max_429_share: Input should be less than or equal to 1" in str(failure.value)
    assert "rate_limits.slack_channel: Field required" in str(failure.value)
