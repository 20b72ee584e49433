"""What an hourly run reads after a month of history, from ClickHouse's own profile counters, on both paths.

The history is benchmark 2's month (``bench/month.py``: October 2026, allocated; each path has its copy), or one
of ``DEFAULT_EVENTS`` events when run alone. It is now 2026-11-01 01:00 and the spend rollup was refreshed
an hour ago. Each step of the hourly run is measured by diffing ``system.events`` (SelectedRows /
SelectedMarks / SelectedParts / InsertedRows) around it, in a fresh process of its own (on the server path, with a
server of its own started for it) so no other work mixes in; chDB has no ``system.query_log``, so the counters
are the measure both paths have.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from bench.harness import PATHS, database, resource, run_child
from bench.month import END, HOURS, MONTH, build_month, ledger_config, month_home
from pipelines.admin_api.assets import USAGE_LATE_HOURS
from pipelines.admin_api.collect import fetch_time, replace_usage_range
from pipelines.allocation.allocate import allocate_month, drop_month
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.events.ingest import ingest_landing_zone
from pipelines.events.load import stored_events
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

DEFAULT_EVENTS = 1_000_000
NOW = END + timedelta(hours=1)
DONE_MARKER = "incremental-measured"
COUNTERS = ["SelectedRows", "SelectedMarks", "SelectedParts", "InsertedRows"]

DESCRIPTION = f"""After a month of history ({HOURS} hours of October 2026 from benchmark 2, allocated, spend rollup
refreshed), the run of 2026-11-01 01:00: what each step reads, from ClickHouse's own profile counters
(`system.events` SelectedRows / SelectedMarks / SelectedParts / InsertedRows, diffed around the step in a
process of its own; chDB has no `system.query_log`), against the rows stored in the tables it reads, on each path
(the server path on a server of its own, which counts its own log flushes too).
Rows read include system tables: every database session reads about 2,000 rows of them (clickhouse-connect
loads `system.settings` on connect; the table's first row). Marks and parts count MergeTree data only.

- **Ingest of the new hour** and the **Admin API write** (the hourly collector re-fetches the last
  {USAGE_LATE_HOURS} hours: insert, then a lightweight `DELETE` of the superseded rows) touch only the new data:
  the ingest reads no `usage_events` data (its reads are the session floor, `ingest_files` and its own tally
  in `ingest_batches`, one mark),
  the Admin API write only the granules holding the re-fetched hours (8,192 rows each), whatever the history.
- **The spend rollup refresh** rebuilds only from the earliest hour that changed since the last refresh
  (`pipelines/budgets/spend.py`): the events written since (a view on `usage_events` records each written
  block's earliest hour in `usage_events_changes`), an allocation month that was rewritten, or the hours whose
  source moved with the allocation's end, copying the month's earlier hours from the rollup itself (the month
  is swapped in whole). After the new hour's ingest it reads that hour's events and the rollup, whether the
  allocation is up to date or there is none; only a change that really touches a whole month (here: the
  allocation of October dropped, so October's hours move to event pricing) re-reads that month's events.
  Before, every refresh re-read everything from the start of the previous month (up to two months of events).
- Not hourly, and not in the table: the allocation recomputes its whole month (benchmark 2) once a day."""


def _counters(ch: ClickHouseResource) -> dict[str, int]:
    values = dict(ch.query_rows(sql("profile_counters"), {"events": COUNTERS}))
    return {name: int(values.get(name, 0)) for name in COUNTERS}


def _stored(ch: ClickHouseResource) -> dict[str, int]:
    return {table: int(rows) for table, rows in ch.query_rows(sql("stored_rows"))}


def _write_hour(path: Path, hour: datetime, count: int) -> None:  # event ids carry the hour
    """``count`` events of one hour in the month's shape (same scopes and models), one JSON object a line."""
    models = ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101"]
    with open(path, "w") as out:
        for n in range(count):
            combo = n % 40
            ts = hour + timedelta(milliseconds=n * 3_600_000 // count)
            out.write(json.dumps({
                "schema_version": 1, "event_id": f"new_{hour:%d%H}_{n}", "ts": ts.isoformat().replace("+00:00", "Z"),
                "team": f"team_{combo % 10}", "feature": f"feature_{combo}",
                "env": ["prod", "staging", "dev"][combo % 3],
                "user": f"u_{n % 997}", "workspace_id": f"wrkspc_{combo % 4}", "api_key_id": f"apikey_{combo % 8}",
                "model": models[n // 40 % 3], "service_tier": "standard",
                "usage": {"input_tokens": 500 + n % 4000, "output_tokens": 50 + n % 900,
                          "cache_read_input_tokens": 2000 if n % 5 == 0 else 0},
                "latency_ms": 200 + n % 20000, "status": 200, "request_id": f"req_new_{hour:%d%H}_{n}",
            }) + "\n")


def _work(path: str, home: Path) -> list[dict]:
    """Runs inside the child process: set up, then measure each step of the hourly run."""
    ch = resource(path, home)
    if not stored_events(ch).count:
        build_month(ch, DEFAULT_EVENTS)
    events = stored_events(ch).count
    if not ch.query_rows(sql("allocation_of_month_summary"), {"month": MONTH})[0][0]:
        allocate_month(ch, MONTH, ledger_config())
    (home / DONE_MARKER).touch()  # from here on the month is no longer benchmark 2's
    refresh_spend_rollup(ch, END)
    landing = home / "landing"
    landing.mkdir(exist_ok=True)
    per_hour = max(1, events // HOURS)
    _write_hour(landing / "2026-11-01T00.jsonl", END, per_hour)
    fetch_start = END - timedelta(hours=USAGE_LATE_HOURS)
    refetched = ch.query_rows(sql("admin_usage_hourly_between"), {"start": fetch_start, "end": END})

    rows = []

    def step(name: str, tables: list[str], action: Callable[[], object]) -> None:
        stored = _stored(ch)
        before = _counters(ch)
        started = time.perf_counter()
        action()
        seconds = time.perf_counter() - started
        after = _counters(ch)
        read = after["SelectedRows"] - before["SelectedRows"]
        in_tables = sum(stored.get(table, 0) for table in tables)
        rows.append({
            "step": name,
            "path": path,
            "rows read": f"{read:,}",
            "marks read": f"{after['SelectedMarks'] - before['SelectedMarks']:,}",
            "parts read": f"{after['SelectedParts'] - before['SelectedParts']:,}",
            "rows inserted": f"{after['InsertedRows'] - before['InsertedRows']:,}",
            "rows stored in the tables read": f"{in_tables:,} ({', '.join(tables)})",
            "read / stored": f"{read / in_tables:.2%}" if in_tables else "-",
            "seconds": f"{seconds:.2f}",
        })

    step("floor: one database session doing nothing", [], lambda: None)
    step(f"ingest the new hour's JSONL ({per_hour:,} events)", ["usage_events", "ingest_files"],
         lambda: ingest_landing_zone(ch, landing))
    step(f"Admin API usage write: last {USAGE_LATE_HOURS} hours re-fetched ({len(refetched):,} rows)",
         ["admin_usage_hourly"], lambda: replace_usage_range(ch, refetched, fetch_start, END, fetch_time()))
    step("spend rollup refresh, allocation up to date (rebuilds from the new hour)",
         ["usage_events", "allocation_hourly", "spend_hourly"], lambda: refresh_spend_rollup(ch, NOW))

    with ch.connect() as client:
        drop_month(client, "allocation_hourly", MONTH)
    step("spend rollup refresh after October's allocation was dropped (rebuilds October from events)",
         ["usage_events", "spend_hourly"], lambda: refresh_spend_rollup(ch, NOW))
    _write_hour(landing / "2026-11-01T01.jsonl", NOW, per_hour)
    ingest_landing_zone(ch, landing)
    step(f"spend rollup refresh, nothing allocated, after the next hour's ingest ({per_hour:,} events)",
         ["usage_events", "spend_hourly"], lambda: refresh_spend_rollup(ch, NOW + timedelta(hours=1)))
    return rows


def measure(workdir: Path) -> list[dict]:
    """Uses benchmark 2's month of each path when it is there and untouched, else generates one of DEFAULT_EVENTS
    events. The rows of a step are together: the server path's, then the embedded one's."""
    by_path = []
    for path in PATHS:
        home = month_home(workdir, path)
        if (home / DONE_MARKER).exists():  # an earlier run has added its hour and dropped the allocation
            shutil.rmtree(home)
        with database(path, home):
            by_path.append(run_child("bench.incremental", path, str(home)).result)
    rows = [row for steps in zip(*by_path, strict=True) for row in steps]
    for row in rows:
        print(f"{row['step']:<70} {row['path']:>8}: read {row['rows read']:>12} rows of "
              f"{row['rows stored in the tables read']} = {row['read / stored']}, {row['seconds']} s", flush=True)
    return rows


if __name__ == "__main__":
    print(json.dumps(_work(sys.argv[1], Path(sys.argv[2]))))
