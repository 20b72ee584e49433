"""The ingest benchmark's reference (ClickHouse parsing the file itself) must keep loading the table our ingest
loads: when a migration adds a column to usage_events, the native query has to follow, or `make bench` breaks."""

from __future__ import annotations

import json
from pathlib import Path

from bench.generate_events import write_events
from bench.ingest import _child

EVENTS = 2_000  # the generator makes about one line in a thousand bad (bench/generate_events.py BAD)


def test_the_native_reference_and_our_ingest_store_the_same_good_events(tmp_path: Path) -> None:
    path = tmp_path / "events" / "events.jsonl"
    path.parent.mkdir()
    write_events(path, EVENTS)
    native = _child("native", path, tmp_path / "db-native")
    ours = _child("ours", path, tmp_path / "db-ours")
    assert ours.rows == _good_lines(path)
    assert ours.rows + ours.rejected == EVENTS
    assert native.rows >= ours.rows  # no validation: it may keep a bad line its parser accepts, never lose a good one


def _good_lines(path: Path) -> int:
    """The generator's good lines: JSON with an event id that is not one of its 'bad…' ids."""
    good = 0
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        good += not str(event.get("event_id", "bad")).startswith("bad")
    return good
