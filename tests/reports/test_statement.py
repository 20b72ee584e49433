"""The monthly statement of a small month whose every figure is worked out by hand, and `ledger export` /
`ledger report` on it (real CLI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from allocation_data import HOUR, OCTOBER, admin_usage, config, cost_report, usage_event, with_list_prices, write_config
from browser import Chromium, chromium_binary
from clickhouse_databases import server_env
from dagster import AssetKey, DagsterInstance, materialize

from pipelines.allocation.assets import allocation, chargeback, chargeback_export, focus_export
from pipelines.budgets.model import Budget
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.cache.analysis import refresh_cache_analysis
from pipelines.ledger_config import LedgerConfig
from pipelines.reports.statement import build_statement, write_statement
from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

LEDGER = Path(sys.executable).parent / "ledger"
NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)  # October is over: its statement is final
SEARCH_BUDGET = Budget(id="search-monthly", scope="team", target="search", period="month", amount_usd=2,
                       slack_channel="#search")


@pytest.fixture(scope="module")
def october(module_ch):
    """October 5, 10:00, workspace ws1, Haiku 4.5 ($5 per million output tokens):
    - key_search: 200,000 output tokens ($1.00); events explain 120,000 for search, 80,000 for data;
    - the console (key ''): 100,000 output tokens ($0.50), no event, no owner: unattributed.
    The cost report says $1.50 for the day, so allocated = list. Policy proportional: the $0.50 residual is spread
    by own spend, search 0.60/1.00 -> $0.30, data $0.20. Chargeback: search $0.90, data $0.60."""
    ch = with_list_prices(module_ch)
    home = Path(ch.ledger_home)
    admin_usage(ch, output=200_000)
    admin_usage(ch, key="", output=100_000)
    usage_event(ch, "e1", "search", "query-rewrite", output=120_000)
    usage_event(ch, "e2", "data", "etl", output=80_000)
    cost_report(ch, HOUR.date(), "ws1", "1.50")
    path = write_config(home / "ledger.yaml", shared_cost_policy="proportional")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGER_EXPORT_DIR", str(home / "exports"))
        result = materialize([allocation, chargeback, chargeback_export, focus_export],
                             partition_key=OCTOBER.isoformat(),
                             resources={"clickhouse": ch, "ledger_config": LedgerConfig(path=str(path))},
                             instance=DagsterInstance.ephemeral())
    assert result.success
    refresh_spend_rollup(ch, NOW)  # budgets' spend: allocated cost per team, before the policy
    return ch, home, path


def section(statement, anchor):
    return next(s for s in statement.sections if s.anchor == anchor)


def test_the_totals_reconcile_the_chargeback_to_the_cost_report(october):
    ch, _home, _path = october
    statement = build_statement(ch, OCTOBER, config(shared_cost_policy="proportional"), [SEARCH_BUDGET], NOW)
    assert statement.totals == [("charged (chargeback)", "$1.50"), ("cost report", "$1.50"),
                                ("allocated (exact)", "$1.50"), ("status", "final")]
    assert section(statement, "reconciliation").table_rows == (("2026-10-05", "$1.50", "$1.50", "equal", "66.7%"),)
    # coverage: events explain 200,000 of the 300,000 tokens


def test_budget_spend_plus_shared_cost_is_the_chargeback(october):
    ch, _home, _path = october
    statement = build_statement(ch, OCTOBER, config(shared_cost_policy="proportional"), [SEARCH_BUDGET], NOW)
    shared = section(statement, "shared-cost")
    assert shared.table_headers == ("cost centre", "team", "budget spend", "shared cost", "chargeback", "rest")
    assert shared.table_rows == (("CC-100 Search", "search", "$0.60", "$0.30", "$0.90", "$0.00"),
                                 ("CC-500 Data", "data", "$0.40", "$0.20", "$0.60", "$0.00"))
    assert "under the shared-cost policy (proportional)" in shared.intro


def test_the_charts_draw_the_month(october):
    ch, _home, _path = october
    statement = build_statement(ch, OCTOBER, config(shared_cost_policy="proportional"), [SEARCH_BUDGET], NOW)
    assert statement.charts == 4  # no cache analysis was run for this month: that section says so instead
    assert section(statement, "cache").spec is None
    assert section(statement, "cache").note == "No cache analysis for this month: run the cache_analysis job."
    spend = section(statement, "spend")
    assert spend.table_rows == (("search", "$0.60"), ("unattributed", "$0.50"), ("data", "$0.40"))
    assert spend.spec["data"]["values"] == [{"date": "2026-10-05", "team": "data", "usd": 0.4},
                                            {"date": "2026-10-05", "team": "search", "usd": 0.6},
                                            {"date": "2026-10-05", "team": "unattributed", "usd": 0.5}]
    budgets = section(statement, "budgets")
    assert budgets.table_rows == (("search-monthly", "team search", "month, $2.00", "$0.60", "30.0 %"),)
    assert section(statement, "models").table_rows == (("claude-haiku-4-5-20251001", "300,000", "$1.50", "100.0%"),)


def test_a_page_whose_teams_cached_nothing_says_so_once_the_cache_analysis_ran(ch):
    """October 5: search reads 50,000 prompt tokens from the cache; research (CC-400) sends no event at all."""
    with_list_prices(ch)
    usage_event(ch, "e1", "search", "query-rewrite", input=1_000, cache_read=50_000, output=100)
    refresh_cache_analysis(ch)
    attribution = config(shared_cost_policy="proportional")

    research = build_statement(ch, OCTOBER, attribution, [], NOW, "CC-400 Research")
    assert section(research, "cache").spec is None
    assert section(research, "cache").note == ("The cache analysis found no prompt-cache activity in this month's "
                                               "usage events of these teams.")
    search = build_statement(ch, OCTOBER, attribution, [], NOW, "CC-100 Search")
    assert [row[0] for row in section(search, "cache").table_rows] == ["search"]


SEARCH_DAY_BUDGET = Budget(id="search-daily", scope="team", target="search", period="day", amount_usd=Decimal("0.5"),
                           slack_channel="#search")
MARKS = "[...document.querySelectorAll('#chart-budgets .mark-line path, #chart-budgets .mark-symbol path')]"
LABELS = "[...document.querySelectorAll('#chart-budgets text')].filter(t => t.textContent === 'budget (100 %)')"


def test_the_burn_down_draws_day_budgets_in_a_panel_of_their_own(october):
    ch, _home, _path = october
    statement = build_statement(ch, OCTOBER, config(shared_cost_policy="proportional"),
                                [SEARCH_BUDGET, SEARCH_DAY_BUDGET], NOW)
    panels = section(statement, "budgets").spec["vconcat"]
    # search spent $0.60 on October 5: 30 % of its $2 month, 120 % of its $0.50 day.
    assert [(panel["title"], panel["layer"][0]["data"]["values"]) for panel in panels] == [
        ("Month budgets: the month's spend so far, % of the amount",
         [{"budget": "search-monthly", "period": "month", "date": "2026-10-05", "usd": 0.6, "percent": 30.0}]),
        ("Day budgets: each day's spend, % of the amount",
         [{"budget": "search-daily", "period": "day", "date": "2026-10-05", "usd": 0.6, "percent": 120.0}])]


def test_no_line_of_the_burn_down_can_cover_the_budget_label(october, tmp_path):
    """Drawn in Chromium: each panel's "budget (100 %)" label starts right of every line and point."""
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run does)")
    ch, _home, _path = october
    written = write_statement(ch, OCTOBER, tmp_path, config(shared_cost_policy="proportional"),
                              [SEARCH_BUDGET, SEARCH_DAY_BUDGET], NOW)
    with Chromium(tmp_path / "profile") as browser:
        page = browser.open(written.path.as_uri())
        assert page.wait_for("document.documentElement.dataset.charts !== 'pending' && "
                             "document.documentElement.dataset.charts", timeout_s=120) == "rendered"
        labels = page.evaluate(f"{LABELS}.map(t => t.getBoundingClientRect().left)")
        marks = page.evaluate(f"{MARKS}.map(m => m.getBoundingClientRect().right)")
    assert len(labels) == 2 and marks
    assert min(labels) > max(marks)


def test_a_cost_centre_page_shows_only_its_teams_and_the_index_links_it(october, tmp_path):
    ch, _home, _path = october
    written = write_statement(ch, OCTOBER, tmp_path, config(shared_cost_policy="proportional"), [SEARCH_BUDGET], NOW,
                              cost_centre_pages=True)
    assert [p.name for p in written.pages] == ["statement-2026-10-cc-100-search.html",
                                               "statement-2026-10-cc-500-data.html"]
    search = build_statement(ch, OCTOBER, config(shared_cost_policy="proportional"), [SEARCH_BUDGET], NOW,
                             "CC-100 Search")
    assert section(search, "spend").table_rows == (("search", "$0.60"),)
    assert search.totals == [("charged (chargeback)", "$0.90"), ("status", "final")]
    index = written.path.read_text()
    assert 'href="statement-2026-10-cc-100-search.html"' in index
    assert index.count("<script") == 2 and "https://" not in index.split("<script", 1)[0]


def ledger(ch: ClickHouseResource, config_path: Path, *args: str, **environment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **server_env(ch), "LEDGER_CONFIG": str(config_path),
           "LEDGER_EXPORT_DIR": str(Path(ch.ledger_home) / "cli-exports"), **environment}
    return subprocess.run([str(LEDGER), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_ledger_export_rewrites_the_asset_s_files_byte_for_byte(october):
    ch, home, path = october
    done = ledger(ch, path, "export", "--month", "2026-10")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "4 lines, 1.50 USD:"  # search and data, each with a shared-cost line
    for name in ("chargeback-2026-10.csv", "chargeback-2026-10.parquet", "chargeback-2026-10.manifest.json",
                 "focus-2026-10.csv", "focus-2026-10.parquet", "focus-2026-10.metadata.json"):
        assert (home / "cli-exports" / name).read_bytes() == (home / "exports" / name).read_bytes()


def test_ledger_report_writes_the_statement_and_names_it(october):
    ch, home, path = october
    done = ledger(ch, path, "report", "--month", "2026-10")
    assert done.returncode == 0, done.stderr
    # The config has no budgets and no cache analysis ran: spend, model mix and reconciliation are drawn.
    assert done.stdout.splitlines() == ["statement 2026-10 (final, 3 charts):",
                                        str(home / "cli-exports" / "statement-2026-10.html")]


def printed_command(error: str) -> str:
    """The command a one-line error tells the user to run."""
    [command] = re.findall(r"run `([^`]+)`", error)
    return command


def test_a_month_not_yet_allocated_names_the_command_that_allocates_it_and_it_runs_as_printed(ch, tmp_path):
    """October 5: 200,000 output tokens of Haiku 4.5 on key_search, all explained by search's events; the cost
    report says $1.00 (200,000 x $5 per million). Collected, not allocated."""
    home = Path(ch.ledger_home)
    with_list_prices(ch)
    admin_usage(ch, output=200_000)
    usage_event(ch, "e1", "search", "query-rewrite", output=200_000)
    cost_report(ch, HOUR.date(), "ws1", "1.00")
    path = write_config(home / "ledger.yaml", shared_cost_policy="proportional")
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    instance = {"DAGSTER_HOME": str(tmp_path)}  # the run is recorded here, not in the project's instance

    refused = ledger(ch, path, "report", "--month", "2026-10", **instance)
    assert refused.returncode == 1
    [error] = refused.stderr.splitlines()
    assert printed_command(error) == ".venv/bin/ledger allocate --month 2026-10"

    env = {**os.environ, **server_env(ch), "LEDGER_CONFIG": str(path), **instance}
    done = subprocess.run(printed_command(error), shell=True, cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "allocated 2026-10 final $1.00 (5 checks passed)\n"
    with DagsterInstance.from_config(str(tmp_path)) as recorded:
        assert recorded.get_materialized_partitions(AssetKey("chargeback")) == {"2026-10-01"}
    assert ledger(ch, path, "report", "--month", "2026-10").returncode == 0


def test_a_month_without_admin_api_usage_says_to_collect_it_and_allocates_nothing(october):
    ch, home, path = october
    for args in (("report", "--month", "2026-09"), ("allocate", "--month", "2026-09")):
        done = ledger(ch, path, *args)
        assert done.returncode == 1
        assert done.stderr.splitlines() == [
            "Error: no Admin API usage is collected for 2026-09: collect it first (the collect_admin_usage and "
            "collect_admin_cost jobs for its days, in the Dagster UI), then allocate it"]
    assert not (home / "cli-exports" / "chargeback-2026-09.csv").exists()


def test_a_month_before_the_partitions_suggests_no_partition_but_how_to_move_their_start(october):
    ch, _home, path = october
    done = ledger(ch, path, "report", "--month", "2026-09", LEDGER_PARTITIONS_START="2026-10-01")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: 2026-09 is before the first month partition (2026-10): the partitions start at "
        "LEDGER_PARTITIONS_START, else at the earliest day with data. To allocate it, set "
        "LEDGER_PARTITIONS_START=2026-09-01 in the environment of `make dev` and of this command, and collect its "
        "Admin API usage and cost"]
    moved = ledger(ch, path, "report", "--month", "2026-09", LEDGER_PARTITIONS_START="2026-09-01")
    assert "no Admin API usage is collected for 2026-09" in moved.stderr  # the month is a partition now


def test_a_month_that_has_not_begun_is_not_a_partition(october):
    ch, _home, path = october
    done = ledger(ch, path, "allocate", "--month", "2099-01")
    assert done.returncode == 1
    assert done.stderr.startswith("Error: 2099-01 has not begun: the last month partition is ")


def test_the_dagster_cli_materialises_the_statement_of_a_month(october, tmp_path):
    ch, home, path = october
    env = {**os.environ, **server_env(ch), "LEDGER_CONFIG": str(path), "DAGSTER_HOME": str(tmp_path),
           "LEDGER_EXPORT_DIR": str(home / "dagster-exports")}
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run([str(LEDGER.parent / "dagster"), "asset", "materialize", "-m", "pipelines.definitions",
                           "--select", "monthly_statement", "--partition", "2026-10-01"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    page = (home / "dagster-exports" / "statement-2026-10.html").read_text()
    assert "<h1>Claude API statement — October 2026</h1>" in page
