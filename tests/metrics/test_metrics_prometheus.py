"""`ledger metrics` scraped by a real Prometheus on loopback: budget spend and percent, rate-limit 429 share
and headroom, ingest lag and source freshness, all from the rollups (raw events are never read)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from clickhouse_databases import server_env
from prometheus_server import PrometheusServer, free_port, prometheus_binary

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

LEDGER = Path(sys.executable).parent / "ledger"
SPEND_COLUMNS = ["hour", "team", "feature", "env", "workspace_id", "api_key_id", "source", "spend_usd",
                 "unpriced_units", "refreshed_at"]
HEALTH_COLUMNS = ["hour", "model", "api_key_id", "requests", "rate_limited", "rate_limited_share",
                  "requests_headroom_min", "tokens_headroom_min", "error_types", "computed_at"]
OLD_HOUR = datetime(2026, 10, 5, 10, tzinfo=UTC)


def this_hour() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


@pytest.fixture
def seeded(ch: ClickHouseResource, tmp_path: Path) -> ClickHouseResource:
    """Rollups only: spend of team search this hour, rate-limit health of two hours, one old Admin API hour; and
    raw usage events for team search that no metric may count."""
    hour, now = this_hour(), datetime.now(UTC)
    with ch.connect() as client:
        client.insert("spend_hourly", [
            [hour, "search", "query-rewrite", "prod", "ws1", "key1", "admin", Decimal("25"), 0, now],
            [hour, "search", "index-enrich", "prod", "ws1", "key1", "events", Decimal("15"), 0, now],
            [hour, "support", "triage", "prod", "ws2", "key2", "events", Decimal("99"), 0, now],
        ], column_names=SPEND_COLUMNS)
        client.insert("rate_limit_health_hourly", [
            [hour, "claude-haiku-4-5", "key1", 30, 9, 0.3, 0.5, None, {"rate_limit_error": 9}, now],
            [hour - timedelta(hours=1), "claude-haiku-4-5", "key1", 10, 1, 0.1, 0.3, 0.8, {"rate_limit_error": 1}, now],
        ], column_names=HEALTH_COLUMNS)
        client.insert("admin_usage_hourly", [[OLD_HOUR, "ws1", "key1", "claude-haiku-4-5", "standard", "0-200k",
                                              100, 0, 0, 0, 10, 0, now]],
                      column_names=["bucket_start", "workspace_id", "api_key_id", "model", "service_tier",
                                    "context_window", "uncached_input_tokens", "cache_read_input_tokens",
                                    "cache_write_5m_tokens", "cache_write_1h_tokens", "output_tokens",
                                    "web_search_requests", "extracted_at"])
        client.command("INSERT INTO usage_events (event_id, ts, team, feature, env, model, input_tokens) "
                       "VALUES ('e1', now64(3), 'search', 'query-rewrite', 'prod', 'claude-haiku-4-5', 999999999)")
    config = tmp_path / "ledger.yaml"
    config.write_text(yaml.safe_dump({"budgets": [
        {"id": "search-monthly", "scope": "team", "target": "search", "period": "month", "amount_usd": 200,
         "slack_channel": "#search"}]}))
    return ch


def start_exporter(ch: ClickHouseResource, tmp_path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, **server_env(ch), "LEDGER_CONFIG": str(tmp_path / "ledger.yaml")}
    exporter = subprocess.Popen([str(LEDGER), "metrics", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
                if reply.status == 200:
                    return exporter
        except OSError:
            pass
        if exporter.poll() is not None or time.monotonic() > deadline:
            exporter.kill()
            raise RuntimeError(f"ledger metrics did not start: {exporter.stderr.read()}")
        time.sleep(0.3)


def test_prometheus_scrapes_budget_rate_limit_and_freshness_metrics_from_the_rollups(seeded, tmp_path):
    if prometheus_binary() is None:
        pytest.fail("prometheus is not installed: apt-get install prometheus (.ci/run does)")
    port = free_port()
    started = datetime.now(UTC)
    exporter = start_exporter(seeded, tmp_path, port)
    # The scrape config of docs/monitoring/prometheus.yml, pointed at this exporter and scraping every second.
    config = yaml.safe_load((PROJECT_ROOT / "docs" / "monitoring" / "prometheus.yml").read_text())
    config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["scrape_configs"][0]["scrape_timeout"] = "1s"
    config["scrape_configs"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{port}"]
    try:
        with PrometheusServer(yaml.safe_dump(config), tmp_path / "prometheus") as prometheus:
            assert prometheus.wait_for("ledger_up") == {"": 1.0}
            period = f"{started:%Y-%m}"
            # search's two rollup rows this month: 25 + 15 = 40 USD of 200 = 20 %; the raw event is not spend,
            # support's 99 USD is not search's.
            assert prometheus.query("ledger_budget_spend_usd") == {
                f"budget=search-monthly,period={period},scope=team search": 40.0}
            assert prometheus.query("ledger_budget_percent") == {f"budget=search-monthly,period={period}": 20.0}
            assert prometheus.query("ledger_budget_amount_usd") == {f"budget=search-monthly,period={period}": 200.0}
            # Two hours of key1: (9 + 1) of (30 + 10) calls answered 429 = 0.25; least request headroom 0.3.
            labels = "api_key=key1,model=claude-haiku-4-5"
            assert prometheus.query("ledger_rate_limit_429_share") == {labels: 0.25}
            assert prometheus.query("ledger_rate_limit_requests") == {labels: 40.0}
            assert prometheus.query("ledger_rate_limit_requests_headroom") == {labels: 0.3}
            assert prometheus.query("ledger_rate_limit_tokens_headroom") == {labels: 0.8}
            # The Admin API's newest hour ended 2026-10-05 11:00 UTC: its age is at least that long ago.
            age = prometheus.query('ledger_source_freshness_seconds{source="admin_usage_hourly"}')
            [seconds] = age.values()
            assert seconds >= (started - OLD_HOUR - timedelta(hours=1)).total_seconds()
            until = prometheus.query('ledger_source_data_until_timestamp_seconds{source="admin_usage_hourly"}')
            assert list(until.values()) == [(OLD_HOUR + timedelta(hours=1)).timestamp()]
            # The spend rollup runs to the end of this hour: budgets are not late.
            assert prometheus.query("ledger_ingest_lag_seconds") == {"": 0.0}
    finally:
        exporter.terminate()
        exporter.wait(timeout=30)


def test_an_unreadable_database_answers_the_scrape_with_ledger_up_0(tmp_path):
    port = free_port()
    env = {**os.environ, "CLICKHOUSE_DSN": f"http://127.0.0.1:{free_port()}/db", "LEDGER_HOME": str(tmp_path)}
    exporter = subprocess.Popen([str(LEDGER), "metrics", "--port", str(port)], cwd=PROJECT_ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as reply:
                    body = reply.read().decode()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        assert "ledger_up 0.0" in body
        assert "ledger_budget_percent" not in body
    finally:
        exporter.terminate()
        _, err = exporter.communicate(timeout=30)
    assert "connection refused" in err
