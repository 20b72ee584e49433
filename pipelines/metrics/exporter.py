"""Prometheus metrics (``ledger metrics``): budget spend and percent, rate-limit headroom and 429 share, ingest
lag and source freshness, read on every scrape from the rollups (``spend_hourly``, ``rate_limit_health_hourly``,
the Admin API tables, the landing zone's offsets), never from raw events. A scrape costs what a budget tick costs.

If the database cannot be read, the scrape still answers, with ``ledger_up 0`` and the error logged once per
change of cause, so Prometheus alerts on the exporter rather than on a missing target.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pipelines.budgets.model import Budget
from pipelines.budgets.status import read_budget_statuses
from pipelines.reports.freshness import source_freshness
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)
log = logging.getLogger(__name__)

RATE_WINDOW = timedelta(hours=1)
SPEND_SOURCE = "spend_hourly (budgets)"


def _gauge(name: str, documentation: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


class LedgerCollector(Collector):
    """Builds every metric from the database at scrape time."""

    def __init__(self, ch: ClickHouseResource, budgets: Callable[[], list[Budget]],
                 now: Callable[[], datetime] = lambda: datetime.now(UTC), rate_window: timedelta = RATE_WINDOW
                 ) -> None:
        self.ch = ch
        self.budgets = budgets
        self.now = now
        self.rate_window = rate_window
        self._last_error = ""

    def collect(self) -> Iterator[Metric]:
        up = _gauge("ledger_up", "1 when the last scrape could read the database, else 0.", [])
        try:
            metrics = list(self._metrics())
        except Exception as exc:  # the scrape answers; the cause is logged once
            if str(exc) != self._last_error:
                log.error("metrics: cannot read the database: %s", exc)
            self._last_error = str(exc)
            up.add_metric([], 0)
            yield up
            return
        self._last_error = ""
        up.add_metric([], 1)
        yield up
        yield from metrics

    def _metrics(self) -> Iterator[Metric]:
        now = self.now()
        budgets = self.budgets()
        since = now.replace(minute=0, second=0, microsecond=0) - self.rate_window
        with self.ch.connect() as client:
            statuses = read_budget_statuses(client, budgets, now)
            rates = client.query(sql("rate_limit_recent"), parameters={"since": since}).result_rows
        spend = _gauge("ledger_budget_spend_usd", "Spend counted against a budget in its period (USD).",
                       ["budget", "period", "scope"])
        amount = _gauge("ledger_budget_amount_usd", "The budget's amount (USD).", ["budget", "period"])
        percent = _gauge("ledger_budget_percent", "Spend as a percentage of the budget's amount.", ["budget", "period"])
        current = _gauge("ledger_budget_period_current", "1 for the running period, 0 for one that ended.",
                         ["budget", "period"])
        for status in statuses:
            labels = [status.budget.id, status.period.label]
            spend.add_metric([*labels, status.budget.describe_scope()], float(status.spend_usd))
            amount.add_metric(labels, float(status.budget.amount_usd))
            percent.add_metric(labels, float(status.percent))
            current.add_metric(labels, 1 if status.is_current else 0)
        yield from (spend, amount, percent, current)

        window = f"{int(self.rate_window.total_seconds() // 3600)}h"
        calls = _gauge("ledger_rate_limit_requests", f"Calls per model and API key in the last {window} and this "
                       "hour.", ["model", "api_key"])
        share = _gauge("ledger_rate_limit_429_share", "Share of those calls answered 429 (0..1).", ["model", "api_key"])
        requests_room = _gauge("ledger_rate_limit_requests_headroom", "Least requests remaining / limit seen (0..1).",
                               ["model", "api_key"])
        tokens_room = _gauge("ledger_rate_limit_tokens_headroom", "Least tokens remaining / limit seen (0..1).",
                             ["model", "api_key"])
        for model, key, requests, rate, request_headroom, token_headroom in rates:
            labels = [model, key or "(console)"]
            calls.add_metric(labels, requests)
            share.add_metric(labels, rate)
            if request_headroom is not None:
                requests_room.add_metric(labels, request_headroom)
            if token_headroom is not None:
                tokens_room.add_metric(labels, token_headroom)
        yield from (calls, share, requests_room, tokens_room)

        freshness = _gauge("ledger_source_freshness_seconds", "Seconds since the end of the source's newest data "
                           "(else since it was last written).", ["source"])
        until = _gauge("ledger_source_data_until_timestamp_seconds", "End of the source's newest data (Unix time).",
                       ["source"])
        lag = _gauge("ledger_ingest_lag_seconds", "Seconds between now and the end of the newest hour of spend the "
                     "budgets see (spend_hourly): how late budget alerts can be.", [])
        for fresh in source_freshness(self.ch):
            seconds = fresh.age_s(now)
            if seconds is not None:
                freshness.add_metric([fresh.source], seconds)
            if fresh.data_until is not None:
                until.add_metric([fresh.source], fresh.data_until.timestamp())
            if fresh.source == SPEND_SOURCE and seconds is not None:
                lag.add_metric([], seconds)
        yield from (freshness, until, lag)


def serve(collector: LedgerCollector, host: str, port: int) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``/metrics`` on ``host:port`` in a background thread (prometheus-client's own server)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return start_http_server(port, addr=host, registry=registry)
