"""Specification of JSONL usage-event ingest into usage_events / rejected_events (real chDB)."""

from __future__ import annotations

import gzip
import json
from datetime import datetime

from event_lines import event, line, write_lines

from pipelines.events.ingest import ingest_landing_zone

TOTALS = "SELECT count(), sum(input_tokens), sum(output_tokens) FROM usage_events FINAL"


def rejected(ch) -> list[tuple]:
    return ch.query_rows("SELECT position, reason FROM rejected_events FINAL ORDER BY position")


def test_good_lines_load_with_their_fields(ch, landing):
    write_lines(landing / "a.jsonl", event("e1"), event("e2", team="support", usage={"input_tokens": 7}))
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (2, 0)
    rows = ch.query_rows("SELECT event_id, team, input_tokens, output_tokens, service_tier FROM usage_events FINAL "
                         "ORDER BY event_id")
    assert rows == [("e1", "search", 100, 10, "standard"), ("e2", "support", 7, 0, "standard")]


def test_speed_and_inference_geo_load_with_their_defaults_when_absent(ch, landing):
    write_lines(landing / "a.jsonl", event("fast", speed="fast", inference_geo="us"), event("plain"))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT event_id, speed, inference_geo FROM usage_events FINAL ORDER BY event_id") == [
        ("fast", "fast", "us"), ("plain", "standard", "")]


def test_a_speed_that_is_not_a_string_is_rejected(ch, landing):
    write_lines(landing / "a.jsonl", event("bad", speed=2), event("ok"))
    assert (ingest_landing_zone(ch, landing).loaded, rejected(ch)) == (1, [(1, "speed must be a string, got 2")])


def test_replaying_the_same_file_changes_no_total(ch, landing):
    write_lines(landing / "a.jsonl", event("e1"), event("e2"))
    ingest_landing_zone(ch, landing)
    before = ch.query_rows(TOTALS)
    ch.command("TRUNCATE TABLE ingest_files")  # forget the offsets: the whole file is read again
    ingest_landing_zone(ch, landing)
    assert ch.query_rows(TOTALS) == before == [(2, 200, 20)]


def test_the_same_event_id_in_two_files_is_counted_once(ch, landing):
    write_lines(landing / "a.jsonl", event("e1"), event("e2"))
    write_lines(landing / "b.jsonl", event("e2"), event("e3"))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows(TOTALS) == [(3, 300, 30)]


def test_each_kind_of_bad_line_is_rejected_with_its_line_number_and_good_lines_still_load(ch, landing):
    write_lines(
        landing / "mixed.jsonl",
        event("ok1"),                                                    # 1
        "this is not json",                                              # 2
        {k: v for k, v in event("x").items() if k != "event_id"},                                   # 3
        event("bad-ts", ts="yesterday at noon"),                         # 4
        event("neg", usage={"input_tokens": -3}),                        # 5
        event("frac", usage={"output_tokens": 2.5}),                     # 6
        event("ok2"),                                                    # 7
        event("no-ts", ts=None),                                         # 8
        "[1, 2, 3]",                                                     # 9
        event("str-tok", usage={"input_tokens": "12"}),                  # 10
        event("naive-ts", ts="2026-10-05T10:15:00"),                     # 11
        event("ok3"),                                                    # 12
    )
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (3, 9)
    assert ch.query_rows("SELECT event_id FROM usage_events FINAL ORDER BY event_id") == [("ok1",), ("ok2",), ("ok3",)]
    assert rejected(ch) == [
        (2, "not valid JSON"),
        (3, "missing required field event_id"),
        (4, "ts is not an RFC 3339 timestamp with a UTC offset"),
        (5, "usage.input_tokens is negative"),
        (6, "usage.output_tokens must be an integer, got 2.5"),
        (8, "missing required field ts"),
        (9, "not a JSON object (a list)"),
        (10, 'usage.input_tokens must be an integer, got "12"'),
        (11, "ts is not an RFC 3339 timestamp with a UTC offset"),
    ]


def test_a_rejected_line_keeps_its_file_and_raw_text(ch, landing):
    path = write_lines(landing / "a.jsonl", event("ok"), "{broken")
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT source_type, source, partition, position, raw FROM rejected_events FINAL") == [
        ("file", str(path), -1, 2, "{broken")
    ]


def test_raw_text_of_a_rejected_line_is_truncated(ch, landing):
    write_lines(landing / "a.jsonl", "x" * 10_000)
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT length(raw) FROM rejected_events FINAL") == [(4096,)]


def test_unknown_extra_fields_are_not_fatal(ch, landing):
    write_lines(landing / "a.jsonl", event("e1", surprise={"nested": [1, 2]}, another="x"))
    assert ingest_landing_zone(ch, landing).loaded == 1


def test_blank_lines_carry_no_event_and_are_not_rejected(ch, landing):
    (landing / "a.jsonl").write_text(line(event("e1")) + "\n   \n" + line(event("e2")))
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (2, 0)
    assert ch.query_rows("SELECT event_id, source_position FROM usage_events FINAL ORDER BY event_id") == [
        ("e1", 1), ("e2", 4)
    ]


def test_an_appended_file_yields_only_its_new_complete_lines(ch, landing):
    path = landing / "live.jsonl"
    path.write_text(line(event("e1")) + json.dumps(event("e2"))[:40])  # e2 is still being written
    assert ingest_landing_zone(ch, landing).loaded == 1
    with open(path, "a") as handle:
        handle.write(json.dumps(event("e2"))[40:] + "\n" + line(event("e3")))
    report = ingest_landing_zone(ch, landing)
    assert report.loaded == 2
    assert ch.query_rows("SELECT event_id, source_position FROM usage_events FINAL ORDER BY event_id") == [
        ("e1", 1), ("e2", 2), ("e3", 3)
    ]
    assert ch.query_rows("SELECT count() FROM usage_events") == [(3,)]  # no line was read twice


def test_an_unchanged_file_is_not_read_again(ch, landing):
    write_lines(landing / "a.jsonl", event("e1"))
    ingest_landing_zone(ch, landing)
    assert ingest_landing_zone(ch, landing).files == {}


def test_gzipped_files_are_ingested(ch, landing):
    with gzip.open(landing / "old.jsonl.gz", "wt") as handle:
        handle.write(line(event("g1")) + line("not json") + json.dumps(event("g2")))  # last line: no newline
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (2, 1)
    assert ingest_landing_zone(ch, landing).files == {}


def test_cache_writes_are_counted_once_from_the_breakdown(ch, landing):
    usage = {
        "input_tokens": 10,
        "cache_read_input_tokens": 500,
        "cache_creation_input_tokens": 300,
        "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 200},
        "server_tool_use": {"web_search_requests": 2},
    }
    write_lines(landing / "a.jsonl", event("e1", usage=usage))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows(
        "SELECT input_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, "
        "web_search_requests FROM usage_events FINAL"
    ) == [(10, 500, 100, 200, 2)]


def test_cache_writes_without_a_breakdown_are_five_minute_writes(ch, landing):
    write_lines(landing / "a.jsonl", event("e1", usage={"cache_creation_input_tokens": 300}))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT cache_write_5m_tokens, cache_write_1h_tokens FROM usage_events FINAL") == [(300, 0)]


def test_a_breakdown_that_contradicts_the_total_is_rejected(ch, landing):
    usage = {"cache_creation_input_tokens": 300, "cache_creation": {"ephemeral_5m_input_tokens": 100}}
    write_lines(landing / "a.jsonl", event("e1", usage=usage))
    ingest_landing_zone(ch, landing)
    assert rejected(ch) == [(1, "usage.cache_creation breakdown (5m + 1h) does not sum to cache_creation_input_tokens")]


def test_timestamps_with_any_offset_are_stored_as_utc(ch, landing):
    write_lines(landing / "a.jsonl", event("e1", ts="2026-10-05T12:15:00.250+02:00"))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT ts FROM usage_events FINAL") == [(datetime(2026, 10, 5, 10, 15, 0, 250000),)]


def test_ratelimit_headers_are_kept_as_a_map(ch, landing):
    write_lines(landing / "a.jsonl", event("e1", ratelimit={"requests-remaining": 49, "tokens-limit": 80000}))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT ratelimit FROM usage_events FINAL") == [
        ({"requests-remaining": 49, "tokens-limit": 80000},)
    ]


def test_scattered_bad_lines_in_a_large_file_are_isolated_without_losing_good_lines(ch, landing):
    bad_at = {17, 1500, 1501, 2999, 4000}
    lines = [("{oops" if n in bad_at else event(f"e{n}")) for n in range(1, 5001)]
    write_lines(landing / "big.jsonl", *lines)
    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (4995, 5)
    assert [p for p, _ in rejected(ch)] == sorted(bad_at)
    assert ch.query_rows("SELECT count(), sum(source_position) FROM usage_events FINAL") == [
        (4995, sum(range(1, 5001)) - sum(bad_at))
    ]


def test_what_the_budget_guard_did_loads_with_the_event_and_defaults_to_nothing(ch, landing):
    write_lines(landing / "a.jsonl",
                event("down", model="claude-sonnet-4-6", requested_model="claude-opus-4-6", guard_action="downgrade",
                      guard_budget="search-daily"),
                event("plain"))
    ingest_landing_zone(ch, landing)
    assert ch.query_rows("SELECT event_id, model, requested_model, guard_action, guard_budget FROM usage_events "
                         "FINAL ORDER BY event_id") == [
        ("down", "claude-sonnet-4-6", "claude-opus-4-6", "downgrade", "search-daily"),
        ("plain", "claude-haiku-4-5-20251001", "", "", "")]
