"""The ``anomaly_alerts`` sensor: each spend anomaly (one message per incident) and each cache break to Slack
exactly once, through the delivery the budget alerts use (``alerts_sent`` is the record; the cursor only
remembers a Slack 429's Retry-After). A tick reads the spend and cache rollups only, never raw events."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertLedger, DeliveryReport, deliver
from pipelines.alerts.slack import SlackResource
from pipelines.anomalies.cache import find_cache_breaks
from pipelines.anomalies.config import Anomalies, AnomaliesConfig
from pipelines.anomalies.messages import candidate_keys, due_alerts
from pipelines.anomalies.spend import find_spend_anomalies, incidents
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource


@dataclass(frozen=True)
class AnomalyCheck:
    incidents: int
    cache_breaks: int
    report: DeliveryReport

    def summary(self) -> str:
        return (f"{self.incidents} spend anomaly incidents, {self.cache_breaks} cache breaks; "
                f"alerts: {self.report.summary()}")


def check_anomalies(
    clickhouse: ClickHouseResource, slack: SlackResource, config: Anomalies, now: datetime, log: Any,
    retry_not_before: datetime | None = None,
) -> AnomalyCheck:
    """One round: anomalies and cache breaks from the rollups, the ledger's record of them, delivery."""
    ledger = AlertLedger(clickhouse)
    with clickhouse.connect() as client:  # one short session for the reads; none is held while sending
        found = incidents(find_spend_anomalies(client, now, config))
        breaks = find_cache_breaks(client, now, config)
        settled = ledger.sent(candidate_keys(found, breaks), client)
    alerts = due_alerts(found, breaks, settled, config.slack_channel, slack.dagster_ui_url)
    report = deliver(alerts, ledger, slack.sender(log), now, retry_not_before, log, settled)
    return AnomalyCheck(len(found), len(breaks), report)


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends each spend anomaly (per scope and day: yesterday, today so far or the last hours above "
    "the same hours of the same weekday over the baseline weeks; one message per incident, naming the key, "
    "model or feature that moved) and each cache break (hit ratio dropped, writes no longer read) to Slack "
    "exactly once; reads only the spend and cache rollups. Lines in the anomalies section of LEDGER_CONFIG.",
)
def anomaly_alerts(
    context: SensorEvaluationContext, clickhouse: ClickHouseResource, slack: SlackResource, clock: Clock,
    ledger_config: LedgerConfig,
):
    config = ledger_config.section(AnomaliesConfig).anomalies
    if config is None:
        return SkipReason("no anomalies section in LEDGER_CONFIG")
    waiting = json.loads(context.cursor).get("retry_not_before") if context.cursor else None
    check = check_anomalies(clickhouse, slack, config, clock.now(), context.log,
                            datetime.fromisoformat(waiting) if waiting else None)
    retry = check.report.retry_not_before
    context.update_cursor(json.dumps({"retry_not_before": retry.isoformat() if retry else None}))
    check.report.raise_for_rejected()
    return SkipReason(check.summary())
