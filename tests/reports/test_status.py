"""`ledger status` (pipelines/reports/status.py): the sources' freshness from the rollups and bookkeeping tables."""

from __future__ import annotations

from datetime import UTC, datetime

from event_lines import event, write_lines

from pipelines.events.ingest import ingest_landing_zone
from pipelines.reports.status import status_report

NOW = datetime(2026, 10, 5, 13, 0, tzinfo=UTC)


def test_the_landing_zone_s_data_runs_until_its_newest_event(ch, landing):
    write_lines(landing / "events-2026-10-05.jsonl", event("e1", ts="2026-10-05T09:40:00Z"),
                event("e2", ts="2026-10-05T11:58:30Z"), event("e3", ts="2026-10-05T10:05:00+02:00"))
    ingest_landing_zone(ch, landing)

    report = status_report(ch, None, [], NOW)

    [row] = [line for line in report.splitlines() if line.startswith("usage_events (landing zone)")]
    # e2 is the newest (e3 is 08:05 UTC); its age at 13:00 is 61 minutes (then: when the file was read).
    assert row.split()[3:5] == ["2026-10-05", "11:58"]
    assert row.endswith("61 min")


def test_a_source_the_configuration_leaves_off_reads_off_not_never_written(ch):
    report = status_report(ch, None, [], NOW, off={"analytics_cost_daily"})
    [row] = [line for line in report.splitlines() if line.startswith("analytics_cost_daily ")]
    assert row.split() == ["analytics_cost_daily", "-", "off", "-"]
