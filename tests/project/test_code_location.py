"""The code location as a whole: a mistake in one section of LEDGER_CONFIG stops only what reads that section,
and the code location names it in one line when it loads; a source that is off is not in it at all."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from allocation_data import (
    CONFIG,
    HOUR,
    OCTOBER,
    admin_usage,
    cost_report,
    usage_event,
    with_list_prices,
    write_config,
)
from dagster import AssetKey, DagsterInstance, Definitions, materialize
from dagster_cli import run_dagster

from pipelines.alerts.clock import Clock
from pipelines.allocation.assets import allocation, chargeback, chargeback_export
from pipelines.budgets.assets import budget_status, spend_hourly
from pipelines.definitions import OPTIONAL_SOURCES, build_definitions
from pipelines.ledger_config import LedgerConfig
from pipelines.sources import OptionalSource

BAD_BUDGET = {"id": "b1", "scope": "team", "target": "search", "period": "day", "amount_usd": 0,
              "slack_channel": "#search"}
BAD_BUDGET_ERROR = "budgets.0: budget 'b1': amount_usd: Input should be greater than 0"


@pytest.fixture
def bad_budget_config(tmp_path: Path) -> Path:
    path = tmp_path / "ledger.yaml"
    path.write_text(yaml.safe_dump({**CONFIG, "budgets": [BAD_BUDGET]}))
    return path


def test_a_bad_budget_leaves_allocation_chargeback_and_export_runnable(ch, tmp_path, bad_budget_config, monkeypatch):
    with_list_prices(ch)
    admin_usage(ch, input=1000, output=100)
    usage_event(ch, "e1", "search", "query-rewrite", input=1000, output=100)
    cost_report(ch, HOUR.date(), "ws1", "0.0015")
    monkeypatch.setenv("LEDGER_EXPORT_DIR", str(tmp_path / "exports"))
    resources = {"clickhouse": ch, "ledger_config": LedgerConfig(path=str(bad_budget_config)),
                 "clock": Clock(frozen_at="2026-10-05T12:00:00+00:00")}
    result = materialize([allocation, chargeback, chargeback_export], partition_key=OCTOBER.isoformat(),
                         resources=resources, instance=DagsterInstance.ephemeral())
    assert result.success
    assert (tmp_path / "exports" / "chargeback-2026-10.csv").exists()

    budgets = materialize([spend_hourly, budget_status], resources=resources, instance=DagsterInstance.ephemeral(),
                          raise_on_error=False)
    assert not budgets.success
    [failure] = [event for event in budgets.all_events if event.is_step_failure]
    assert failure.step_key == "budget_status"
    assert BAD_BUDGET_ERROR in str(failure.event_specific_data.error)
    assert str(bad_budget_config) in str(failure.event_specific_data.error)


def test_loading_the_code_location_names_each_config_problem_in_one_line(tmp_path, bad_budget_config, ch):
    config = bad_budget_config.read_text().replace("owners:", "owner:")  # a misspelt section
    bad_budget_config.write_text(config)
    completed = run_dagster("definitions", "validate", home=tmp_path / "dagster", ch=ch,
                            LEDGER_CONFIG=str(bad_budget_config))
    assert completed.returncode == 0, completed.stderr[-3000:]
    problems = [line for line in (completed.stdout + completed.stderr).splitlines() if "LEDGER_CONFIG:" in line]
    assert len(problems) == 2
    assert f"{bad_budget_config}: {BAD_BUDGET_ERROR}" in problems[1]
    assert f"{bad_budget_config}: owner: Extra inputs are not permitted (a misspelt owners?)" in problems[0]


def test_a_process_that_loaded_the_code_location_exits_without_the_collectors_final_passes() -> None:
    """pipelines/definitions.py freezes the garbage collector at exit (the fixed cost of a run, docs/performance.md):
    an exit handler registered before the import runs after it and sees the objects frozen."""
    check = ("import atexit, gc; atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0)); "
             "import pipelines.definitions")
    completed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "frozen True"


def test_loading_the_code_location_imports_no_library_only_some_assets_need() -> None:
    """Every process that loads the code location pays for its imports (the fixed cost of a run,
    docs/performance.md): pyarrow and numpy (Parquet files, shipped lines) and altair (the statement's charts) are
    imported by what uses them."""
    check = "import sys, pipelines.definitions; print(sorted({'altair', 'numpy', 'pyarrow'} & set(sys.modules)))"
    completed = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True)
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def registered(defs: Definitions) -> set[str]:
    """Every asset, job, schedule and sensor of a code location, by name."""
    return ({key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()}
            | {job.name for job in defs.resolve_all_job_defs()} | {s.name for s in defs.schedules or ()}
            | {s.name for s in defs.sensors or ()})


def own(source: OptionalSource) -> set[str]:
    return ({key.to_user_string() for key in source.asset_keys()} | {job.name for job in source.defs.jobs or ()}
            | {s.name for s in source.defs.schedules or ()} | {s.name for s in source.defs.sensors or ()})


def test_a_source_that_is_off_has_nothing_in_the_code_location(tmp_path, monkeypatch):
    """Off (ledger.yaml as shipped), no asset of it shows every partition missing and no schedule of it ticks to
    skip: none of its definitions is there, and nothing waits on it."""
    monkeypatch.setenv("LEDGER_CONFIG", str(write_config(tmp_path / "ledger.yaml")))
    defs = build_definitions()
    present = registered(defs)
    for source in OPTIONAL_SOURCES:
        assert own(source) and own(source) & present == set()
        for reader in source.feeds:
            assert set(source.asset_keys()) & defs.resolve_asset_graph().get(reader).parent_keys == set()


def test_the_analytics_api_source_turned_on_joins_upstream_of_the_export(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(write_config(tmp_path / "ledger.yaml", analytics_api={"enabled": True})))
    defs = build_definitions()
    assert {"analytics_cost_daily", "collect_analytics_cost", "analytics_cost_schedule"} <= registered(defs)
    assert defs.resolve_asset_graph().get(AssetKey("chargeback_export")).parent_keys == {
        AssetKey("chargeback"), AssetKey("analytics_cost_daily")}
