"""The anomaly assets through Dagster: materialised in process, with their tables and metadata, and by the real
``dagster`` CLI against the code location."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from anomaly_traffic import Spike, hourly_spend, write_traffic
from clickhouse_databases import server_env
from dagster import materialize
from test_cache_breaks import opus, write_days

from pipelines.alerts.clock import Clock
from pipelines.anomalies.assets import cache_breaks, spend_anomalies
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.settings import PROJECT_ROOT

NOW = datetime(2026, 11, 18, 14, tzinfo=UTC)
SPIKE = Spike("doc-summarise", NOW - timedelta(hours=5), NOW, 6.0)


def test_the_assets_write_their_tables_and_show_the_anomalies(ch, tmp_path):
    write_traffic(ch, hourly_spend(datetime(2026, 10, 14, tzinfo=UTC), NOW, noise=0, spikes=(SPIKE,)), NOW)
    write_days(ch, "review", "claude-opus-4-1", opus(10_000_000, 1_000_000), opus(10_000_000, 8_000_000))
    result = materialize([spend_anomalies, cache_breaks], resources={
        "clickhouse": ch, "clock": Clock(frozen_at=NOW.isoformat()),
        "ledger_config": LedgerConfig(path=str(tmp_path / "no-config.yaml"))})  # no section: the default lines
    assert result.success
    spend = result.asset_materializations_for_node("spend_anomalies")[0].metadata
    assert (spend["anomalies"].value, spend["incidents"].value, spend["excess_usd"].value) == (6, 1, "$36.00")
    assert ("| 2026-11-18 | the organisation | in the last 3 hours (2026-11-18, 11:00-14:00 UTC) | $79.20 | "
            "$25.92-$60.48 | 8.3 | feature doc-summarise +$36.00") in spend["anomalies_table"].value
    rows = ch.query_rows("SELECT scope, target, actual_usd, reported_as FROM spend_anomalies ORDER BY scope")
    assert rows[:2] == [("api_key", "apikey_platform", Decimal("43.2"), "anomaly:spend:2026-11-18:org:"),
                        ("feature", "doc-summarise", Decimal("43.2"), "anomaly:spend:2026-11-18:org:")]
    cache = result.asset_materializations_for_node("cache_breaks")[0].metadata
    assert (cache["cache_breaks"].value, cache["lost_usd"].value) == (1, "$26.25")
    assert ch.query_rows("SELECT kind, team, feature, lost_usd, models FROM cache_breaks") == [
        ("cache_unread_writes", "search", "review", Decimal("26.25"),
         [{"model": "claude-opus-4-1", "lost_usd": Decimal("26.25")}])]


def test_the_refresh_job_materialises_both_assets():
    job = defs.resolve_job_def("refresh_anomalies")
    assert sorted(key.to_user_string() for key in job.asset_layer.executable_asset_keys) == [
        "cache_breaks", "spend_anomalies"]


def test_the_dagster_cli_materialises_the_spend_anomalies_of_the_code_location(tmp_path, ch):
    # the code location's clock is the wall clock: the traffic ends at the current hour
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    spike = Spike("doc-summarise", now - timedelta(hours=3), now, 20.0)  # +$34.20 even at night
    write_traffic(ch, hourly_spend(now - timedelta(days=36), now, noise=0, spikes=(spike,)), now)
    config = tmp_path / "ledger.yaml"
    config.write_text(yaml.safe_dump({"anomalies": {"slack_channel": "#finops"}}))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    environment = {**os.environ, **server_env(ch), "LEDGER_CONFIG": str(config), "DAGSTER_HOME": str(tmp_path)}
    for name in ("KAFKA_BOOTSTRAP_SERVERS", "LEDGER_KAFKA_TOPIC"):
        environment.pop(name, None)
    done = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "asset", "materialize", "-m", "pipelines.definitions",
         "--select", "spend_anomalies"],
        cwd=PROJECT_ROOT, env=environment, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    [(scope, target, reported)] = ch.query_rows(
        "SELECT scope, target, reported_as FROM spend_anomalies WHERE scope = 'feature'")
    assert (scope, target, reported.startswith(f"anomaly:spend:{(now - timedelta(seconds=1)).date()}:")) == (
        "feature", "doc-summarise", True)
