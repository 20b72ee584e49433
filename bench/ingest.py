"""JSONL ingest throughput and peak memory, against the engine's own parse of the same file, on both paths.

For each size, the same generated file is loaded by a fresh process into a fresh database, in interleaved rounds
(server: native, ours, shipped; embedded: native, ours; then the next round), so a busy machine slows them alike:

- *native*: ClickHouse parses the file itself (``INSERT … SELECT … FROM file(…, JSONEachRow)``) with no
  rule, no dead letter, bad rows skipped — the floor; same ``pread`` setting as ours;
- *ours*: the pipeline's ingest (``ingest_landing_zone``): ClickHouse reads the file as lines and applies
  every event rule (pipelines/events/rules.py), rejects to ``rejected_events``, progress recorded;
- *shipped* (server path, up to ``SHIP_UP_TO`` events): the same ingest as it runs against a server that cannot
  read the landing zone: the raw lines are sent over HTTP as Arrow inserts.

On the server path (the product's: bench/harness.py) a local server is started for each measurement and peak RSS
is given twice: the ingest process's (wait4) and the server's (``VmHWM``); embedded, ClickHouse runs in the ingest
process, so its one figure holds both. ``parts`` is the number of active ``usage_events`` parts when the run ends.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.generate_events import write_events
from bench.harness import PATHS, database, resource, run_child
from pipelines.events.ingest import ingest_landing_zone
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

RATIO_TARGET = 1.2
RSS_TARGET_MB = 1024
SHIP_UP_TO = 2_000_000  # sizes at which the shipped mode is measured too

DESCRIPTION = f"""Generated events (realistic field mix, ~5 % with cache fields, 0.1 % bad lines), each loaded by a
fresh process into a fresh database. *ours* is the pipeline's ingest (`ingest_landing_zone`): ClickHouse reads the file
and applies every event rule (pipelines/events/rules.py), with dead letter, progress and de-duplicating table;
*native* is ClickHouse parsing the same file itself (`INSERT … SELECT … FROM file(…, JSONEachRow)`, no rule, bad
rows skipped), with the same `pread` setting. On the **server** path the statements go over HTTP to a local server
started for the run, which reads the file in place; *shipped* is ours as it runs against a server that cannot see
the landing zone (the raw lines sent over HTTP as Arrow inserts; up to {SHIP_UP_TO:,} events); *server at rest* is
a server started, the schema applied and nothing loaded: the floor of the server's peak. On the **embedded** path
ClickHouse runs in the ingest process, whose peak RSS holds both. Rounds interleaved (server: at rest, native, ours,
shipped; embedded: native, ours; then the next round); times are the median and the minimum of the rounds, peak RSS
the largest of the rounds, *process / server* on the server path. Targets: ours / native ≤ {RATIO_TARGET} (goal
1.0); peak RSS < {RSS_TARGET_MB} MB at 10M events, for the ingest process and for the server."""

EXPLANATION = """**How ours works, and what is left over the floor.** ClickHouse reads the file with `file(path,
'LineAsString')` (`_row_number` gives each line's number) and one `INSERT` applies the whole rule set: one typed
`JSONExtract(line, 'Tuple(…)')` per line, a cheap RE2 `match()` that flags the lines whose raw text could hide a
value the typed extraction would coerce (and lines that are not JSON objects), exact `JSONType` checks with a
reason per field on flagged lines only (lazily evaluated `if`), then the value rules; a `Null` table fans the rows
out through materialised views into `usage_events`, `rejected_events` and a per-run tally. What remains over native
is the rule work itself (the pre-filter regex over every line, the timestamp pattern, the reason `multiIf`), the
second view and the dead letter. The `pread` setting is the same for both; ours inserts in blocks of 131,072 rows /
64 MiB with the views run one after the other (pipelines/events/rules.py), and the whole run is one database
session, so the parts' merges finish within it.

**Server and embedded.** The SQL is the same on both paths and runs in the same engine (chdb-core 26.9), so ours /
native measures the rules, not the path; the server path adds a handful of HTTP round trips per file. What moves is
the memory: on the server path the ingest process only sends statements (its peak, ~180 MB, is Python with
clickhouse-connect), and ClickHouse's memory (the parse, the views, the merges of the run's parts) is the
server's. The server's peak includes the server itself: *server at rest* (~520–535 MB here) is ~120 MB of its own
memory and ~410 MB of ClickHouse's code, mapped from the wheel's library (`RssFile` in /proc/<pid>/status: shared
and reclaimable, but counted in RSS; embedded, the same pages are the ingest process's). *ours: largest INSERT* is
the server's own account of the memory the statement allocated (query_log `memory_usage`): allocations, not
resident pages, so it can exceed what the statement adds to the RSS; it says the statement, not the background
merges, makes the peak. *Shipped* sends the raw lines over HTTP as Arrow (cut with numpy, no per-line Python) into
`usage_events_lines`, whose view applies the same rules; the client holds a 32 MB piece at a time.

**What limits the targets (2026-12-07, 1M events, three interleaved rounds, load average 3–5).** Ratio, server:
median 1.14, minimum 1.16 (5.50 s against 4.83 s): within the 1.2 target, above the 1.0 goal by the rule work
above. Peak RSS, server path: the ingest process 183 MB; the server 1,244 MB, over the 1 GiB target already at 1M
(native's own peak on the server: 1,236 MB): ~535 MB at rest plus ~0.7 GB for the INSERT. A lever measured in a
separate experiment (two interleaved rounds at 1M, load 2.3–2.6): insert blocks of 65,536 rows / 32 MiB peaked at
993 and 1,072 MB against 1,111 and 1,219 MB for today's blocks, at about the same speed (4.6–5.0 s against
4.4–4.7 s); `max_threads = 1` did not lower it (1,203 and 1,218 MB). Not adopted: the block size is the ingest's
setting (pipelines/events/rules.py) and wants the 10M figure of interleaved rounds on a quiet machine first. Before
the move to a server (embedded only, 2026-12-02): ratio 0.86–1.99 at 10M in single rounds; peak RSS 1.17–1.21 GB
at 10M, against native's 2.4 GB."""


MODES = {"server": ("idle", "native", "ours", "shipped"), "embedded": ("native", "ours")}


@dataclass
class Run:
    seconds: float
    rows: int
    rejected: int
    parts: int
    peak_rss_mb: float  # the ingest process's
    server_peak_rss_mb: float | None  # the local server's, on the server path
    insert_mb: float | None  # the largest INSERT's memory by the server's accounting, on the server path


def measure_once(path: str, mode: str, file: Path, home: Path) -> Run:
    """One ingest of ``file`` in a fresh process into a fresh database at ``home`` (removed afterwards)."""
    subprocess.run(["rm", "-rf", str(home)], check=True)
    try:
        with database(path, home) as server:
            child = run_child("bench.ingest", path, mode, str(file), str(home))
    finally:
        subprocess.run(["rm", "-rf", str(home)], check=True)
    result = child.result
    return Run(result["seconds"], result["rows"], result["rejected"], result["parts"], child.peak_rss_mb,
               server.peak_rss_mb if server else None, result["insert_mb"])


def _work(path: str, mode: str, file: Path, home: Path) -> dict:
    """Runs inside the child process: one ingest, timed."""
    ch = resource(path, home)
    ch.command("CREATE TABLE IF NOT EXISTS native_usage_events AS usage_events")  # migrations: before the clock
    start = time.perf_counter()
    if mode == "idle":
        table, rejected = "usage_events", 0
    elif mode == "native":
        ch.command(sql("native_jsoneachrow_ingest"), {"path": str(file)})
        table, rejected = "native_usage_events", -1
    else:
        report = ingest_landing_zone(ch, file.parent, ship=mode == "shipped")
        table, rejected = "usage_events", report.rejected
    seconds = time.perf_counter() - start
    [[rows, parts]] = ch.query_rows(sql("table_rows_and_parts"), {"table": table})
    insert_mb = None
    if path == "server":
        ch.command("SYSTEM FLUSH LOGS")
        insert_mb = (ch.query_rows(sql("largest_insert_memory"))[0][0] or 0) / 2**20
    return {"seconds": seconds, "rows": rows, "rejected": rejected, "parts": parts, "insert_mb": insert_mb}


def _rounds(count: int) -> int:
    return int(os.environ.get("BENCH_ROUNDS") or (3 if count <= SHIP_UP_TO else 1))


def _modes(path: str, count: int) -> tuple[str, ...]:
    return tuple(mode for mode in MODES[path] if mode != "shipped" or count <= SHIP_UP_TO)


def measure(workdir: Path, sizes: list[int]) -> list[dict]:
    results = []
    for count in sizes:
        folder = workdir / f"events-{count}"
        folder.mkdir(parents=True, exist_ok=True)
        file = folder / "events.jsonl"
        if not file.exists():
            started = time.perf_counter()
            write_events(file, count)
            print(f"generated {count:,} events ({file.stat().st_size / 1e6:,.0f} MB) in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        runs: dict[str, dict[str, list[Run]]] = {path: {mode: [] for mode in _modes(path, count)} for path in PATHS}
        for round_ in range(_rounds(count)):
            for path in PATHS:
                for mode in _modes(path, count):
                    run = measure_once(path, mode, file, workdir / f"db-{path}-{mode}-{count}")
                    runs[path][mode].append(run)
                    print(f"  {count:,} events, round {round_ + 1}, {path} {mode}: {run.seconds:.2f} s, peak RSS "
                          f"{_rss([run])} MB, {run.rows:,} rows in {run.parts} parts", flush=True)
        results += [_row(count, file.stat().st_size / 1e6, path, runs[path]) for path in PATHS]
    return results


def _rss(runs: list[Run]) -> str:
    """The largest peak of the runs: the process's, and the server's after a slash on the server path."""
    process = f"{max(r.peak_rss_mb for r in runs):,.0f}"
    servers = [r.server_peak_rss_mb for r in runs if r.server_peak_rss_mb is not None]
    return f"{process} / {max(servers):,.0f}" if servers else process


def _peak(runs: list[Run]) -> float:
    """The figure the RSS target is about: the larger of the process's and the server's peaks."""
    return max(max(r.peak_rss_mb, r.server_peak_rss_mb or 0.0) for r in runs)


def _row(count: int, megabytes: float, path: str, runs: dict[str, list[Run]]) -> dict:
    def median(mode: str) -> float:
        return statistics.median(r.seconds for r in runs[mode])

    def fastest(mode: str) -> float:
        return min(r.seconds for r in runs[mode])

    ours = runs["ours"]
    row = {
        "events": f"{count:,}",
        "file (MB)": f"{megabytes:,.0f}",
        "path": path,
        "runs": len(ours),
        "ours median / min (s)": f"{median('ours'):.2f} / {fastest('ours'):.2f}",
        "native median / min (s)": f"{median('native'):.2f} / {fastest('native'):.2f}",
        "ratio median (min)": f"{median('ours') / median('native'):.2f} ({fastest('ours') / fastest('native'):.2f})",
        "ours events/s": f"{count / median('ours'):,.0f}",
        "ours peak RSS (MB)": _rss(ours),
        "native peak RSS (MB)": _rss(runs["native"]),
        "ours parts": max(r.parts for r in ours),
        "loaded / rejected": f"{ours[0].rows:,} / {ours[0].rejected:,}",
        "shipped median (s)": f"{median('shipped'):.2f} ({median('shipped') / median('ours'):.2f}x ours)"
        if "shipped" in runs else "-",
        "shipped peak RSS (MB)": _rss(runs["shipped"]) if "shipped" in runs else "-",
        "ours: largest INSERT, server's accounting (MB)": f"{max(r.insert_mb or 0.0 for r in ours):,.0f}"
        if path == "server" else "-",
        "server at rest (MB)": f"{max(r.server_peak_rss_mb or 0.0 for r in runs['idle']):,.0f}" if "idle" in runs
        else "-",
    }
    ratio = median("ours") / median("native")
    peak = _peak(ours)
    row["targets: ratio / RSS"] = (f"{'met' if ratio <= RATIO_TARGET else 'MISSED'} / "
                                   f"{'met' if peak < RSS_TARGET_MB else 'MISSED'}")
    print(f"ingest {count:>12,} events, {path}: ours {row['ours median / min (s)']} s | native "
          f"{row['native median / min (s)']} s | ratio {row['ratio median (min)']} (target <= {RATIO_TARGET}: "
          f"{'met' if ratio <= RATIO_TARGET else 'MISSED'}) | peak RSS {row['ours peak RSS (MB)']} MB (target < "
          f"{RSS_TARGET_MB}: {'met' if peak < RSS_TARGET_MB else 'MISSED'}) | {row['ours parts']} parts | loaded / "
          f"rejected {row['loaded / rejected']} | shipped {row['shipped median (s)']}", flush=True)
    return row


if __name__ == "__main__":
    path_name, mode_name, file_path, home_dir = sys.argv[1:5]
    print(json.dumps(_work(path_name, mode_name, Path(file_path), Path(home_dir))))
