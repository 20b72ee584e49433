"""Crash safety of alert delivery: a real process delivering a round of 30 alerts to a local Slack webhook is
SIGKILLed in the middle, and the next delivery completes the round. Every alert key ends up recorded once and
every message reaches Slack. The one message in flight at the kill (accepted by Slack, not yet recorded) may arrive
twice, the window pipelines/alerts/delivery.py documents; no other message does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from budget_helpers import utc
from clickhouse_databases import server_env

from pipelines.alerts.delivery import Alert, AlertLedger, deliver
from pipelines.alerts.slack import SlackWebhookSender
from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

ALERTS = 30
NOW = utc("2026-11-20 12:00")
# argv: webhook URL
DELIVER = f"""
import sys
from datetime import UTC, datetime
from pipelines.alerts.delivery import Alert, AlertLedger, deliver
from pipelines.alerts.slack import SlackWebhookSender
from pipelines.storage.clickhouse import ClickHouseResource
alerts = [Alert((f"budget:{{i}}",), "budget_threshold", "b", "#c", f"alert {{i}}") for i in range({ALERTS})]
ch = ClickHouseResource.from_env()
with ch.connect():
    deliver(alerts, AlertLedger(ch), SlackWebhookSender(sys.argv[1]), datetime.now(UTC))
"""


@pytest.mark.parametrize("killed_after", [3, 11, 19, 27])  # messages Slack had received when the kill was sent
def test_a_delivery_killed_midway_loses_no_alert_and_repeats_at_most_the_one_in_flight(ch: ClickHouseResource,
                                                                                       slack, killed_after):
    child = subprocess.Popen([sys.executable, "-c", DELIVER, slack.webhook_url], cwd=PROJECT_ROOT,
                             env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **server_env(ch)},
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(slack.received) < killed_after:
        assert child.poll() is None and time.monotonic() < deadline, "the delivery ended before it was killed"
        time.sleep(0.001)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    [[recorded]] = ch.query_rows("SELECT count() FROM alerts_sent")
    assert recorded < ALERTS

    alerts = [Alert((f"budget:{i}",), "budget_threshold", "b", "#c", f"alert {i}") for i in range(ALERTS)]
    report = deliver(alerts, AlertLedger(ch), SlackWebhookSender(slack.webhook_url), NOW)

    assert len(report.delivered) == ALERTS - recorded  # exactly the unrecorded ones, none of the recorded
    assert ch.query_rows("SELECT count(), uniqExact(alert_key) FROM alerts_sent") == [(ALERTS, ALERTS)]
    texts = Counter(r.body["text"] for r in slack.received)
    assert set(texts) == {f"alert {i}" for i in range(ALERTS)}
    assert sum(texts.values()) - ALERTS == sum(1 for n in texts.values() if n > 1) <= 1
