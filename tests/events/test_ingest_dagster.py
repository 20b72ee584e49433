"""Event ingest through Dagster: the asset, its check, the landing-zone sensor and the CLI."""

from __future__ import annotations

from pathlib import Path

from dagster import DagsterInstance, RunRequest, SkipReason, build_sensor_context, materialize
from dagster_cli import run_dagster
from event_lines import event, line, write_lines

from pipelines.events.assets import usage_events
from pipelines.events.definitions import landing_zone_sensor
from pipelines.events.landing_zone_resource import LandingZone

PROJECT = Path(__file__).resolve().parent.parent


def test_materialising_usage_events_reports_loaded_and_rejected_rows(ch, landing):
    write_lines(landing / "a.jsonl", event("e1"), "not json", event("e2", ts="2026-10-06T00:00:00Z"))
    result = materialize(
        [usage_events], resources={"clickhouse": ch, "landing_zone": LandingZone(events_dir=str(landing))}
    )
    assert result.success
    metadata = result.asset_materializations_for_node("usage_events")[0].metadata
    assert metadata["rows_loaded"].value == 2
    assert metadata["rows_rejected"].value == 1
    assert metadata["events_in_table"].value == 2
    assert metadata["files"].value == 1
    assert "not valid JSON | 1" in metadata["reject_reasons"].value
    assert metadata["first_event_ts"].value == "2026-10-05 10:15:00+00:00"
    assert metadata["last_event_ts"].value == "2026-10-06 00:00:00+00:00"


def test_the_reject_rate_check_warns_when_more_than_one_percent_of_lines_are_bad(ch, landing):
    write_lines(landing / "a.jsonl", event("e1"), "not json")
    result = materialize(
        [usage_events], resources={"clickhouse": ch, "landing_zone": LandingZone(events_dir=str(landing))}
    )
    [check] = result.get_asset_check_evaluations()
    assert check.passed is False
    assert check.metadata["reject_rate"].value == 0.5


def test_the_sensor_requests_a_run_only_when_a_file_appears_or_grows(ch, landing):
    zone = LandingZone(events_dir=str(landing))
    with DagsterInstance.ephemeral() as instance:
        def tick(cursor):
            context = build_sensor_context(instance=instance, cursor=cursor,
                                           resources={"landing_zone": zone, "clickhouse": ch})
            return landing_zone_sensor(context), context.cursor

        result, cursor = tick(None)
        assert isinstance(result, SkipReason)
        path = write_lines(landing / "a.jsonl", event("e1"))
        result, cursor = tick(cursor)
        assert isinstance(result, RunRequest)
        result, cursor = tick(cursor)
        assert isinstance(result, SkipReason)
        with open(path, "a") as handle:
            handle.write('{"event_id": "e2"')
        result, cursor = tick(cursor)
        assert isinstance(result, RunRequest)


def test_the_first_tick_starts_no_run_for_files_an_earlier_ingest_read_whole(ch, landing):
    """`make dev` after `make demo`: the sensor has no cursor yet, but the demo's ingest read every file."""
    zone = LandingZone(events_dir=str(landing))
    write_lines(landing / "a.jsonl", event("e1"))
    write_lines(landing / "b.jsonl", event("e2"))
    assert materialize([usage_events], resources={"clickhouse": ch, "landing_zone": zone}).success
    with DagsterInstance.ephemeral() as instance:
        resources = {"landing_zone": zone, "clickhouse": ch}
        first = build_sensor_context(instance=instance, cursor=None, resources=resources)
        assert isinstance(landing_zone_sensor(first), SkipReason)
        with open(landing / "b.jsonl", "a") as handle:  # b grows after the ingest: that is new
            handle.write(line(event("e3")))
        second = build_sensor_context(instance=instance, cursor=None, resources=resources)
        request = landing_zone_sensor(second)
        assert isinstance(request, RunRequest)
        assert request.tags["changed_files"] == "1"


def test_the_dagster_cli_materialises_usage_events_from_the_project_definitions(tmp_path, landing, ch):
    write_lines(landing / "a.jsonl", event("e1"), event("e2"))
    completed = run_dagster("asset", "materialize", "--select", "usage_events", home=tmp_path / "dagster", ch=ch,
                            LEDGER_EVENTS_DIR=str(landing))
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "RUN_SUCCESS" in completed.stderr
    assert ch.query_rows("SELECT count() FROM usage_events FINAL") == [(2,)]
