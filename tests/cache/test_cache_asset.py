"""Specification of the ``cache_opportunities`` asset: a Dagster materialisation with the top opportunities."""

from __future__ import annotations

from datetime import timedelta

from allocation_data import with_list_prices
from cache_data import every, send
from dagster import DagsterInstance, materialize
from dagster_cli import run_dagster

from pipelines.cache.assets import cache_opportunities
from pipelines.ledger_config import LedgerConfig


def test_the_asset_shows_the_top_opportunities_with_their_estimated_monthly_saving(ch, tmp_path, monkeypatch):
    with_list_prices(ch)
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    # Sonnet 4.5, 10,000-token prefix, 10 uses 30 s apart: saves $0.2355 with a 5m cache
    # (tests/test_cache_opportunities.py); the window is 30 days, so that is also the monthly estimate.
    send(ch, every(timedelta(seconds=30), 10))
    result = materialize([cache_opportunities], resources={"clickhouse": ch, "ledger_config": LedgerConfig()},
                         instance=DagsterInstance.ephemeral())
    metadata = result.asset_materializations_for_node("cache_opportunities")[0].metadata
    assert metadata["opportunities"].value == 1
    assert metadata["estimated_monthly_saving_usd"].value == "$0.24"
    table = metadata["top_opportunities"].value
    assert "| 1 | search | query-rewrite | claude-sonnet-4-5-20250929 | prefix-a | 10,000 | 10 | 5m | 1 / 9 | $0.24 |" \
        in table


def test_the_asset_runs_on_an_empty_database(ch, tmp_path, monkeypatch):
    with_list_prices(ch)
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    result = materialize([cache_opportunities], resources={"clickhouse": ch, "ledger_config": LedgerConfig()},
                         instance=DagsterInstance.ephemeral())
    metadata = result.asset_materializations_for_node("cache_opportunities")[0].metadata
    assert (metadata["window"].value, metadata["opportunities"].value) == ("no usage events", 0)
    assert metadata["top_opportunities"].value == "no opportunities"


def test_the_dagster_cli_runs_the_cache_analysis_job_of_the_project_definitions(tmp_path, ch):
    completed = run_dagster("job", "execute", "-j", "cache_analysis", home=tmp_path, ch=ch,
                            LEDGER_CONFIG=str(tmp_path / "absent.yaml"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "RUN_SUCCESS" in completed.stderr
