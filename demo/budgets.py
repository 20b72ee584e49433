"""``make demo`` step: refresh the spend rollup and budget_status, run one round of budget alerts, print both.

Works whether or not an allocation exists: without one, every hour is event-priced. With no Slack
configured the alerts go to the log and ``alerts_sent``; running the demo again sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from dagster import AssetKey, DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertDeliveryError, AlertLedger
from pipelines.alerts.slack import SlackResource
from pipelines.budgets.assets import check_budgets
from pipelines.budgets.model import BudgetsConfig
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource

log = logging.getLogger("budget_alerts")


def run_budget_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    # Prices were loaded at the start: loading them again would mark everything priced before as Unsynced.
    result = defs.resolve_job_def("refresh_budget_status").execute_in_process(
        instance=instance, run_config=LOG_LEVEL, asset_selection=[AssetKey("spend_hourly"), AssetKey("budget_status")])
    assert result.success, "the budget status run failed; see the log file"
    status = result.asset_materializations_for_node("budget_status")[0].metadata
    rollup = result.asset_materializations_for_node("spend_hourly")[0].metadata
    print(f"budgets     every budget period checked now (spend from the spend_hourly rollup, "
          f"Admin-API-priced until {rollup['admin_priced_until'].value}):")
    print(status["status"].value)

    started = datetime.now(UTC)
    slack = SlackResource.from_env().process_config_and_initialize()  # resolves the EnvVar secrets
    try:
        budgets = LedgerConfig.from_env().section(BudgetsConfig).budgets
        check_budgets(ch, slack, budgets, Clock().now(), log)
    except AlertDeliveryError as exc:
        print(f"alerts      the round failed: {exc}")
    sent = AlertLedger(ch).recent(started)
    where = "to the log and alerts_sent (no Slack configured)" if slack.destination == "log" else \
        f"to {slack.destination}"
    print(f"alerts      {len(sent)} sent {where}; each threshold goes out once per period" if sent else
          "alerts      none new (each threshold is sent once per period; see the alerts_sent table)")
    for _key, _kind, _subject, _dest, channel, text, _keys, _at in sent:
        print(f"            {channel}: {text}")
