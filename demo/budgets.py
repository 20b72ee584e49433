"""``make demo`` step: refresh the spend rollup and budget_status, run one round of budget alerts, print both.

Works whether or not an allocation exists: without one, every hour is event-priced. With no Slack
configured the alerts go to the log and ``alerts_sent``; running the demo again sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from dagster import DagsterInstance

from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertDeliveryError, AlertLedger
from pipelines.alerts.slack import SlackResource
from pipelines.budgets.assets import check_budgets
from pipelines.budgets.model import BudgetsConfig
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource

log = logging.getLogger("budget_alerts")


def run_budget_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    print("\n== budgets (LEDGER_CONFIG) and alerts")
    result = defs.resolve_job_def("refresh_budget_status").execute_in_process(instance=instance)
    assert result.success, "the budget status run failed; see the log above"
    status = result.asset_materializations_for_node("budget_status")[0].metadata
    rollup = result.asset_materializations_for_node("spend_hourly")[0].metadata
    print(f"spend rollup: {rollup['rows'].value} rows, {rollup['spend_usd'].value} since "
          f"{rollup['refreshed_from'].value}; Admin-API-priced until: {rollup['admin_priced_until'].value}")
    print(status["status"].value)

    started = datetime.now(UTC)
    slack = SlackResource.from_env().process_config_and_initialize()  # resolves the EnvVar secrets
    try:
        budgets = LedgerConfig.from_env().section(BudgetsConfig).budgets
        check = check_budgets(ch, slack, budgets, Clock().now(), log)
        print(f"\nbudget_alerts round ({slack.destination}): {check.summary()}")
    except AlertDeliveryError as exc:
        print(f"\nbudget_alerts round failed: {exc}")
    sent = AlertLedger(ch).recent(started)
    print(markdown_table(["alert", "to", "channel", "message"],
                         [(key, dest, channel, text) for key, _kind, _subject, dest, channel, text, _keys, _at in sent])
          if sent else "no new alerts (each threshold is sent once per period; see the alerts_sent table)")
