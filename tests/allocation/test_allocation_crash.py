"""Crash safety of the month's allocation, chargeback and export: a real process that re-runs them over and over is
SIGKILLed at random moments, and after each kill the month reads whole, once: every table holds one run's rows
summing to the month's total, and the export directory holds whole files of one version.

The month is export_october's (allocation_data.py): ws1 billed $0.72 by the cost report, console Sonnet use at
its $0.30 list price with no report yet: $1.02.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from pathlib import Path

from allocation_data import CONFIG, OCTOBER, export_october, with_list_prices
from crash import killed_repeatedly, writing_alongside

from pipelines.allocation.export import latest_version

# argv: the exports directory
RUN_FOREVER = f"""
import sys
from datetime import date
from pathlib import Path
from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.config import AttributionConfig
from pipelines.allocation.export import export_chargeback
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
config = AttributionConfig.model_validate({CONFIG!r})
month = date(2026, 10, 1)
with ch.connect():
    while True:
        allocate_month(ch, month, config)
        write_chargeback(ch, month, chargeback_lines_for(showback_lines(ch, month), config, month_closed=True),
                         config.shared_cost_policy)
        export_chargeback(ch, month, Path(sys.argv[1]), "none")
        print("written", flush=True)
"""
TABLES = ("allocation_hourly", "allocation_reconciliation_daily", "chargeback_monthly")


def _month_reader(ch, exports: Path):
    def month() -> tuple:
        tables = {table: ch.query_rows("SELECT count() > 0, uniqExact(computed_at) FROM {table:Identifier}",
                                       {"table": table})[0] for table in TABLES}
        money = ch.query_rows("SELECT (SELECT sum(allocated_cost_usd) FROM allocation_hourly), "
                              "(SELECT sum(allocated_cost_usd) FROM chargeback_monthly)")[0]
        version, manifest = latest_version(exports, OCTOBER) or (0, {})
        whole = all(hashlib.sha256((exports / name).read_bytes()).hexdigest() == file["sha256"]
                    for name, file in manifest.get("files", {}).items())
        return tables, money, version, whole, sorted(p.name for p in exports.glob(".*"))

    return month


ONCE = ({table: (True, 1) for table in TABLES}, (Decimal("1.02"), Decimal("1.02")), 1, True, [])


def test_a_month_run_killed_at_any_moment_leaves_each_table_and_the_export_whole(ch, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    with_list_prices(ch)
    export_october(ch)
    exports = tmp_path / "exports"
    assert killed_repeatedly(RUN_FOREVER, [str(exports)], _month_reader(ch, exports), ch=ch, seed=17) == [ONCE] * 5
    assert json.loads((exports / "chargeback-2026-10.manifest.json").read_text())["allocated_cost_usd"] == "1.02"



def test_two_runs_of_the_month_at_once_leave_each_table_and_the_export_whole(ch, tmp_path: Path, monkeypatch):
    """On a server nothing but the month writes' server locks keeps two runs apart (a schedule's and the
    restatement sensor's, say): each reader finds one run's rows, once."""
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    with_list_prices(ch)
    export_october(ch)
    exports = tmp_path / "exports"
    script = RUN_FOREVER.replace("Path(sys.argv[1])", repr(str(exports)).join(("Path(", ")")))
    month, seen = _month_reader(ch, exports), []
    with writing_alongside(script, ch), writing_alongside(script, ch) as next_write:
        for _ in range(5):
            next_write()
            seen.append(month())
    assert seen == [ONCE] * 5
