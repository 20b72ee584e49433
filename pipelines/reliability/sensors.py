"""The ``rate_limit_alerts`` sensor: each rate-limit breach to Slack exactly once, through the delivery the
budget alerts use (``alerts_sent`` is the record; the cursor only remembers a Slack 429's Retry-After)."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertLedger, DeliveryReport, deliver
from pipelines.alerts.slack import SlackResource
from pipelines.ledger_config import LedgerConfig
from pipelines.reliability.config import RateLimits, RateLimitsConfig
from pipelines.reliability.health import HealthLines, current_breaches, current_limit_breaches
from pipelines.reliability.messages import breach_alert, limit_breach_alert
from pipelines.storage.clickhouse import ClickHouseResource

RECENT_HOURS = 2  # the current hour and the one before (its last minutes land after the hour turned)


def health_lines(config: RateLimits) -> HealthLines:
    return HealthLines(config.max_429_share, config.min_requests, config.min_headroom)


@dataclass(frozen=True)
class RateLimitCheck:
    breaches: int
    report: DeliveryReport

    def summary(self) -> str:
        return f"{self.breaches} rate-limit breaches in the last {RECENT_HOURS} hours; alerts: {self.report.summary()}"


def check_rate_limits(
    clickhouse: ClickHouseResource, slack: SlackResource, config: RateLimits, now: datetime, log: Any,
    retry_not_before: datetime | None = None,
) -> RateLimitCheck:
    """One round: breaches of the recent hours from ``rate_limit_health_hourly`` and, unless
    ``configured_limit_alert_share`` is null, from ``configured_limit_usage_hourly``; then delivery (what a tick
    does)."""
    lines = health_lines(config)
    breaches = current_breaches(clickhouse, now, lines, recent_hours=RECENT_HOURS)
    alerts = [breach_alert(b, config.slack_channel, lines, slack.dagster_ui_url) for b in breaches]
    share = config.configured_limit_alert_share
    if share is not None:
        over = current_limit_breaches(clickhouse, now, share, recent_hours=RECENT_HOURS)
        alerts += [limit_breach_alert(u, config.slack_channel, share, slack.dagster_ui_url) for u in over]
    report = deliver(alerts, AlertLedger(clickhouse), slack.sender(log), now, retry_not_before, log)
    return RateLimitCheck(len(alerts), report)


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends each rate-limit breach (429 rate or request / token headroom past the rate_limits lines of "
    "LEDGER_CONFIG, per hour, model and api key; a workspace or api key above configured_limit_alert_share of its "
    "configured limit, per hour, model group and limiter) to Slack exactly once; alerts_sent in ClickHouse is the "
    "record, so a restart or a reset cursor sends nothing twice.",
)
def rate_limit_alerts(
    context: SensorEvaluationContext, clickhouse: ClickHouseResource, slack: SlackResource, clock: Clock,
    ledger_config: LedgerConfig,
):
    config = ledger_config.section(RateLimitsConfig).rate_limits
    if config is None:
        return SkipReason("no rate_limits section in LEDGER_CONFIG")
    waiting = json.loads(context.cursor).get("retry_not_before") if context.cursor else None
    check = check_rate_limits(clickhouse, slack, config, clock.now(), context.log,
                              datetime.fromisoformat(waiting) if waiting else None)
    retry = check.report.retry_not_before
    context.update_cursor(json.dumps({"retry_not_before": retry.isoformat() if retry else None}))
    check.report.raise_for_rejected()
    return SkipReason(check.summary())
