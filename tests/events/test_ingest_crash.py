"""Crash safety of file ingest: a real ``dagster asset materialize`` process group is SIGKILLed at several
moments of its step, then a run completes; the totals must be exact for plain and gzipped files alike.

ClickHouse commits a file's rows in blocks (up to 131,072 rows or 64 MiB each) and the file's progress
only after its last block: a kill inside a file leaves none, some or all of its blocks and no progress,
so the next run reads the file again and the tables collapse what was there already."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from clickhouse_databases import server_env

from pipelines.storage.clickhouse import ClickHouseResource

PROJECT = Path(__file__).resolve().parent.parent.parent
DAGSTER = str(Path(sys.executable).parent / "dagster")
GZ_LINES, PLAIN_LINES = 300_000, 60_000
BAD_EVERY = 1_000  # line 1000, 2000, ... of each file is not JSON
NAMES = ("a-archive.jsonl.gz", "b-1.jsonl", "b-2.jsonl", "b-3.jsonl")


def write_landing(landing: Path) -> None:
    """A gz file of 300,000 lines and 3 plain files of 60,000; every 1000th line is not JSON, every other line
    an event of 3 input tokens."""
    for number in range(len(NAMES)):
        lines = []
        for line in range(1, (GZ_LINES if number == 0 else PLAIN_LINES) + 1):
            if line % BAD_EVERY == 0:
                lines.append("not json")
            else:
                lines.append(json.dumps({
                    "schema_version": 1, "event_id": f"f{number}-{line}", "ts": "2026-10-05T10:15:00Z",
                    "team": "search", "model": "claude-haiku-4-5", "request_id": f"req-{number}-{line}",
                    "usage": {"input_tokens": 3, "output_tokens": 1},
                }))
        text = "\n".join(lines) + "\n"
        if number == 0:
            with gzip.open(landing / NAMES[0], "wt", compresslevel=1) as handle:
                handle.write(text)
        else:
            (landing / NAMES[number]).write_text(text)


def environment(tmp_path: Path, landing: Path, ch: ClickHouseResource) -> dict[str, str]:
    env = {**os.environ, **server_env(ch), "LEDGER_EVENTS_DIR": str(landing), "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir(exist_ok=True)
    return env


def materialise(env: dict[str, str], kill: tuple[str, float] | None) -> int:
    """One ``dagster asset materialize --select usage_events``; SIGKILL its process group the given time after
    it logged the given text (None: let it finish). Returns the exit code (negative: killed)."""
    process = subprocess.Popen(
        [DAGSTER, "asset", "materialize", "-m", "pipelines.definitions", "--select", "usage_events"],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    assert process.stderr is not None
    if kill is None:
        _, errors = process.communicate(timeout=600)
        assert process.returncode == 0, errors[-3000:]
        return 0
    text, delay = kill
    deadline = time.monotonic() + 300
    for line in process.stderr:  # dagster logs each event to stderr as it happens
        if text in line:
            break
        assert time.monotonic() < deadline, f"the run never logged {text!r}"
    time.sleep(delay)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    process.stderr.close()
    return process.returncode


# (text the run logs, seconds after it): before any file, inside the gz file, inside a plain file after the
# gz file was loaded, and inside the last file.
MOMENTS = {
    "before-any-file": [("STEP_START", 0.0)],
    "mid-gz-file": [(f"reading {{landing}}/{NAMES[0]}", 0.5), (f"reading {{landing}}/{NAMES[0]}", 1.2)],
    "mid-plain-files": [(f"reading {{landing}}/{NAMES[1]}", 0.1), (f"reading {{landing}}/{NAMES[3]}", 0.1)],
}


@pytest.mark.parametrize("moments", MOMENTS.values(), ids=MOMENTS.keys())
def test_a_killed_ingest_loses_nothing_and_counts_nothing_twice_once_a_run_completes(tmp_path, ch, moments):
    landing = tmp_path / "events"
    landing.mkdir()
    write_landing(landing)
    env = environment(tmp_path, landing, ch)
    for text, delay in moments:
        assert materialise(env, kill=(text.format(landing=landing), delay)) == -signal.SIGKILL
    assert materialise(env, kill=None) == 0
    # gz: 300,000 lines, 300 bad, 299,700 events; plain: 60,000 lines, 60 bad, 59,940 events each; 3 tokens each
    events = 299_700 + 3 * 59_940
    assert ch.query_rows("SELECT count(), sum(input_tokens), uniqExact(event_id) FROM usage_events FINAL") == [
        (events, 3 * events, events)]
    assert ch.query_rows("SELECT count(), countIf(reason = 'not valid JSON') FROM rejected_events FINAL") == [
        (300 + 3 * 60, 300 + 3 * 60)]
    assert ch.query_rows("SELECT path, lines_read FROM ingest_files FINAL ORDER BY path") == [
        (str(landing / name), GZ_LINES if name.endswith(".gz") else PLAIN_LINES) for name in NAMES]
