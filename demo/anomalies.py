"""``make demo`` step: refresh the anomaly tables, run one round of anomaly alerts, print both.

The demo organisation plants one anomaly (``demo.organisation.PLANTED_SPIKE``: a feature calling ten times its
usual rate for six hours of yesterday); this step shows it, with what moved, and its alert. Without Slack
the alert goes to the log and ``alerts_sent``; running the demo again sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from dagster import DagsterInstance

from demo.organisation import PLANTED_SPIKE
from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertDeliveryError, AlertLedger
from pipelines.alerts.slack import SlackResource
from pipelines.anomalies.config import AnomaliesConfig
from pipelines.anomalies.sensors import check_anomalies
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource

log = logging.getLogger("anomaly_alerts")


def run_anomaly_demo(instance: DagsterInstance, ch: ClickHouseResource) -> None:
    spike = PLANTED_SPIKE
    print(f"\n== spend anomalies and cache breaks (docs/anomalies.md); planted: {spike.feature} x{spike.factor:g} "
          f"from {spike.first_hour:02d}:00 to {spike.last_hour:02d}:00 UTC yesterday")
    result = defs.resolve_job_def("refresh_anomalies").execute_in_process(instance=instance)
    assert result.success, "the anomaly refresh failed; see the log above"
    spend = result.asset_materializations_for_node("spend_anomalies")[0].metadata
    cache = result.asset_materializations_for_node("cache_breaks")[0].metadata
    print(f"{spend['anomalies'].value} spend anomalies in {spend['incidents'].value} incidents "
          f"(evaluated at {spend['evaluated_at'].value}):")
    print(spend["anomalies_table"].value)
    print(f"\n{cache['cache_breaks'].value} cache breaks:")
    print(cache["breaks_table"].value)

    config = LedgerConfig.from_env().section(AnomaliesConfig).anomalies
    if config is None:
        print("\nno anomalies section in LEDGER_CONFIG: nothing is alerted")
        return
    started = datetime.now(UTC)
    slack = SlackResource.from_env().process_config_and_initialize()  # resolves the EnvVar secrets
    try:
        check = check_anomalies(ch, slack, config, Clock().now(), log)
        print(f"\nanomaly_alerts round ({slack.destination}): {check.summary()}")
    except AlertDeliveryError as exc:
        print(f"\nanomaly_alerts round failed: {exc}")
    sent = AlertLedger(ch).recent(started)
    print(markdown_table(["alert", "to", "channel", "message"],
                         [(key, dest, channel, text) for key, _kind, _subject, dest, channel, text, _keys, _at in sent])
          if sent else "no new alerts (each anomaly is sent once per scope and day; see the alerts_sent table)")
