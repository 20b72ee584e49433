"""The Claude Code step of ``make demo``: collect Claude Code usage from the simulator, print spend per team.

Runs after the Admin API step (the team split needs the cost report), against the same simulator. The demo sets
``LEDGER_PSEUDONYM_KEY`` to a fixed demo value when it is unset: a real deployment keeps its own key secret
(docs/claude_code.md).
"""

from __future__ import annotations

import os
from datetime import timedelta

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from demo.events import demo_window
from demo.summary import say
from pipelines.admin_api.assets import range_tags
from pipelines.definitions import build_definitions
from pipelines.money import signed_usd, usd
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)
DEMO_PSEUDONYM_KEY = "claude-ledger-demo-pseudonym-key"  # the demo's own, not a secret


def run_claude_code_demo(instance: DagsterInstance, ch: ClickHouseResource, verbose: bool = False) -> None:
    start, end = demo_window()
    last_day = (end - timedelta(days=1)).date()
    own_key = "LEDGER_PSEUDONYM_KEY" not in os.environ
    if own_key:
        os.environ["LEDGER_PSEUDONYM_KEY"] = DEMO_PSEUDONYM_KEY
    try:
        result = build_definitions().resolve_job_def("collect_claude_code").execute_in_process(
            instance=instance, tags=range_tags(start.date().isoformat(), last_day.isoformat()), run_config=LOG_LEVEL)
        assert result.success, "the collect_claude_code run failed; see the demo's log file"
    finally:
        if own_key:
            os.environ.pop("LEDGER_PSEUDONYM_KEY", None)
    teams = ch.query_rows(sql("claude_code_by_team"), {"start": start.date()})
    charged = ", ".join(f"{team} {usd(amount)}" for team, amount, _ in teams if amount)
    say("claude code", f"charged per team: {charged}")
    if verbose:
        estimate, report, difference = ch.query_rows(sql("claude_code_reconciled"), {"start": start.date()})[0]
        seats = ", ".join(f"{team} {usd(amount)}" for team, _, amount in teams if amount) or "none"
        say("", f"(its workspace's invoice, split by the Claude Code report's estimated share); subscription "
            f"seats, showback only: {seats}; estimate {usd(estimate)} vs cost report {usd(report)}: "
            f"{signed_usd(difference)} ({difference / report * 100 if report else 0:+.2f} %)")
