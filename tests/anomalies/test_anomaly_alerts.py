"""The anomaly_alerts sensor against a local Slack Web API: a spike alerted once with what moved, nothing for
steady or weekly traffic, cache breaks once, and the record in alerts_sent deciding what was sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from anomaly_traffic import Spike, emptied, hourly_spend, write_traffic
from dagster import DagsterInstance, build_sensor_context
from test_cache_breaks import BROKEN, opus, write_days

from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.anomalies.sensors import anomaly_alerts
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.storage.clickhouse import ClickHouseResource

TOKEN = "xoxb-test-secret-token"
NOW = datetime(2026, 11, 18, 14, tzinfo=UTC)  # a Wednesday
HISTORY = datetime(2026, 10, 14, tzinfo=UTC)
MIDNIGHT = datetime(2026, 11, 19, tzinfo=UTC)
SPIKE = Spike("doc-summarise", NOW - timedelta(hours=5), NOW, 6.0)



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    return emptied(module_ch)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.yaml"
    path.write_text(yaml.safe_dump({"anomalies": {"slack_channel": "#finops"}}))
    return path


@dataclass
class Ticks:
    """Drives ``anomaly_alerts`` like the daemon: one instance, the cursor carried from tick to tick."""

    ch: ClickHouseResource
    slack: SlackResource
    config: Path
    instance: DagsterInstance = field(default_factory=DagsterInstance.ephemeral)
    cursor: str | None = None

    def tick(self, now: datetime) -> Any:
        context = build_sensor_context(
            instance=self.instance, cursor=self.cursor,
            resources={"clickhouse": self.ch, "slack": self.slack, "clock": Clock(frozen_at=now.isoformat()),
                       "ledger_config": LedgerConfig(path=str(self.config))})
        result = anomaly_alerts(context)
        self.cursor = context.cursor
        return result

    def every(self, step: timedelta, start: datetime, end: datetime) -> None:
        at = start
        while at <= end:
            self.tick(at)
            at += step


@pytest.fixture
def ticks(ch, slack, config) -> Ticks:
    return Ticks(ch, SlackResource(bot_token=TOKEN, api_url=slack.base_url), config)


def test_a_spike_is_alerted_once_naming_the_feature_key_and_model_that_moved(ch, slack, ticks):
    # noisy weekly traffic up to midnight; doc-summarise six times its usual from 09:00 to 14:00
    write_traffic(ch, hourly_spend(HISTORY, MIDNIGHT, weekend=0.2, noise=0.15, seed=31, spikes=(SPIKE,)), MIDNIGHT)
    ticks.every(timedelta(hours=1), NOW - timedelta(hours=5), NOW + timedelta(hours=3))  # 09:00 .. 17:00
    ticks.tick(MIDNIGHT + timedelta(minutes=30))  # the whole day, checked the day after
    [message] = slack.delivered
    assert message["channel"] == "#finops"
    assert message["text"].startswith("Spend anomaly: ")
    contributors = message["text"].split("Top contributors: ")[1]
    assert contributors.startswith("feature doc-summarise +$")
    assert "api key apikey_platform +$" in contributors and "model claude-sonnet-4-5 +$" in contributors


def test_the_alert_says_what_was_spent_what_was_expected_and_what_moved(ch, slack, ticks):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    ticks.slack = SlackResource(bot_token=TOKEN, api_url=slack.base_url, dagster_ui_url="http://dagster.local:3000")
    ticks.tick(NOW)
    [message] = slack.delivered
    # hand computation in test_spend_anomalies.py: $79.20 instead of $43.20, spread $4.32, score 8.33
    assert message["text"] == (
        "Spend anomaly: the organisation spent $79.20 in the last 3 hours (2026-11-18, 11:00-14:00 UTC), expected "
        "$25.92-$60.48 (median $43.20 of the same hours of the 4 previous Wednesdays; score 8.3). Top contributors: "
        "feature doc-summarise +$36.00 ($43.20 vs $7.20); api key apikey_platform +$36.00 ($43.20 vs $7.20); "
        "model claude-sonnet-4-5 +$36.00 ($69.60 vs $33.60).")
    header, section, context, actions = message["blocks"]
    assert header["text"]["text"] == ":chart_with_upwards_trend: Spend anomaly: the organisation"
    assert section["fields"][5]["text"] == "*Top contributor*\nfeature doc-summarise +$36.00 ($43.20 vs $7.20)"
    assert context["elements"][0]["text"] == (
        "Baseline: the same hours of the 4 previous Wednesdays · alerted once per scope and day")
    assert actions["elements"][0]["url"] == "http://dagster.local:3000/assets/spend_anomalies"
    keys = ch.query_rows("SELECT alert_key FROM alerts_sent FINAL ORDER BY alert_key")
    assert keys == [("anomaly:spend:2026-11-18:cell:data|doc-summarise||apikey_platform|claude-sonnet-4-5",),
                    ("anomaly:spend:2026-11-18:org:",)]


@pytest.mark.parametrize("weekend", [1.0, 0.2], ids=["steady", "weekly pattern"])
def test_steady_or_weekly_patterned_traffic_sends_nothing(ch, slack, ticks, weekend):
    write_traffic(ch, hourly_spend(HISTORY, MIDNIGHT, weekend=weekend, noise=0.15, seed=41), MIDNIGHT)
    ticks.every(timedelta(hours=3), MIDNIGHT - timedelta(days=1), MIDNIGHT)  # each hourly tick: test_spend_anomalies
    assert slack.received == []


def test_a_second_feature_rising_later_the_same_day_is_a_second_alert(ch, slack, ticks):
    later = Spike("ticket-triage", NOW + timedelta(hours=2), NOW + timedelta(hours=6), 5.0)
    write_traffic(ch, hourly_spend(HISTORY, MIDNIGHT, noise=0, spikes=(SPIKE, later)), MIDNIGHT)
    ticks.every(timedelta(hours=1), NOW - timedelta(hours=2), NOW + timedelta(hours=6))
    tops = [m["text"].split("Top contributors: ")[1].split(" +")[0] for m in slack.delivered]
    assert tops == ["feature doc-summarise", "feature ticket-triage"]


def test_a_reset_cursor_or_a_restarted_daemon_sends_nothing_again(ch, slack, ticks):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    ticks.tick(NOW)
    ticks.cursor = None
    ticks.tick(NOW + timedelta(minutes=1))
    ticks.instance = DagsterInstance.ephemeral()
    ticks.tick(NOW + timedelta(minutes=2))
    assert len(slack.received) == 1


def test_a_cache_break_is_alerted_once_with_the_dollars_lost(ch, slack, ticks):
    write_days(ch, "review", "claude-opus-4-1", opus(10_000_000, 1_000_000), opus(10_000_000, 8_000_000))
    ticks.tick(datetime(2026, 11, 18, 7, tzinfo=UTC))
    ticks.tick(datetime(2026, 11, 18, 8, tzinfo=UTC))
    ticks.tick(datetime(2026, 11, 19, 7, tzinfo=UTC))  # the day before yesterday is still checked: nothing new
    [message] = slack.delivered
    # test_cache_breaks.py: 7M unread writes beyond the usual 10 %, at $3.75 per million above the input price
    assert message["text"] == (
        f"Cache break: search/review: its share of cache writes never read rose to 80.0% on {BROKEN} (usually "
        "10.0%, the median of the 4 previous Tuesdays): $26.25 lost that day. Where: claude-opus-4-1 $26.25.")
    assert ch.query_rows("SELECT alert_key, kind FROM alerts_sent FINAL") == [
        ("anomaly:cache_unread_writes:2026-11-17:feature:search/review", "cache_unread_writes")]


def test_without_an_anomalies_section_nothing_is_checked(ch, slack, ticks, tmp_path):
    write_traffic(ch, hourly_spend(HISTORY, NOW, noise=0, spikes=(SPIKE,)), NOW)
    ticks.config = tmp_path / "empty.yaml"
    ticks.config.write_text("budgets: []\n")
    assert ticks.tick(NOW).skip_message == "no anomalies section in LEDGER_CONFIG"
    assert slack.received == []


def test_a_bad_anomalies_section_fails_the_tick_naming_the_file_and_field(ch, slack, ticks):
    section = {"slack_channel": "#finops", "spend": {"scopes": ["org", "teams"]}}
    ticks.config.write_text(yaml.safe_dump({"anomalies": section}))
    with pytest.raises(LedgerConfigError) as failure:
        ticks.tick(NOW)
    assert str(failure.value) == (f"{ticks.config}: anomalies.spend.scopes.1: Input should be 'org', 'workspace', "
                                  "'team', 'feature', 'api_key' or 'model'")
    assert slack.received == []
