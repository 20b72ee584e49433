"""``make demo`` step: refresh the anomaly tables, run one round of anomaly alerts, print both.

The demo organisation plants one anomaly (``demo.organisation.PLANTED_SPIKE``: a feature called at many times its
usual rate for six hours of yesterday); this step shows it, with what moved, and its alert. Without Slack
the alert goes to the log and ``alerts_sent``; running the demo again sends nothing twice.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from dagster import DagsterInstance

from demo.dagster_logs import LOG_LEVEL
from demo.organisation import PLANTED_SPIKE
from demo.summary import plural, say
from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertDeliveryError, AlertLedger
from pipelines.alerts.slack import SlackResource
from pipelines.anomalies.config import AnomaliesConfig
from pipelines.anomalies.sensors import check_anomalies
from pipelines.definitions import defs
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource

log = logging.getLogger("anomaly_alerts")
ALERT_LINES = 3  # of the first alert's text in the summary (--verbose: every alert, whole)


def run_anomaly_demo(instance: DagsterInstance, ch: ClickHouseResource, verbose: bool = False) -> None:
    spike = PLANTED_SPIKE
    result = defs.resolve_job_def("refresh_anomalies").execute_in_process(instance=instance, run_config=LOG_LEVEL)
    assert result.success, "the anomaly refresh failed; see the log file"
    spend = result.asset_materializations_for_node("spend_anomalies")[0].metadata
    cache = result.asset_materializations_for_node("cache_breaks")[0].metadata
    say("anomalies", f"{plural(spend['anomalies'].value, 'spend anomaly', 'spend anomalies')} in "
        f"{plural(spend['incidents'].value, 'incident')}, {plural(cache['cache_breaks'].value, 'cache break')}"
        + (f" (planted: {spike.feature} at {spike.calls_per_hour:g} calls an hour, {spike.first_hour:02d}:00-"
           f"{spike.last_hour:02d}:00 UTC yesterday)" if verbose else ""))
    config = LedgerConfig.from_env().section(AnomaliesConfig).anomalies
    if config is None:
        say("", "no anomalies section in LEDGER_CONFIG: nothing is alerted")
        return
    started = datetime.now(UTC)
    slack = SlackResource.from_env().process_config_and_initialize()  # resolves the EnvVar secrets
    try:
        check_anomalies(ch, slack, config, Clock().now(), log)
    except AlertDeliveryError as exc:
        say("", f"the alert round failed: {exc}")
        return
    sent = AlertLedger(ch).recent(started)
    for _key, _kind, _subject, _dest, channel, text, _keys, _at in sent if verbose else sent[:1]:
        say("", f"{channel}: {text.splitlines()[0]}", None if verbose else ALERT_LINES)
    if len(sent) > 1 and not verbose:
        say("", f"and {plural(len(sent) - 1, 'more alert')} (alerts_sent)")
    if not sent:
        say("", "no new alerts (each anomaly is sent once per scope and day; see the alerts_sent table)")
