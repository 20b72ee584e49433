"""A process killed (SIGKILL) at any moment while it rewrites the anomaly tables leaves each holding a whole
refresh, the previous one or the new one, and the next run writes it whole again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from anomaly_traffic import Spike, hourly_spend, write_traffic
from crash import killed_repeatedly

from pipelines.storage.clickhouse import ClickHouseResource

NOW = datetime(2026, 11, 18, 14, tzinfo=UTC)
KILLS = 5
# The asset's write path, over and over in one session, so that a kill lands in the middle of a write.
REFRESH_FOREVER = f"""
import sys
from datetime import datetime, UTC
from pipelines.anomalies.assets import SPEND_COLUMNS, replace_table, spend_rows
from pipelines.anomalies.config import AnomalyLines
from pipelines.anomalies.spend import find_spend_anomalies, incidents
from pipelines.storage.clickhouse import ClickHouseResource
with ClickHouseResource.from_env().connect() as client:
    found = incidents(find_spend_anomalies(client, datetime.fromisoformat("{NOW.isoformat()}"), AnomalyLines()))
    while True:
        {{WRITE}}
        print("written", flush=True)
"""
WRITE = 'replace_table(client, "spend_anomalies", spend_rows(found, datetime.now(UTC)), SPEND_COLUMNS)'


def test_a_refresh_killed_at_any_moment_leaves_a_whole_table(ch: ClickHouseResource):
    spike = Spike("doc-summarise", NOW - timedelta(hours=5), NOW, 6.0)
    write_traffic(ch, hourly_spend(datetime(2026, 10, 14, tzinfo=UTC), NOW, noise=0, spikes=(spike,)), NOW)
    seen = killed_repeatedly(REFRESH_FOREVER.replace("{WRITE}", WRITE), [],
                             lambda: ch.query_rows("SELECT count(), uniqExact(computed_at) FROM spend_anomalies")[0],
                             ch=ch, kills=KILLS, running_s=(0.05, 0.5))
    # the six anomalies of the spike (test_spend_anomalies.py), all of one refresh, after every kill
    assert seen == [(6, 1)] * KILLS
