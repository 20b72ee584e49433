"""`make demo` finds its planted anomaly whatever the weekday and hour it runs.

The demo organisation's traffic (demo/organisation.py, with ``PLANTED_SPIKE`` on the day before the frozen clock's)
is written for the demo's window (the previous month up to the last whole hour), ingested and priced by the
pipeline (event-priced spend, as the budgets read it for hours the Admin API has not reported), and one round of
anomaly alerts with the demo's lines (ledger.yaml) runs at the frozen instant: one incident, on yesterday, named
by the spiking feature, alerted once. Just after midnight UTC today holds no traffic yet; at the weekend the
demo's traffic runs at a third, which once made a Sunday's spike smaller than the $10 lines."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from demo.events import demo_window, write_demo_events
from demo.organisation import PLANTED_SPIKE
from pipelines.alerts.slack import SlackResource
from pipelines.anomalies.config import AnomaliesConfig
from pipelines.anomalies.sensors import check_anomalies
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.events.ingest import ingest_landing_zone
from pipelines.ledger_config import LedgerConfig
from pipelines.pricing.assets import load_prices
from pipelines.settings import PROJECT_ROOT

MONDAY = datetime(2026, 12, 7, tzinfo=UTC)
# Each weekday just after midnight (yesterday whole, today empty) and in the afternoon (today's traffic too).
CLOCKS = [MONDAY + timedelta(days=day, hours=hours, minutes=5) for day in range(7) for hours in (0, 15)]


@pytest.mark.parametrize("now", CLOCKS, ids=lambda now: f"{now:%a-%H%M}")
def test_the_planted_spike_is_one_incident_alerted_once_on_any_day_at_any_hour(ch, tmp_path, slack, now):
    start, end = demo_window(now)
    write_demo_events(tmp_path / "events", start, end, today=now.date())
    load_prices(ch)
    ingest_landing_zone(ch, tmp_path / "events")
    refresh_spend_rollup(ch, now)
    config = LedgerConfig(path=str(PROJECT_ROOT / "ledger.yaml")).section(AnomaliesConfig).anomalies
    assert config is not None
    sender = SlackResource(bot_token="xoxb-test-token", api_url=slack.base_url)

    check = check_anomalies(ch, sender, config, now, logging.getLogger("anomaly_alerts"))

    assert check.incidents == 1
    [message] = [r.body["text"] for r in slack.received]
    yesterday = (now - timedelta(days=1)).date()
    assert f"on {yesterday} (the whole day)" in message
    assert f"Top contributors: feature {PLANTED_SPIKE.feature} +$" in message
