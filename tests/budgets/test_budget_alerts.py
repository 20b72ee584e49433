"""The budget_alerts sensor against a local Slack Web API: each threshold once, in order, never lost."""

from __future__ import annotations

import socket

import pytest
from budget_helpers import Ticks, budget, emptied, write_config
from dagster import DagsterInstance
from slack_api_server import FakeSlack, api_error, rate_limited, server_error

from pipelines.alerts.delivery import AlertDeliveryError
from pipelines.alerts.slack import SlackResource
from pipelines.storage.clickhouse import ClickHouseResource

TOKEN = "xoxb-test-secret-token"



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    """One embedded database per module, emptied before each test."""
    return emptied(module_ch)


@pytest.fixture
def ticks(ch, slack, instance, tmp_path, monkeypatch) -> Ticks:
    write_config(tmp_path / "ledger.yaml", monkeypatch, budget())
    return Ticks(ch, SlackResource(bot_token=TOKEN, api_url=slack.base_url), instance)


def closed_port() -> int:
    """A local port nothing listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def texts(slack: FakeSlack) -> list[str]:
    return [body["text"].split(" for ")[0] for body in slack.delivered]


def test_each_threshold_is_sent_once_and_in_order(ch, slack, ticks):
    ticks.spend("2026-11-30 09:00", "400")
    ticks.tick("2026-11-30T23:00:00")
    assert slack.received == []
    for hour, usd in [("10:00", "150"), ("11:00", "250"), ("12:00", "150"), ("13:00", "70")]:
        ticks.spend(f"2026-11-30 {hour}", usd)  # month to date: 550, 800, 950, 1020 of 1000
        ticks.tick("2026-11-30T23:00:00")
    ticks.tick("2026-11-30T23:01:00")
    assert texts(slack) == [
        "Budget search-monthly at 55.0 % (crossed 50 %)",
        "Budget search-monthly at 80.0 % (crossed 75 %)",
        "Budget search-monthly at 95.0 % (crossed 90 %)",
        "Budget search-monthly at 102.0 % (crossed 100 %)",
    ]
    assert len(slack.received) == 4


def test_crossing_several_thresholds_in_one_tick_sends_one_message_naming_the_highest(ch, slack, ticks):
    ticks.spend("2026-11-30 09:00", "920")
    ticks.tick("2026-11-30T23:00:00")
    ticks.spend("2026-11-30 10:00", "85")
    ticks.tick("2026-11-30T23:01:00")
    assert texts(slack) == ["Budget search-monthly at 92.0 % (crossed 90 %)",
                            "Budget search-monthly at 100.5 % (crossed 100 %)"]  # 920, then 1005 of 1000
    sent = ch.query_rows("SELECT alert_key, message_key FROM alerts_sent FINAL ORDER BY alert_key")
    assert sent == [
        ("budget:search-monthly:2026-11:100", "budget:search-monthly:2026-11:100"),
        ("budget:search-monthly:2026-11:50", "budget:search-monthly:2026-11:90"),
        ("budget:search-monthly:2026-11:75", "budget:search-monthly:2026-11:90"),
        ("budget:search-monthly:2026-11:90", "budget:search-monthly:2026-11:90"),
    ]


def test_a_message_carries_block_kit_a_plain_text_fallback_and_a_link_to_the_dagster_ui(ch, slack, ticks):
    ticks.slack = SlackResource(bot_token=TOKEN, api_url=slack.base_url, dagster_ui_url="http://dagster.local:3000/")
    ticks.spend("2026-11-30 09:00", "550.5")
    ticks.tick("2026-11-30T23:00:00")
    [request] = slack.received
    assert request.path == "/api/chat.postMessage"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    body = request.body
    assert body["channel"] == "#search-costs"
    assert body["text"] == (
        "Budget search-monthly at 55.1 % (crossed 50 %) for 2026-11 (team search): $550.50 of $1,000.00 spent; "
        "projected $551.27 (55.1 %) by period end."
    )  # 550.5 after 29 days 23 hours of 30 days: 550.5 * 720 / 719 = 551.2656
    header, section, context, actions = body["blocks"]
    assert header["text"]["text"] == ":rotating_light: Budget search-monthly at 55.1 % (crossed 50 %)"
    assert [f["text"] for f in section["fields"]] == [
        "*Budget*\n`search-monthly`", "*Scope*\nteam search", "*Period*\n2026-11 (month, UTC)",
        "*Spend*\n$550.50 of $1,000.00", "*Percent*\n55.1 %", "*Projected period end*\n$551.27 (55.1 %)",
    ]
    assert context["elements"][0]["text"] == "Spend through 2026-11-30 10:00 UTC · thresholds 50 / 75 / 90 / 100 %"
    assert actions["elements"][0]["url"] == "http://dagster.local:3000/assets/budget_status"


def test_slack_429_is_retried_after_retry_after_and_delivered_once(ch, slack, ticks):
    slack.will_answer(rate_limited(30))
    ticks.spend("2026-11-30 09:00", "600")
    ticks.tick("2026-11-30T23:00:00")
    assert [r.reply.status for r in slack.received] == [429]
    ticks.tick("2026-11-30T23:00:20")  # within Retry-After: Slack is not asked again
    assert len(slack.received) == 1
    ticks.tick("2026-11-30T23:00:31")
    ticks.tick("2026-11-30T23:01:31")
    assert [r.reply.status for r in slack.received] == [429, 200]
    assert texts(slack) == ["Budget search-monthly at 60.0 % (crossed 50 %)"]


def test_slack_down_for_several_ticks_delivers_once_when_it_is_back(ch, slack, ticks):
    slack.will_answer(server_error(503), server_error(500), server_error(502))
    ticks.spend("2026-11-30 09:00", "600")
    for minute in range(5):
        ticks.tick(f"2026-11-30T23:0{minute}:00")
    assert [r.reply.status for r in slack.received] == [503, 500, 502, 200]
    assert texts(slack) == ["Budget search-monthly at 60.0 % (crossed 50 %)"]


def test_a_network_error_is_retried_on_the_next_tick(ch, slack, ticks):
    ticks.spend("2026-11-30 09:00", "600")
    ticks.slack = SlackResource(bot_token=TOKEN, api_url=f"http://127.0.0.1:{closed_port()}/api/")
    result = ticks.tick("2026-11-30T23:00:00")
    assert "pending (channel unavailable: network error (URLError))" in result.skip_message
    ticks.slack = SlackResource(bot_token=TOKEN, api_url=slack.base_url)
    ticks.tick("2026-11-30T23:01:00")
    ticks.tick("2026-11-30T23:02:00")
    assert texts(slack) == ["Budget search-monthly at 60.0 % (crossed 50 %)"]


def test_a_new_month_alerts_again_from_50_percent(ch, slack, ticks):
    ticks.spend("2026-11-30 09:00", "1200")
    ticks.tick("2026-11-30T23:00:00")
    ticks.spend("2026-12-01 09:00", "300")
    ticks.tick("2026-12-01T12:00:00")
    ticks.spend("2026-12-02 09:00", "300")
    ticks.tick("2026-12-02T12:00:00")
    assert [body["text"].split(" (team")[0] for body in slack.delivered] == [
        "Budget search-monthly at 120.0 % (crossed 100 %) for 2026-11",
        "Budget search-monthly at 60.0 % (crossed 50 %) for 2026-12",
    ]


def test_a_reset_cursor_or_a_restarted_daemon_sends_nothing_again(ch, slack, ticks):
    slack.will_answer(rate_limited(60))
    ticks.spend("2026-11-30 09:00", "800")
    ticks.tick("2026-11-30T23:00:00")
    ticks.tick("2026-11-30T23:01:01")
    ticks.cursor = None
    ticks.tick("2026-11-30T23:02:00")
    ticks.instance = DagsterInstance.ephemeral()
    ticks.tick("2026-11-30T23:03:00")
    assert [r.reply.status for r in slack.received] == [429, 200]
    assert texts(slack) == ["Budget search-monthly at 80.0 % (crossed 75 %)"]


def test_late_spend_for_the_month_that_just_ended_still_alerts_for_that_month(ch, slack, ticks):
    ticks.tick("2026-12-01T02:00:00")
    ticks.spend("2026-11-30 23:00", "510")  # the allocation of November's last hour arrives after midnight
    ticks.tick("2026-12-01T03:00:00")
    assert [body["text"] for body in slack.delivered] == [
        "Budget search-monthly at 51.0 % (crossed 50 %) for 2026-11 (team search): $510.00 of $1,000.00 spent; "
        "final (the period has ended).",
    ]
    fields = [f["text"] for f in slack.delivered[0]["blocks"][1]["fields"]]
    assert fields[-1] == "*Period end*\n$510.00 (final)"  # no projection for a period that has ended


def test_the_forecast_warning_is_sent_once_when_the_projection_passes_100_percent_first(ch, slack, ticks):
    ticks.spend("2026-11-10 09:00", "480")
    ticks.tick("2026-11-13T00:00:00")  # 12 of 30 days gone: 480 -> projected 1200
    ticks.spend("2026-11-13 09:00", "10")
    ticks.tick("2026-11-14T00:00:00")  # still projected over, not again
    ticks.spend("2026-11-14 09:00", "520")
    ticks.tick("2026-11-15T00:00:00")
    assert [body["text"] for body in slack.delivered] == [
        "Budget search-monthly is projected to exceed its amount for 2026-11 (team search): $480.00 of "
        "$1,000.00 spent (48.0 %) with 40 % of the period gone; projected $1,200.00 (120.0 %) by period end.",
        "Budget search-monthly at 101.0 % (crossed 100 %) for 2026-11 (team search): $1,010.00 of $1,000.00 "
        "spent; projected $2,164.29 (216.4 %) by period end.",
    ]


def test_no_forecast_in_the_first_fifth_of_the_period(ch, slack, ticks):
    ticks.spend("2026-11-02 09:00", "100")
    ticks.tick("2026-11-03T00:00:00")  # projected 1500 %, but only 2 days in
    assert slack.received == []


@pytest.mark.parametrize("error", ["invalid_auth", "channel_not_found"])
def test_a_configuration_error_from_slack_fails_the_tick_clearly_and_the_alert_waits(ch, slack, ticks, error):
    slack.will_answer(api_error(error))
    ticks.spend("2026-11-30 09:00", "600")
    with pytest.raises(AlertDeliveryError, match=error) as failure:
        ticks.tick("2026-11-30T23:00:00")
    assert "budget:search-monthly:2026-11:50 to #search-costs" in str(failure.value)
    assert TOKEN not in str(failure.value)
    ticks.tick("2026-11-30T23:01:00")  # fixed: the alert was not recorded as sent, so it goes out now
    assert texts(slack) == ["Budget search-monthly at 60.0 % (crossed 50 %)"]


def test_without_slack_alerts_go_to_the_log_and_the_alerts_table(ch, ticks, capfd):
    ticks.slack = SlackResource()
    ticks.spend("2026-11-30 09:00", "760")
    ticks.tick("2026-11-30T23:00:00")
    ticks.tick("2026-11-30T23:01:00")
    logged = capfd.readouterr().err
    assert logged.count("ALERT (no Slack configured) Budget search-monthly at 76.0 % (crossed 75 %) for 2026-11") == 1
    rows = ch.query_rows(
        "SELECT message_key, destination, channel FROM alerts_sent FINAL WHERE alert_key = message_key")
    assert rows == [("budget:search-monthly:2026-11:75", "log", "#search-costs")]
