"""The ingest benchmark's reference (ClickHouse parsing the file itself) must keep loading the table our ingest
loads: when a migration adds a column to usage_events, the native query has to follow, or `make bench` breaks. On
both of the benchmark's paths: the product's local server, and the embedded reference (bench/harness.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.generate_events import write_events
from bench.harness import PATHS
from bench.ingest import measure_once

EVENTS = 2_000  # the generator makes about one line in a thousand bad (bench/generate_events.py BAD)


@pytest.mark.parametrize("path", PATHS)
def test_the_native_reference_and_our_ingest_store_the_same_good_events(tmp_path: Path, path: str) -> None:
    file = tmp_path / "events" / "events.jsonl"
    file.parent.mkdir()
    write_events(file, EVENTS)
    native = measure_once(path, "native", file, tmp_path / "db-native")
    ours = measure_once(path, "ours", file, tmp_path / "db-ours")
    assert ours.rows == _good_lines(file)
    assert ours.rows + ours.rejected == EVENTS
    assert native.rows >= ours.rows  # no validation: it may keep a bad line its parser accepts, never lose a good one
    assert (ours.server_peak_rss_mb is not None) == (path == "server")  # the server's memory, read before it stopped


def test_the_shipped_ingest_loads_what_the_server_reads_in_place(tmp_path: Path) -> None:
    file = tmp_path / "events" / "events.jsonl"
    file.parent.mkdir()
    write_events(file, EVENTS)
    shipped = measure_once("server", "shipped", file, tmp_path / "db-shipped")
    assert (shipped.rows, shipped.rejected) == (_good_lines(file), EVENTS - _good_lines(file))


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
