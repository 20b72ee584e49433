"""The statement walks each team from its showback to its chargeback (a bridge table), and draws the reconciliation
day by day; both checked by hand and on the page in a real headless Chromium.

October 5, Haiku 4.5 ($1 per million input tokens, $5 per million output), everything billed at list price:
- ws1 (no owner): key_search (owner search) 200,000 output tokens, $1.00, events explain search 120,000 ($0.60)
  and data 80,000 ($0.40); the console 100,000 output ($0.50): nobody's, 'unattributed'. Cost report $1.50.
- ws_research (owner research), the Claude Code workspace: 1,000,000 input ($1.00), cost report $1.00; Claude Code's
  split of it that day: search $0.333333333333, data $0.666666666667.
Showback: search 0.60, data 0.40, research 1.00, unattributed 0.50 = $2.50, the invoice.
Claude Code moves research's $1.00: search +0.333333333333, data +0.666666666667 (own spend: search 0.933333333333,
data 1.066666666667). Policy proportional spreads the $0.50 by own spend (2.00 in all): search 0.233333333333, data
0.266666666667. Chargeback lines, rounded to the cent by largest remainder: search 0.60 + 0.33 + 0.23 = 1.16, data
0.40 + 0.67 + 0.27 = 1.34: $2.50.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from allocation_data import (
    HOUR,
    OCTOBER,
    admin_usage,
    claude_code_split,
    config,
    cost_report,
    usage_event,
    with_list_prices,
)
from browser import Chromium, chromium_binary

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.reports.statement import build_statement, write_statement

NOW = datetime(2026, 11, 5, 12, tzinfo=UTC)  # October is over: its statement is final
CLAUDE_CODE = "ws_research"
ATTRIBUTION = config(shared_cost_policy="proportional")
BRIDGE_ROWS = (
    ("data", "$0.40", "+$0.67", "$1.07", "+$0.27", "+$0.00", "$1.34"),
    ("research", "$1.00", "-$1.00", "$0.00", "+$0.00", "+$0.00", "$0.00"),
    ("search", "$0.60", "+$0.33", "$0.93", "+$0.23", "+$0.00", "$1.16"),
    ("unattributed", "$0.50", "+$0.00", "$0.50", "-$0.50", "+$0.00", "$0.00"),
    ("total", "$2.50", "+$0.00", "$2.50", "+$0.00", "+$0.00", "$2.50"),
)


@pytest.fixture(scope="module")
def october(module_ch):
    ch = with_list_prices(module_ch)
    with pytest.MonkeyPatch.context() as patch, ch.connect():
        patch.setenv("LEDGER_CONFIG", "/absent.yaml")
        admin_usage(ch, output=200_000)
        admin_usage(ch, key="", output=100_000)
        usage_event(ch, "e1", "search", "query-rewrite", output=120_000)
        usage_event(ch, "e2", "data", "etl", output=80_000)
        cost_report(ch, HOUR.date(), "ws1", "1.50")
        admin_usage(ch, workspace=CLAUDE_CODE, key="key_claude_code", input=1_000_000)
        cost_report(ch, HOUR.date(), CLAUDE_CODE, "1.00")
        claude_code_split(ch, HOUR.date(), CLAUDE_CODE, {"search": "0.333333333333", "data": "0.666666666667"})
        allocate_month(ch, OCTOBER, ATTRIBUTION)
        write_chargeback(ch, OCTOBER, chargeback_lines_for(showback_lines(ch, OCTOBER), ATTRIBUTION, True),
                         ATTRIBUTION.shared_cost_policy)
    return ch


@pytest.fixture(scope="module")
def page(october, tmp_path_factory):
    """The statement, open in headless Chromium with every chart drawn."""
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run does)")
    directory = tmp_path_factory.mktemp("exports")
    written = write_statement(october, OCTOBER, directory, ATTRIBUTION, [], NOW)
    with Chromium(directory / "profile") as browser:
        opened = browser.open(written.path.as_uri())
        state = opened.wait_for("document.documentElement.dataset.charts !== 'pending' && "
                                "document.documentElement.dataset.charts", timeout_s=120)
        assert state == "rendered"
        yield opened


def test_the_bridge_walks_each_team_from_its_showback_to_its_chargeback(october):
    statement = build_statement(october, OCTOBER, ATTRIBUTION, [], NOW)
    [bridge] = [s for s in statement.sections if s.anchor == "bridge"]
    assert bridge.table_headers == ("team", "showback", "Claude Code moved", "own spend", "shared cost",
                                    "cent rounding", "chargeback")
    assert bridge.table_rows == BRIDGE_ROWS
    assert [s.anchor for s in statement.sections][:2] == ["spend", "bridge"]  # right under the showback it explains


def test_on_the_page_each_bridge_column_sums_to_its_total_and_the_figures_to_the_invoice(page):
    cells = page.evaluate("[...document.querySelectorAll('#bridge tbody tr')].map(tr => "
                          "[...tr.querySelectorAll('td')].map(td => td.textContent))")
    invoice = page.evaluate("[...document.querySelectorAll('.totals div')].find(d => "
                            "d.firstChild.textContent === 'cost report').querySelector('b').textContent")

    def cents(text: str) -> int:
        return round(float(text.replace("$", "").replace(",", "").replace("+", "")) * 100)

    *teams, total = cells
    assert [tuple(row) for row in cells] == list(BRIDGE_ROWS)
    for column in range(1, 7):
        assert sum(cents(row[column]) for row in teams) == cents(total[column])
    assert [total[column] for column in (1, 3, 6)] == [invoice] * 3 == ["$2.50"] * 3


def test_the_allocated_line_marks_the_middle_of_its_day_s_cost_report_bar(page):
    # Vega draws the bars as paths (mark-rect) and the line's points as symbols (mark-symbol): one of each for Oct 5.
    centres = page.evaluate(
        "Object.fromEntries(['rect', 'symbol'].map(mark => [mark, [...document.querySelectorAll("
        "'#chart-reconciliation g.mark-' + mark + ' path')].map(p => { const b = p.getBoundingClientRect(); "
        "return b.left + b.width / 2; })]))")
    [bar], [point] = centres["rect"], centres["symbol"]
    assert abs(point - bar) < 1  # in pixels: the point sits over the middle of the day, not at its midnight
