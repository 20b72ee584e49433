"""Exactly-once alert delivery, generic over what is alerted on (alert key -> message).

An alert carries the keys it settles (for budgets: budget, period and threshold). Before a send the
``alerts_sent`` table is asked which keys are settled already; after the channel accepted the message,
every key is written there. The table, not a sensor cursor, is the source of truth: a daemon restart
or a reset cursor re-sends nothing, and a failed send is simply tried again on the next tick.

One window remains, as with any channel without an idempotency key: the channel accepted a message
but the process died before its keys were written; that message is sent again once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from clickhouse_connect.driver.client import Client

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

ALERT_COLUMNS = ["alert_key", "message_key", "kind", "subject", "destination", "channel", "text", "slack_ts",
                 "sent_at"]


@dataclass(frozen=True)
class Alert:
    keys: tuple[str, ...]  # every key this one message settles; the first names the message
    kind: str  # e.g. budget_threshold, budget_forecast
    subject: str  # what it is about, e.g. the budget id
    channel: str  # Slack channel (ignored by an incoming webhook)
    text: str  # plain text: the notification and fallback, and the log line
    blocks: tuple[dict[str, Any], ...] = ()  # Slack Block Kit

    @property
    def message_key(self) -> str:
        return self.keys[0]


@dataclass(frozen=True)
class Accepted:
    destination: str  # slack, webhook or log
    slack_ts: str = ""


@dataclass(frozen=True)
class RateLimited:
    retry_after_s: float


@dataclass(frozen=True)
class Unavailable:
    reason: str  # 5xx, network error, timeout: try again on a later tick


@dataclass(frozen=True)
class Rejected:
    error: str  # the channel refused for good (invalid_auth, channel_not_found, ...)
    affects_all: bool = False  # a bad token or webhook: every other send would fail the same way


SendOutcome = Accepted | RateLimited | Unavailable | Rejected


class AlertSender(Protocol):
    def send(self, alert: Alert) -> SendOutcome: ...


class AlertDeliveryError(RuntimeError):
    """The channel rejected alerts for a reason a retry cannot fix; the message says which and why."""


class AlertLedger:
    """The ``alerts_sent`` table: which alert keys were delivered."""

    def __init__(self, ch: ClickHouseResource) -> None:
        self._ch = ch

    def sent(self, keys: Sequence[str], client: Client | None = None) -> set[str]:
        """The recorded ones among ``keys`` (in ``client``'s open session when given)."""
        if not keys:
            return set()
        if client is None:
            with self._ch.connect() as client:
                return self.sent(keys, client)
        rows = client.query(sql("alerts_sent_of_keys"), parameters={"keys": list(keys)}).result_rows
        return {key for (key,) in rows}

    def record(self, alert: Alert, accepted: Accepted, keys: Sequence[str] | None = None) -> None:
        """Write ``keys`` (default: all of the alert's) as settled by this delivered message."""
        at = datetime.now(UTC)
        rows = [[key, alert.message_key, alert.kind, alert.subject, accepted.destination, alert.channel, alert.text,
                 accepted.slack_ts, at] for key in (alert.keys if keys is None else keys)]
        with self._ch.connect() as client:
            client.insert("alerts_sent", rows, column_names=ALERT_COLUMNS)

    def recent(self, since: datetime) -> list[tuple]:
        """(message key, kind, subject, destination, channel, text, keys, sent at) per message since ``since``."""
        return self._ch.query_rows(sql("alerts_sent_recent"), {"since": since})


@dataclass
class DeliveryReport:
    delivered: list[Alert] = field(default_factory=list)
    already_sent: list[Alert] = field(default_factory=list)
    pending: list[Alert] = field(default_factory=list)  # retried on a later tick
    rejected: list[tuple[Alert, str]] = field(default_factory=list)
    retry_not_before: datetime | None = None  # a rate limit asked to wait until then
    wait_reason: str = ""

    def summary(self) -> str:
        parts = [f"{len(self.delivered)} delivered"]
        if self.already_sent:
            parts.append(f"{len(self.already_sent)} already sent")
        if self.pending:
            parts.append(f"{len(self.pending)} pending ({self.wait_reason})")
        if self.rejected:
            parts.append(f"{len(self.rejected)} rejected")
        return ", ".join(parts)

    def raise_for_rejected(self) -> None:
        if self.rejected:
            details = "; ".join(f"{alert.message_key} to {alert.channel or 'the webhook'}: {error}"
                                for alert, error in self.rejected)
            raise AlertDeliveryError(
                f"the alert channel rejected {len(self.rejected)} alert(s), which will be retried but cannot "
                f"succeed until the configuration is fixed (Slack token, channel or webhook): {details}"
            )


def deliver(
    alerts: Sequence[Alert],
    ledger: AlertLedger,
    sender: AlertSender,
    now: datetime,
    not_before: datetime | None = None,
    log: logging.Logger | Any | None = None,
    settled: set[str] | None = None,
) -> DeliveryReport:
    """Send every alert not yet recorded, in order, and record each right after it was accepted.

    A rate limit or an unavailable channel stops this round (the rest waits for a later tick; after a
    429 not before its Retry-After has passed). A permanent rejection skips that alert and goes on.
    ``settled``: the recorded keys among the alerts' keys, if the caller just read them from ``ledger``.
    """
    log = log or logging.getLogger(__name__)
    report = DeliveryReport()
    if settled is None:
        settled = ledger.sent([key for alert in alerts for key in alert.keys])
    due = []
    for alert in alerts:
        (report.already_sent if set(alert.keys) <= settled else due).append(alert)
    if due and not_before is not None and now < not_before:
        report.pending, report.retry_not_before = due, not_before
        report.wait_reason = f"rate limited until {not_before:%H:%M:%S} UTC"
        return report
    for position, alert in enumerate(due):
        outcome = sender.send(alert)
        if isinstance(outcome, Accepted):
            ledger.record(alert, outcome, [key for key in alert.keys if key not in settled])
            report.delivered.append(alert)
            log.info("alert %s delivered to %s: %s", alert.message_key, outcome.destination, alert.text)
            continue
        if isinstance(outcome, Rejected):
            report.rejected.append((alert, outcome.error))
            log.error("alert %s rejected: %s", alert.message_key, outcome.error)
            if outcome.affects_all:
                report.rejected += [(other, outcome.error) for other in due[position + 1:]]
                break
            continue
        report.pending = list(due[position:])
        if isinstance(outcome, RateLimited):
            report.retry_not_before = now + timedelta(seconds=outcome.retry_after_s)
            report.wait_reason = f"rate limited, retry after {outcome.retry_after_s:g} s"
        else:
            report.wait_reason = f"channel unavailable: {outcome.reason}"
        log.warning("alert delivery paused, %d alert(s) wait for a later tick: %s", len(report.pending),
                    report.wait_reason)
        break
    return report
