"""The generic alert delivery layer (alert key -> message): dedup in alerts_sent, webhook and log channels."""

from __future__ import annotations

import pytest
from budget_helpers import emptied, utc
from slack_api_server import Reply, rate_limited, server_error

from pipelines.alerts.delivery import Alert, AlertLedger, deliver
from pipelines.alerts.slack import SlackResource, SlackWebhookSender
from pipelines.storage.clickhouse import ClickHouseResource

NOW = utc("2026-11-20 12:00")



@pytest.fixture
def ch(module_ch) -> ClickHouseResource:
    """One embedded database per module, emptied before each test."""
    return emptied(module_ch)


def alert(*keys: str, text: str = "rate limit headroom below 10 %") -> Alert:
    return Alert(keys, "rate_limit_health", "apikey_1", "#platform", text)


def test_an_alert_key_is_delivered_once_however_often_it_is_offered(ch, slack):
    ledger, sender = AlertLedger(ch), SlackWebhookSender(slack.webhook_url)
    first = deliver([alert("health:apikey_1:2026-11-20")], ledger, sender, NOW)
    second = deliver([alert("health:apikey_1:2026-11-20")], ledger, sender, NOW)
    assert (len(first.delivered), len(second.delivered), len(second.already_sent)) == (1, 0, 1)
    assert [r.body["text"] for r in slack.received] == ["rate limit headroom below 10 %"]
    assert [r.path for r in slack.received] == ["/services/T000/B000/secretpart"]
    assert ch.query_rows("SELECT alert_key, destination, channel FROM alerts_sent FINAL") == [
        ("health:apikey_1:2026-11-20", "webhook", "#platform")]


def test_a_message_settling_several_keys_is_sent_while_any_of_them_is_unrecorded(ch, slack):
    ledger, sender = AlertLedger(ch), SlackWebhookSender(slack.webhook_url)
    deliver([alert("k:1")], ledger, sender, NOW)
    report = deliver([alert("k:2", "k:1", text="two")], ledger, sender, NOW)
    assert [a.keys for a in report.delivered] == [("k:2", "k:1")]
    assert deliver([alert("k:2", "k:1", text="two")], ledger, sender, NOW).delivered == []
    assert sorted(ch.query_rows("SELECT alert_key, message_key FROM alerts_sent FINAL")) == [
        ("k:1", "k:1"), ("k:2", "k:2")]


def test_a_webhook_rate_limit_pauses_delivery_until_retry_after(ch, slack):
    slack.will_answer(rate_limited(20))
    ledger, sender = AlertLedger(ch), SlackWebhookSender(slack.webhook_url)
    alerts = [alert("a"), alert("b")]
    limited = deliver(alerts, ledger, sender, NOW)
    assert limited.retry_not_before == utc("2026-11-20 12:00:20")
    assert [a.message_key for a in limited.pending] == ["a", "b"]
    waiting = deliver(alerts, ledger, sender, utc("2026-11-20 12:00:10"), limited.retry_not_before)
    assert len(slack.received) == 1 and waiting.wait_reason == "rate limited until 12:00:20 UTC"
    done = deliver(alerts, ledger, sender, utc("2026-11-20 12:00:21"), limited.retry_not_before)
    assert [a.message_key for a in done.delivered] == ["a", "b"]
    assert [r.reply.status for r in slack.received] == [429, 200, 200]


def test_an_unavailable_webhook_leaves_every_alert_for_the_next_round(ch, slack):
    slack.will_answer(server_error(500))
    report = deliver([alert("a"), alert("b")], AlertLedger(ch), SlackWebhookSender(slack.webhook_url), NOW)
    assert (report.delivered, [a.message_key for a in report.pending]) == ([], ["a", "b"])
    assert report.wait_reason == "channel unavailable: HTTP 500"
    assert AlertLedger(ch).sent(["a", "b"]) == set()


def test_a_rejecting_webhook_names_the_error_but_never_the_secret_url(ch, slack):
    slack.will_answer(Reply(404, "no_service"))
    report = deliver([alert("a"), alert("b")], AlertLedger(ch), SlackWebhookSender(slack.webhook_url), NOW)
    assert [(a.message_key, error) for a, error in report.rejected] == [
        ("a", "webhook answered HTTP 404: no_service"), ("b", "webhook answered HTTP 404: no_service")]
    assert len(slack.received) == 1  # the webhook itself is wrong: the other alert is not tried
    with pytest.raises(RuntimeError, match="rejected 2 alert") as failure:
        report.raise_for_rejected()
    assert "secretpart" not in str(failure.value)


def test_the_slack_resource_reads_the_environment_and_shows_secrets_as_variable_names(monkeypatch):
    for name in ("SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "SLACK_API_URL", "DAGSTER_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    assert SlackResource.from_env().destination == "log"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "https://hooks.example/services/x")
    assert SlackResource.from_env().destination == "webhook"
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:1/api/")
    resource = SlackResource.from_env()
    assert resource.destination == "slack" and resource.api_url == "http://127.0.0.1:1/api/"
    assert "xoxb-secret" not in repr(resource)
    assert resource.process_config_and_initialize().bot_token == "xoxb-secret"  # resolved only when used
