"""A first run that reads right: `make demo` on a fresh clone prints one screen whose every command runs as
printed, `ledger sql` and `ledger report` work right after it, the statement opens in a real headless Chromium with
every chart drawn, and `make dev` afterwards shows the demo's runs as the latest ones (no empty ingest run,
nothing Unsynced, each monthly asset on the last final month)."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from browser import Chromium, chromium_binary
from dagster import AssetKey, DagsterInstance, SkipReason, build_sensor_context
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from demo_run import BIN, DemoRun

from demo.organisation import PLANTED_SPIKE
from pipelines.allocation.months import month_start
from pipelines.definitions import defs
from pipelines.events.definitions import landing_zone_sensor
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

SCREEN_LINES = 40
SCREEN_COLUMNS = 100
CHARTS = ("chart-spend", "chart-models", "chart-budgets", "chart-cache", "chart-reconciliation")


def last_month(today: date) -> date:
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def test_make_demo_prints_one_screen_and_sends_the_run_logs_to_a_file(demo: DemoRun):
    lines = demo.stdout.splitlines()
    assert len(lines) <= SCREEN_LINES, demo.stdout
    assert [line for line in lines if len(line) > SCREEN_COLUMNS] == []
    assert not [line for line in lines if " - DEBUG - " in line or " - INFO - " in line]
    assert lines[-4].startswith("Next: `make dev`")
    log = (demo.home / "logs" / "demo.log").read_text()
    assert " - DEBUG - ingest_usage_events - " in log
    assert " - DEBUG - allocate_month - " in log


def test_the_summary_counts_in_english_and_writes_money_with_the_sign_first(demo: DemoRun):
    assert re.findall(r"(?<![\d,.])1 [a-z]+s\b", demo.stdout) == []  # 1 hour, 1 incident
    assert "$-" not in demo.stdout


def test_every_table_the_demo_prints_says_what_it_omits(demo: DemoRun):
    assert " lines: .ledger/exports/chargeback-" in demo.stdout  # the chargeback by cost centre; its lines in the CSV
    assert "budgets     the current periods (" in demo.stdout  # the ended ones are in budget_status


def test_the_demo_finds_its_planted_spike_as_one_incident_named_by_its_feature(demo: DemoRun):
    """demo/organisation.py PLANTED_SPIKE: one feature called at many times its rate for six hours of yesterday
    (found on every weekday at any hour: tests/demo/test_planted_spike.py)."""
    assert " in 1 incident, " in demo.stdout
    assert f"Top contributors: feature {PLANTED_SPIKE.feature} +$" in demo.stdout


def test_the_demo_shows_claude_code_spend_per_team_and_the_configured_limit_headroom(demo: DemoRun):
    assert "claude code charged per team: " in demo.stdout
    assert " of a configured limit" in demo.stdout


def commands(text: str) -> list[str]:
    """The commands a text tells the user to run (between backquotes, over several lines if need be)."""
    return re.findall(r"`([^`]+)`", text, re.DOTALL)


def test_every_command_the_demo_prints_runs_as_printed_from_the_project_root(demo: DemoRun):
    printed = commands(demo.stdout)
    assert printed[0] == "make dev"  # a server: the UI's spec starts it (tests/project/test_dagster_instance.py)
    for command in printed[1:]:
        done = subprocess.run(command, shell=True, cwd=demo.home.parent, env=demo.env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, (command, done.stderr)


def test_the_first_query_the_demo_suggests_answers_with_the_chargeback_it_printed(demo: DemoRun):
    [query] = [c for c in commands(demo.stdout) if " sql " in c]
    done = subprocess.run(query, shell=True, cwd=demo.home.parent, env=demo.env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    answer = [line.rsplit(None, 1) for line in done.stdout.splitlines()[2:-1]]
    table = demo.stdout.split("            cost centre ", 1)[1].split("\nbudgets ", 1)[0].splitlines()[1:]
    printed = [line.strip().rsplit(None, 1) for line in table]
    assert answer == [[centre, usd.removeprefix("$")] for centre, usd in printed]
    assert [centre for centre, _ in answer] == sorted(centre for centre, _ in answer)  # in order, every time


def test_ledger_sql_right_after_the_demo_reconciles_the_chargeback_to_the_cost_report(demo: DemoRun):
    month = last_month(datetime.now(UTC).date())
    charged = demo.ledger("sql", "--format", "csv", "SELECT sum(allocated_cost_usd) AS usd FROM "
                          "finance_monthly_chargeback WHERE month = toStartOfMonth(today() - toIntervalMonth(1))")
    assert charged.returncode == 0, charged.stderr
    report = demo.ledger("sql", "--format", "csv", stdin=f"SELECT sum(amount_usd) AS usd FROM admin_cost_daily FINAL "
                         f"WHERE toStartOfMonth(date) = '{month.isoformat()}'")
    assert report.returncode == 0, report.stderr
    # Two independent sources: the chargeback lines (cents) and Anthropic's cost report (exact), same month.
    [header, charged_usd] = charged.stdout.splitlines()
    assert header == "usd"
    [_, report_usd] = report.stdout.splitlines()
    assert Decimal(charged_usd) == Decimal(report_usd).quantize(Decimal("0.01")) > 0


def test_the_statement_of_last_month_opens_in_chromium_with_every_chart_drawn(demo: DemoRun, tmp_path):
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run does)")
    month = last_month(datetime.now(UTC).date())
    done = demo.ledger("report", "--month", f"{month:%Y-%m}", "--cost-centres")
    assert done.returncode == 0, done.stderr
    statement = demo.home / "exports" / f"statement-{month:%Y-%m}.html"
    assert done.stdout.splitlines()[0] == f"statement {month:%Y-%m} (final, 5 charts):"
    assert done.stdout.splitlines()[1] == str(statement)
    assert len(done.stdout.splitlines()) == 2 + 5  # and one page per cost centre of ledger.yaml's five

    with Chromium(tmp_path / "profile") as browser:
        page = browser.open(statement.as_uri())
        state = page.wait_for("document.documentElement.dataset.charts !== 'pending' && "
                              "document.documentElement.dataset.charts", timeout_s=120)
        assert state == "rendered"
        drawn = page.evaluate("Object.fromEntries([...document.querySelectorAll('.chart')].map(d => "
                              "[d.id, d.querySelectorAll('svg path, svg line, svg rect').length]))")
        assert sorted(drawn) == sorted(CHARTS)
        assert all(marks > 5 for marks in drawn.values()), drawn
        assert page.requests == [statement.as_uri()]  # nothing fetched beyond the file itself
        shot = page.screenshot(demo.home / "screenshots" / f"statement-{month:%Y-%m}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000


def _instance(demo: DemoRun) -> DagsterInstance:
    return DagsterInstance.from_config(str(demo.dagster_home))


def test_make_dev_after_the_demo_starts_no_empty_ingest_and_shows_nothing_unsynced(demo: DemoRun):
    with _instance(demo) as instance:
        resources = {"landing_zone": LandingZone(events_dir=str(demo.home / "events")),
                     "clickhouse": ClickHouseResource(ledger_home=str(demo.home))}
        first_tick = landing_zone_sensor(build_sensor_context(instance=instance, cursor=None, resources=resources))
        assert isinstance(first_tick, SkipReason)

        graph = defs.resolve_asset_graph()
        view = AssetGraphView(temporal_context=TemporalContext(effective_dt=datetime.now(UTC), last_event_id=None),
                              instance=instance, asset_graph=graph)
        resolver = CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)
        month = last_month(datetime.now(UTC).date()).isoformat()
        statuses = {key.to_user_string(): resolver.get_status(key) for key in graph.get_all_asset_keys()
                    if graph.get(key).partitions_def is None and key != AssetKey("kafka_usage_events")}
        statuses |= {f"{name}[{month}]": resolver.get_status(AssetKey(name), month)
                     for name in ("allocation", "chargeback", "chargeback_export", "monthly_statement")}
        assert {name: status for name, status in statuses.items() if status != StaleStatus.FRESH} == {}


def test_partitions_start_on_the_first_day_with_data_and_none_is_missing(demo: DemoRun):
    script = (
        "from dagster import AssetKey, DagsterInstance\n"
        "from pipelines.admin_api.assets import hourly_partitions\n"
        "from pipelines.allocation.assets import monthly_partitions\n"
        "keys = hourly_partitions.get_partition_keys()\n"
        "with DagsterInstance.get() as instance:\n"
        "    done = instance.get_materialized_partitions(AssetKey('admin_usage_hourly'))\n"
        "print(keys[0], monthly_partitions.get_partition_keys()[0], len(set(keys) - done))\n")
    done = subprocess.run([str(BIN / "python"), "-c", script], cwd=PROJECT_ROOT, env=demo.env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    first_hour, first_month, missing = done.stdout.split()
    start = last_month(datetime.now(UTC).date())  # the demo's traffic starts on the first day of last month
    assert (first_hour, first_month) == (f"{start:%Y-%m-%d}-00:00", start.isoformat())
    assert int(missing) <= 1  # the hour that ended since the demo ran, at most


def test_ledger_status_after_the_demo_names_the_sources_the_runs_and_agrees_with_the_demo_s_checks(demo: DemoRun):
    done = demo.ledger("status")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for source in ("admin_usage_hourly", "admin_cost_daily", "spend_hourly (budgets)", "usage_events (landing zone)",
                   "claude_code_usage_daily", "admin_rate_limits"):
        assert f"\n{source} " in text
    [analytics] = [line for line in text.splitlines() if line.startswith("analytics_cost_daily ")]
    assert analytics.split() == ["analytics_cost_daily", "-", "off", "-"]  # the optional source is off in the demo
    assert "allocate_month" in text and "SUCCESS" in text
    month = last_month(datetime.now(UTC).date())
    # The demo organisation's events explain every workspace-day well enough: its summary says the checks of
    # both months passed, and status, reading the checks' results from the instance, lists no failing one.
    assert f"allocation  {month:%Y-%m} final $" in demo.stdout
    assert demo.stdout.split("allocation  ", 1)[1].splitlines()[0].count("(5 checks passed)") == 2
    assert "monthly checks for " in text and text.split("monthly checks for ", 1)[1].splitlines()[1] == "none"
    assert f"Admin API usage {month:%Y-%m}: all priced" in text


def test_the_chargeback_export_links_the_statement_in_its_metadata(demo: DemoRun):
    month = last_month(datetime.now(UTC).date())
    with _instance(demo) as instance:
        event = instance.get_latest_materialization_event(AssetKey("chargeback_export"))
        assert event is not None
        export = instance.fetch_materializations(AssetKey("chargeback_export"), limit=10).records
        meta = next(r.asset_materialization.metadata for r in export
                    if r.asset_materialization.partition == month.isoformat())
    assert Path(meta["statement"].value) == demo.home / "exports" / f"statement-{month:%Y-%m}.html"
    assert Path(meta["statement"].value).exists()


def test_each_monthly_asset_opens_on_the_last_final_month_and_every_exported_month_has_its_statement(demo: DemoRun):
    final, provisional = last_month(datetime.now(UTC).date()), month_start(datetime.now(UTC).date())
    with _instance(demo) as instance:
        for name in ("allocation", "chargeback", "chargeback_export", "focus_export", "monthly_statement"):
            # The UI shows a partitioned asset's latest materialisation first.
            latest = instance.get_latest_materialization_event(AssetKey(name))
            assert latest is not None and latest.asset_materialization.partition == final.isoformat(), name
        exported = instance.get_materialized_partitions(AssetKey("chargeback_export"))
        assert exported == {final.isoformat(), provisional.isoformat()}
        assert instance.get_materialized_partitions(AssetKey("monthly_statement")) == exported
    for month in (final, provisional):
        assert (demo.home / "exports" / f"statement-{month:%Y-%m}.html").exists()
