"""The one rule set for usage events (pipelines/events/rules.py): its SQL is what is checked in, and the
rules hold the same on every path (ClickHouse reading a file, raw lines shipped to it)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from event_lines import event, line, write_lines

from pipelines.events import load, rules
from pipelines.events.ingest import ingest_landing_zone
from pipelines.storage.migrations import MIGRATIONS_DIR

ALL_COLUMNS = "SELECT * EXCEPT (source, ingested_at) FROM usage_events FINAL ORDER BY source, source_position"


def rejected(ch) -> list[tuple]:
    return ch.query_rows("SELECT position, reason FROM rejected_events FINAL ORDER BY position")


def test_the_cluster_kafka_views_are_what_the_rules_generate():
    assert rules.KAFKA_VIEWS.read_text() == rules.kafka_views_sql()


def test_the_file_ingest_query_is_what_the_rules_generate():
    assert rules.FILE_QUERY.read_text() == rules.file_ingest_sql()


def test_the_newest_event_rules_migration_is_what_the_rules_generate():
    newest = sorted(MIGRATIONS_DIR.glob("*_event_rules.sql"))[-1]
    assert newest.read_text() == rules.migration_sql(), (
        f"{newest.name} no longer matches pipelines/events/rules.py: add a migration with "
        "`python -m pipelines.events.rules --migration NNNN` (applied migrations are never edited)")


def test_every_rule_names_a_field_of_the_table():
    with pytest.raises(KeyError, match=r"usage\.no_such_field"):
        rules._render("{usage.no_such_field} < 0")


MIXED = [
    event("ok"),                                                                # 1
    "{broken",                                                                  # 2
    event("big", usage={"input_tokens": 2**63}),                                # 3  above a signed 64-bit integer
    event("bool", status=True),                                                 # 4
    event("leap", ts="2026-02-29T00:00:00Z"),                                   # 5  2026 is no leap year
    event("micro", ts="2026-10-05T10:15:00.1234Z"),                             # 6  more than milliseconds
    event("short-offset", ts="2026-10-05T12:15+02"),                            # 7  ok: 10:15 UTC
    event("ancient", ts="1999-12-31T23:59:59Z"),                                # 8
    event("half", latency_ms=12.5, ratelimit={"tokens-limit": 9, "tokens-remaining": -1}),  # 9 ok
    event("version", schema_version=2),                                         # 10
    event("obj", usage={"cache_creation": 5}),                                  # 11
    "",                                                                         # 12 blank
    event("status", status=1000),                                               # 13
]


def expected_rejects() -> list[tuple[int, str]]:
    return [
        (2, "not valid JSON"),
        (3, "usage.input_tokens is out of range: 9223372036854775808"),
        (4, "status must be an integer, got true"),
        (5, "ts is not an RFC 3339 timestamp with a UTC offset"),
        (6, "ts is not an RFC 3339 timestamp with a UTC offset"),
        (8, "ts is outside 2000-01-01 .. 2100-01-01"),
        (10, "unsupported schema_version"),
        (11, "usage.cache_creation must be an object"),
        (13, "status is not an HTTP status code"),
    ]


def test_edge_cases_of_types_timestamps_and_ranges(ch, landing):
    write_lines(landing / "a.jsonl", *MIXED)
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (3, 9)
    assert rejected(ch) == expected_rejects()
    assert ch.query_rows("SELECT event_id, toString(ts), latency_ms, ratelimit FROM usage_events FINAL "
                         "ORDER BY source_position") == [
        ("ok", "2026-10-05 10:15:00.000", None, {}),
        ("short-offset", "2026-10-05 10:15:00.000", None, {}),
        ("half", "2026-10-05 10:15:00.000", 12, {"tokens-limit": 9}),  # 12.5 rounds half to even; -1 dropped
    ]


def test_shipping_raw_lines_to_the_server_gives_what_reading_the_file_gives(tmp_path, monkeypatch, databases):
    monkeypatch.setattr(load, "SHIP_BYTES", 100)  # many inserts, and lines cut across read boundaries

    results = []
    for ship in (False, True):
        landing = tmp_path / f"events-{ship}"
        landing.mkdir()
        write_lines(landing / "a.jsonl", *MIXED)
        with gzip.open(landing / "b.jsonl.gz", "wt") as handle:
            handle.write(line(event("g1")) + "not json\n" + line(event("g2"))[:-1])  # no final newline
        with databases.resource(tmp_path / f"ledger-{ship}") as ch:
            report = ingest_landing_zone(ch, landing, ship=ship)
            rejects = ch.query_rows("SELECT replaceOne(source, {d:String}, ''), position, reason, raw "
                                    "FROM rejected_events FINAL ORDER BY source, position", {"d": str(landing)})
            results.append(((report.loaded, report.rejected), ch.query_rows(ALL_COLUMNS), rejects))
    assert results[0][0] == (3 + 2, 9 + 1)
    assert results[1] == results[0]


def test_a_gz_file_still_being_written_is_left_whole_for_the_next_run(ch, landing):
    data = gzip.compress("".join(line(event(f"g{i}")) for i in range(1000)).encode())
    path = landing / "live.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])  # the writer is half-way
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, list(report.skipped)) == (0, [str(path)])
    assert ch.query_rows("SELECT count() FROM ingest_files") == [(0,)]
    path.write_bytes(data)
    assert ingest_landing_zone(ch, landing).loaded == 1000
    assert ch.query_rows("SELECT count(), min(source_position), max(source_position) FROM usage_events FINAL") == [
        (1000, 1, 1000)]


def test_a_grown_gz_file_is_read_from_the_line_after_the_last_one_loaded(ch, landing):
    path = landing / "a.jsonl.gz"
    first = gzip.compress((line(event("g1")) + line(event("g2"))).encode())
    path.write_bytes(first)
    ingest_landing_zone(ch, landing)
    path.write_bytes(first + gzip.compress(line(event("g3")).encode()))  # a second gzip member appended
    assert ingest_landing_zone(ch, landing).loaded == 1
    assert ch.query_rows("SELECT event_id, source_position FROM usage_events FINAL ORDER BY event_id") == [
        ("g1", 1), ("g2", 2), ("g3", 3)]


def test_a_big_appended_file_reads_only_its_new_tail(ch, landing: Path):
    path = landing / "live.jsonl"
    write_lines(path, *[event(f"e{i}") for i in range(1, 2001)])
    ingest_landing_zone(ch, landing)
    with open(path, "a") as handle:
        handle.write(line(event("e2001")) + line("{bad"))
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (1, 1)
    assert rejected(ch) == [(2002, "not valid JSON")]
    assert ch.query_rows("SELECT count() FROM usage_events") == [(2001,)]  # no line was written twice
