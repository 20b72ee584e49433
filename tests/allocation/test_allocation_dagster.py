"""Specification of the allocation assets and their checks, run through Dagster."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from allocation_data import HOUR, OCTOBER, admin_usage, cost_report, usage_event, write_config
from dagster import AssetCheckSeverity, AssetKey, DagsterInstance, build_schedule_context, materialize
from dagster_cli import run_dagster

from pipelines.allocation.assets import allocation, chargeback, chargeback_export, focus_export
from pipelines.allocation.definitions import allocation_schedule
from pipelines.ledger_config import LedgerConfig
from pipelines.reports.status import status_report

PARTITION = "2026-10-01"


@pytest.fixture
def env(priced, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(write_config(tmp_path / "ledger.yaml", shared_cost_policy="proportional")))
    monkeypatch.setenv("LEDGER_EXPORT_DIR", str(tmp_path / "exports"))
    return priced


def run(ch, raise_on_error: bool = True, instance: DagsterInstance | None = None):
    return materialize([allocation, chargeback, chargeback_export, focus_export], partition_key=PARTITION,
                       resources={"clickhouse": ch, "ledger_config": LedgerConfig()},
                       instance=instance or DagsterInstance.ephemeral(),
                       raise_on_error=raise_on_error)


def checks(result) -> dict[str, object]:
    return {evaluation.check_name: evaluation for evaluation in result.get_asset_check_evaluations()}


def test_a_month_runs_from_usage_to_export_with_all_checks_passing(env, tmp_path):
    admin_usage(env, input=1000, output=100)
    usage_event(env, "e1", "search", "query-rewrite", input=1000, output=100)
    cost_report(env, OCTOBER.replace(day=5), "ws1", "0.0015")
    result = run(env)
    assert result.success
    assert {name: e.passed for name, e in checks(result).items()} == {
        "allocation_sums_to_authority": True, "event_coverage_above_threshold": True,
        "event_overcount_below_threshold": True, "no_unknown_models": True, "cost_centres_assigned": True}
    assert (tmp_path / "exports" / "chargeback-2026-10.csv").read_text().splitlines()[1] == (
        "2026-10,CC-100 Search,search,query-rewrite,prod,claude-haiku-4-5-20251001,1000,0,0,0,100,0,0.00,0.00,"
        "0.000000,false,tokens,cost_report")
    focus = result.asset_materializations_for_node("focus_export")[0].metadata
    # 0.0015 USD is 0.00 to the cent: the FOCUS rows carry the chargeback's cents
    assert (focus["rows"].value, focus["billed_cost_usd"].value, focus["focus_version"].value) == (2, "0.00", "1.3")
    assert (tmp_path / "exports" / "focus-2026-10.parquet").exists()



def test_re_running_a_corrected_month_on_unchanged_data_changes_no_byte_of_any_file(env, tmp_path):
    admin_usage(env, input=1000, output=100)
    usage_event(env, "e1", "search", "query-rewrite", input=1000, output=100)
    cost_report(env, OCTOBER.replace(day=5), "ws1", "0.0015")
    run(env)  # October is over and fully reported: a final v1
    cost_report(env, OCTOBER.replace(day=5), "ws1", "0.0215")  # Anthropic restates the day: +$0.02, a v2
    run(env)
    exports = tmp_path / "exports"
    corrected = {path.name: path.read_bytes() for path in exports.iterdir()}
    assert json.loads(corrected["chargeback-2026-10.v2.manifest.json"])["supersedes"] == (
        "chargeback-2026-10.manifest.json")
    run(env)
    assert {path.name: path.read_bytes() for path in exports.iterdir()} == corrected

def test_an_unknown_model_fails_the_check_with_its_volumes_and_blocks_the_export(env, tmp_path):
    admin_usage(env, model="claude-mystery-9", input=1234, output=56)
    result = run(env, raise_on_error=False)
    unknown = checks(result)["no_unknown_models"]
    assert (unknown.passed, unknown.severity) == (False, AssetCheckSeverity.ERROR)
    assert unknown.metadata["unpriced_models"].value == ["claude-mystery-9"]
    assert "| claude-mystery-9 | unpriced | input | 1,234 | 0.00 |" in unknown.metadata["volumes"].value
    assert "| claude-mystery-9 | unpriced | output | 56 | 0.00 |" in unknown.metadata["volumes"].value
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert AssetKey("chargeback_export") not in materialized
    assert not (tmp_path / "exports" / "chargeback-2026-10.csv").exists()


def test_low_event_coverage_warns(env):
    admin_usage(env, input=1000)
    usage_event(env, "e1", "search", "query-rewrite", input=700)  # 70 % explained, threshold 80 %
    coverage = checks(run(env))["event_coverage_above_threshold"]
    assert (coverage.passed, coverage.severity) == (False, AssetCheckSeverity.WARN)
    assert coverage.metadata["coverage"].value == pytest.approx(0.7)
    assert coverage.description.startswith(
        "Events explain less than 80% of the Admin API's tokens for ws1 on 2026-10-05 (70.00%). Usually a service in "
        "that workspace emits no usage events: instrument it")
    assert "lower reconciliation.coverage_warn_below" in coverage.description


def test_ledger_status_lists_a_failing_check_with_its_month_and_its_advice(env):
    admin_usage(env, input=1000)
    usage_event(env, "e1", "search", "query-rewrite", input=700)  # 70 % explained, threshold 80 %
    instance = DagsterInstance.ephemeral()
    result = run(env, instance=instance)
    keys = [e.asset_check_key for e in result.get_asset_check_evaluations()]
    text = status_report(env, instance, keys, now=datetime(2026, 11, 5, 12, tzinfo=UTC))
    failing = text.split("monthly checks for 2026-10, 2026-11)\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split(": ", 1)[0] for line in failing] == [
        "WARN  allocation:event_coverage_above_threshold [2026-10-01]"]
    assert "for ws1 on 2026-10-05 (70.00%)" in failing[0]


def test_each_check_result_belongs_to_the_month_it_checked(env):
    """The UI then shows the result of the month finance signs, not of whichever month ran last."""
    admin_usage(env, input=1000)
    usage_event(env, "e1", "search", "query-rewrite", input=1000)
    evaluations = run(env).get_asset_check_evaluations()
    assert {evaluation.partition for evaluation in evaluations} == {PARTITION}


def test_event_over_count_above_two_percent_warns(env):
    admin_usage(env, input=1000)
    usage_event(env, "e1", "search", "query-rewrite", input=1030)  # 30 of 1030 event tokens: 2.9 %
    over = checks(run(env))["event_overcount_below_threshold"]
    assert (over.passed, over.severity) == (False, AssetCheckSeverity.WARN)
    assert over.metadata["overcount_tokens"].value == 30


def test_events_after_the_last_reported_hour_are_pending_not_over_count(env):
    admin_usage(env, input=1000)
    usage_event(env, "e1", "search", "query-rewrite", input=1000)
    usage_event(env, "e2", "search", "query-rewrite", input=5000, ts=HOUR + timedelta(hours=3))
    over = checks(run(env))["event_overcount_below_threshold"]
    assert over.passed
    assert (over.metadata["overcount_tokens"].value, over.metadata["pending_event_tokens"].value) == (0, 5000)


def test_the_daily_schedule_reruns_the_previous_month_during_the_first_week():
    early = list(allocation_schedule(build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 3, 6, 30, tzinfo=UTC))))
    later = list(allocation_schedule(build_schedule_context(
        scheduled_execution_time=datetime(2026, 11, 20, 6, 30, tzinfo=UTC))))
    assert [r.partition_key for r in early] == ["2026-11-01", "2026-10-01"]
    assert [r.partition_key for r in later] == ["2026-11-01"]


def test_the_dagster_cli_allocates_charges_back_and_exports_a_month(tmp_path, databases):
    config = write_config(tmp_path / "ledger.yaml")
    with databases.resource(tmp_path / "ledger") as ch:
        completed = run_dagster("job", "execute", "-j", "allocate_month", "--tags",
                                '{"dagster/partition": "2026-10-01"}', home=tmp_path, ch=ch,
                                LEDGER_CONFIG=str(config), LEDGER_EXPORT_DIR=str(tmp_path / "exports"))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "RUN_SUCCESS" in completed.stderr
    manifest = json.loads((tmp_path / "exports" / "chargeback-2026-10.manifest.json").read_text())
    assert (manifest["rows"], manifest["allocated_cost_usd"]) == (0, "0.00")  # a month without usage: no line


def test_chargeback_metadata_draws_each_team_as_a_bar_and_formats_the_numbers(env):
    admin_usage(env, output=200_000)  # Haiku 4.5 output at $5 per million: $1.00
    usage_event(env, "e1", "search", "query-rewrite", output=150_000)
    usage_event(env, "e2", "data", "etl", output=50_000)
    cost_report(env, OCTOBER.replace(day=5), "ws1", "1.00")
    result = run(env)
    meta = result.asset_materializations_for_node("chargeback")[0].metadata
    # search $0.75 is the longest bar (24 blocks); data $0.25 is a third of it (8 blocks).
    assert meta["by_team_chart"].value.splitlines() == [
        "| team | allocated USD | share |  |",
        "|---|---|---|---|",
        "| search | 0.75 | 75.0% | " + "█" * 24 + " |",
        "| data | 0.25 | 25.0% | " + "█" * 8 + " |",
    ]
    allocation_meta = result.asset_materializations_for_node("allocation")[0].metadata
    assert allocation_meta["tokens"].value == "200,000"
    export = result.asset_materializations_for_node("chargeback_export")[0].metadata
    assert export["statement"].value.endswith("statement-2026-10.html")


def test_a_check_table_says_how_many_rows_it_leaves_out(env):
    for n in range(21):  # 21 workspace-days without any event: coverage 0 % each
        admin_usage(env, workspace=f"ws{n:02}", input=1000)
    coverage = checks(run(env))["event_coverage_above_threshold"]
    table = coverage.metadata["below_threshold"].value
    assert table.endswith("\n\n20 of 21 shown (lowest coverage first).")
    assert table.count("| 2026-10-05 |") == 20
    assert coverage.metadata["days_x_workspaces_below"].value == 21
