"""Every example query of the finance-facing docs runs, read-only, on `make demo`'s data and finds rows: the
docs use relative dates ("last month", "last week") that always have data, never a hard-coded month."""

from __future__ import annotations

import json
import re

import pytest
from demo_run import DemoRun

from pipelines.reports.console import run_query
from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import split_statements

DOCS = ("docs/finance.md", "docs/cache.md", "docs/events.md")  # docs/scale.md holds cluster DDL sketches


def doc_queries() -> list[tuple[str, str]]:
    found = []
    for doc in DOCS:
        for block in re.findall(r"```sql\n(.*?)```", (PROJECT_ROOT / doc).read_text(), flags=re.S):
            for example in block.split("\n\n"):  # examples are separated by a blank line
                title = next((line.removeprefix("-- ") for line in example.splitlines() if line.startswith("--")),
                             example.strip().splitlines()[0])
                [statement] = split_statements(example)
                found.append((f"{doc}: {title}", statement))
    return found


QUERIES = doc_queries()


def test_the_docs_have_the_examples_this_test_runs():
    assert len([name for name, _ in QUERIES if name.startswith("docs/finance.md")]) == 6


def test_no_example_hard_codes_a_month():
    assert [name for name, text in QUERIES if re.search(r"'20\d\d-\d\d-\d\d'", text)] == []


@pytest.mark.parametrize(("name", "query"), QUERIES, ids=[name for name, _ in QUERIES])
def test_each_doc_query_runs_on_the_demo_data_and_finds_rows(demo: DemoRun, name, query):
    result = run_query(ClickHouseResource(ledger_home=str(demo.home)), query)
    assert result.rows, f"{name} returned no rows"


DASHBOARD = PROJECT_ROOT / "docs" / "monitoring" / "grafana-finance-dashboard.json"
# The Grafana ClickHouse data source's macros, as it expands them for the dashboard's default range (60 days).
MACROS = {r"\$__dateFilter\((\w+)\)": r"\1 >= today() - 60 AND \1 <= today()"}


def dashboard_queries() -> list[tuple[str, str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [(panel["title"], target["rawSql"]) for panel in panels for target in panel["targets"]]


def test_the_grafana_dashboard_reads_only_the_finance_views():
    views = {"finance_daily_spend", "finance_monthly_chargeback", "finance_unit_cost_by_feature", "finance_model_mix",
             "finance_reconciliation_daily"}
    read = {name for _, query in dashboard_queries() for name in re.findall(r"FROM (\w+)", query)}
    assert read <= views
    assert len(dashboard_queries()) == 6


@pytest.mark.parametrize(("title", "query"), dashboard_queries(), ids=[t for t, _ in dashboard_queries()])
def test_each_grafana_panel_query_runs_on_the_demo_data(demo: DemoRun, title, query):
    for macro, expansion in MACROS.items():
        query = re.sub(macro, expansion, query)
    assert run_query(ClickHouseResource(ledger_home=str(demo.home)), query).rows, title
