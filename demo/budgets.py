"""``make demo`` step: refresh the spend rollup and budget_status, run one round of budget alerts, print both.

Works whether or not an allocation exists: without one, every hour is event-priced. With no Slack
configured the alerts go to the log and ``alerts_sent``; running the demo again sends nothing twice.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import UTC, datetime

from dagster import AssetKey, DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from demo.summary import say, table
from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertDeliveryError, AlertLedger
from pipelines.alerts.slack import SlackResource
from pipelines.budgets.assets import check_budgets
from pipelines.budgets.messages import percent
from pipelines.budgets.model import BudgetsConfig
from pipelines.budgets.status import budget_statuses
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource

log = logging.getLogger("budget_alerts")


def _minutes(moment: str) -> str:
    """An instant of the rollup's metadata to the minute (or its text as it is: "no allocation yet: …")."""
    try:
        return f"{datetime.fromisoformat(moment):%Y-%m-%d %H:%M} UTC"
    except ValueError:
        return moment


def run_budget_demo(instance: DagsterInstance, ch: ClickHouseResource, verbose: bool = False) -> None:
    # Prices were loaded at the start: loading them again would mark everything priced before as Unsynced.
    result = defs.resolve_job_def("refresh_budget_status").execute_in_process(
        instance=instance, run_config=LOG_LEVEL, asset_selection=[AssetKey("spend_hourly"), AssetKey("budget_status")])
    assert result.success, "the budget status run failed; see the log file"
    status = result.asset_materializations_for_node("budget_status")[0].metadata
    rollup = result.asset_materializations_for_node("spend_hourly")[0].metadata
    budgets = LedgerConfig.from_env().section(BudgetsConfig).budgets
    now = Clock().now()
    say("budgets", f"{'every budget period checked' if verbose else 'the current periods'} (spend_hourly, "
        f"Admin-API-priced until {_minutes(rollup['admin_priced_until'].value)}):")
    if verbose:
        print(status["status"].value)
    else:
        table(["budget", "period", "spend", "amount", "percent", "crossed", "projected"],
              [(s.budget.id, s.period.label, usd(s.spend_usd), usd(s.budget.amount_usd), percent(s.percent),
                f"{max(s.crossed).normalize():f} %" if s.crossed else "-", usd(s.projected_usd))
               for s in budget_statuses(ch, budgets, now) if s.is_current], right={2, 3, 4, 6})

    started = datetime.now(UTC)
    slack = SlackResource.from_env().process_config_and_initialize()  # resolves the EnvVar secrets
    try:
        check_budgets(ch, slack, budgets, now, log)
    except AlertDeliveryError as exc:
        say("alerts", f"the round failed: {exc}")
    sent = AlertLedger(ch).recent(started)
    where = "to the log and alerts_sent (no Slack configured)" if slack.destination == "log" else \
        f"to {slack.destination}"
    if not sent:
        say("alerts", "none new (each threshold is sent once per period; see the alerts_sent table)")
        return
    subjects = Counter(subject for _key, _kind, subject, *_rest in sent)
    say("alerts", f"{len(sent)} sent {where}, each threshold once per period: "
        + ", ".join(f"{subject} ({count})" if count > 1 else subject for subject, count in subjects.items()))
    if verbose:
        for _key, _kind, _subject, _dest, channel, text, _keys, _at in sent:
            say("", f"{channel}: {text}")
