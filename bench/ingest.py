"""JSONL ingest throughput and peak memory, against the engine's own parse of the same file.

For each size, the same generated file is loaded by a fresh process into a fresh embedded database, in
interleaved rounds (native, ours, shipped, native, ours, …, so a busy machine slows them alike):

- *native*: ClickHouse parses the file itself (``INSERT … SELECT … FROM file(…, JSONEachRow)``) with no
  rule, no dead letter, bad rows skipped — the floor; same ``pread`` setting as ours;
- *ours*: the pipeline's ingest (``ingest_landing_zone``): ClickHouse reads the file as lines and applies
  every event rule (pipelines/events/rules.py), rejects to ``rejected_events``, progress recorded;
- *shipped*: the same ingest as it runs against a ClickHouse server, which cannot read the file: the raw
  lines are sent as Arrow inserts (here into chDB; only the 1M size, to keep the run short).

Peak RSS is each child's own high-water mark (wait4). ``parts`` is the number of active ``usage_events``
parts when the run ends (one database session for the whole run lets merges finish).
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
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

RATIO_TARGET = 1.2
RSS_TARGET_MB = 1024
SHIP_UP_TO = 2_000_000  # sizes at which the shipped mode is measured too

EXPLANATION = """**How ours works, and what is left over the floor.** ClickHouse reads the file with `file(path,
'LineAsString')` (`_row_number` gives each line's number) and one `INSERT` applies the whole rule set: one typed
`JSONExtract(line, 'Tuple(…)')` per line, a cheap RE2 `match()` that flags the lines whose raw text could hide a
value the typed extraction would coerce (and lines that are not JSON objects), exact `JSONType` checks with a
reason per field on flagged lines only (lazily evaluated `if`), then the value rules; a `Null` table fans the rows
out through materialised views into `usage_events`, `rejected_events` and a per-run tally. What remains over native
is the rule work itself (the pre-filter regex over every line, the timestamp pattern, the reason `multiIf`), the
second view and the dead letter. The `pread` setting is the same for both (not chDB's default mmap, which makes RSS
grow with the file); ours also inserts in blocks of 131,072 rows / 64 MiB with the views run one after the other
(the issue's 262,144 rows / 128 MiB with parallel views peaked at 1.12–1.16 GB on 1M events here, these settings at
0.88–0.98 GB, at the same speed), and one database session per run lets the parts' merges finish (the old per-32
MB-batch sessions cancelled them: ~167 parts at 10M). *Shipped* is the path for a ClickHouse server that cannot see
the landing directory: the raw lines go over clickhouse-connect as Arrow (lines cut with numpy, no per-line Python)
into `usage_events_lines`, whose view applies the same rules; against chDB that costs an Arrow IPC temp file per 32
MB and the view's per-block execution. On a real server the transfer is the HTTP body (the lines, uncompressed) and
the rules run there, in parallel with the client reading the next chunk. **Where the targets stand (2026-12-02, on
a machine whose load average from other work was 3–7 on 2 cores).** Ratio: at 1M, in the make bench run below,
median 0.98 and minimum 1.22 (three interleaved rounds); an earlier run of three rounds (with the issue's
262,144-row blocks) gave 1.35 and 1.12; at 10M the two single-round runs gave 0.86 (95 s vs 111 s) and 1.99 (133 s
vs 67 s): the same code and file, so the spread is the machine's, and a 10M figure needs interleaved rounds on a
quiet machine before it says more than 'about native'. Rows, line numbers and rejects equal the old pipeline's:
9,990,111 loaded and 9,889 rejected at 10M, and on a 20,000-line fuzz set the same accepted rows (every column) and
reject lines, reasons differing only in wording (JSON syntax errors are 'not valid JSON' without orjson's column;
1e2 reads 'got 100' not 'got 100.0'; an integer above 2^63 - 1 is 'out of range' where pyarrow's message was passed
on). Peak RSS: about 1.0 GB at 1M and 1.17–1.21 GB at 10M, so the < 1 GiB target is missed by about 15 % at 10M,
against native's 2.4 GB; what grows with the file is the background merging of the run's parts, which now happens
inside the run (that is what keeps them at 8–9). With 65,536-row / 32 MiB insert blocks one 10M run peaked at 1,018
MB but took twice as long (197 s, not interleaved); not adopted. The embedded database runs in the ingest process,
so its merges count towards that process's RSS; against a ClickHouse server they do not."""


@dataclass
class Run:
    seconds: float
    rows: int
    rejected: int
    parts: int
    peak_rss_mb: float


def _child(mode: str, path: Path, home: Path) -> Run:
    subprocess.run(["rm", "-rf", str(home)], check=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.ingest", mode, str(path), str(home)], stdout=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read() if process.stdout else ""
    subprocess.run(["rm", "-rf", str(home)], check=True)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{mode} ingest of {path} failed")
    result = json.loads(output.strip().splitlines()[-1])
    return Run(result["seconds"], result["rows"], result["rejected"], result["parts"], usage.ru_maxrss / 1024)


def _work(mode: str, path: Path, home: Path) -> dict:
    """Runs inside the child process: one ingest, timed."""
    from pipelines.events.ingest import ingest_landing_zone
    from pipelines.storage.clickhouse import ClickHouseResource

    ch = ClickHouseResource(ledger_home=str(home))
    ch.command("CREATE TABLE IF NOT EXISTS native_usage_events AS usage_events")  # migrations: before the clock
    start = time.perf_counter()
    if mode == "native":
        ch.command(sql("native_jsoneachrow_ingest"), {"path": str(path)})
        table, rejected = "native_usage_events", -1
    else:
        report = ingest_landing_zone(ch, path.parent, ship=mode == "shipped")
        table, rejected = "usage_events", report.rejected
    seconds = time.perf_counter() - start
    [[rows, parts]] = ch.query_rows(sql("table_rows_and_parts"), {"table": table})
    return {"seconds": seconds, "rows": rows, "rejected": rejected, "parts": parts}


def _rounds(count: int) -> int:
    return int(os.environ.get("BENCH_ROUNDS") or (3 if count <= SHIP_UP_TO else 1))


def measure(workdir: Path, sizes: list[int]) -> list[dict]:
    results = []
    for count in sizes:
        folder = workdir / f"events-{count}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "events.jsonl"
        if not path.exists():
            started = time.perf_counter()
            write_events(path, count)
            print(f"generated {count:,} events ({path.stat().st_size / 1e6:,.0f} MB) in "
                  f"{time.perf_counter() - started:.0f} s", flush=True)
        megabytes = path.stat().st_size / 1e6
        modes = ["native", "ours", "shipped"] if count <= SHIP_UP_TO else ["native", "ours"]
        runs: dict[str, list[Run]] = {mode: [] for mode in modes}
        for round_ in range(_rounds(count)):
            for mode in modes:
                run = _child(mode, path, workdir / f"db-{mode}-{count}")
                runs[mode].append(run)
                print(f"  {count:,} events, round {round_ + 1}, {mode}: {run.seconds:.2f} s, peak RSS "
                      f"{run.peak_rss_mb:,.0f} MB, {run.rows:,} rows in {run.parts} parts", flush=True)
        results.append(_row(count, megabytes, runs))
    return results


def _row(count: int, megabytes: float, runs: dict[str, list[Run]]) -> dict:
    def median(mode: str) -> float:
        return statistics.median(r.seconds for r in runs[mode])

    def fastest(mode: str) -> float:
        return min(r.seconds for r in runs[mode])

    ours, native = runs["ours"], runs["native"]
    row = {
        "events": f"{count:,}",
        "file (MB)": f"{megabytes:,.0f}",
        "runs": len(ours),
        "ours median / min (s)": f"{median('ours'):.2f} / {fastest('ours'):.2f}",
        "native median / min (s)": f"{median('native'):.2f} / {fastest('native'):.2f}",
        "ratio median (min)": f"{median('ours') / median('native'):.2f} ({fastest('ours') / fastest('native'):.2f})",
        "ours events/s": f"{count / median('ours'):,.0f}",
        "ours peak RSS (MB)": f"{max(r.peak_rss_mb for r in ours):,.0f}",
        "native peak RSS (MB)": f"{max(r.peak_rss_mb for r in native):,.0f}",
        "ours parts": max(r.parts for r in ours),
        "loaded / rejected": f"{ours[0].rows:,} / {ours[0].rejected:,}",
        "shipped median (s)": f"{median('shipped'):.2f} ({median('shipped') / median('ours'):.2f}x ours)"
        if "shipped" in runs else "-",
    }
    ratio = median("ours") / median("native")
    rss = max(r.peak_rss_mb for r in ours)
    print(f"ingest {count:>12,} events: ours {row['ours median / min (s)']} s | native "
          f"{row['native median / min (s)']} s | ratio {row['ratio median (min)']} (target <= {RATIO_TARGET}: "
          f"{'met' if ratio <= RATIO_TARGET else 'MISSED'}) | peak RSS {rss:,.0f} MB (target < {RSS_TARGET_MB}: "
          f"{'met' if rss < RSS_TARGET_MB else 'MISSED'}) | {row['ours parts']} parts | loaded / rejected "
          f"{row['loaded / rejected']} | shipped {row['shipped median (s)']}", flush=True)
    return row


if __name__ == "__main__":
    mode, file_path, home_dir = sys.argv[1:4]
    print(json.dumps(_work(mode, Path(file_path), Path(home_dir))))
