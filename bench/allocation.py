"""Allocation of a generated month on both paths: wall time and peak RSS of ``allocate_month`` in a fresh process.

The month (``bench/month.py``) is generated inside ClickHouse by one child process per path; then, in interleaved
rounds (server, embedded, server, …), another child runs the allocation alone, so its peak RSS (wait4) is the
allocation's own high-water mark; on the server path each round has a fresh server over the month, whose peak RSS
(``VmHWM``) is the server's start plus the allocation.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.harness import PATHS, Child, database, resource, run_child
from bench.month import HOURS, MONTH, build_month, ledger_config, month_home
from pipelines.allocation.allocate import allocate_month
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

SECONDS_TARGET = 30.0
ROUNDS = 3

DESCRIPTION = f"""A month ({HOURS} hours of October 2026) of generated usage events and the Admin API rows of the
same month: usage per cell derived from the events, with 20 % of cells reporting 25 % more (a residual for
the owners or 'unattributed'), 5 % reporting 5 % less (events over-count and are scaled down), console use
in every hour, and a cost report for all but the last two days (provisional). `allocate_month` splits,
prices and trues up the whole month in ClickHouse (`sql/allocation_*.sql`) and swaps it in; it runs in a
fresh process, timed from its first statement, in interleaved rounds (server, embedded, …; each path has its own
copy of the month). Peak RSS is that process's high-water mark and, on the server path, the server's (a fresh
server each round: its start plus the allocation); embedded, chDB's memory is the process's. Target: under
{SECONDS_TARGET:.0f} s on this machine."""


def _work(step: str, path: str, home: Path, events: int) -> dict:
    """Runs inside the child process."""
    ch = resource(path, home)
    build_month(ch, events)
    if step == "build":
        return {"events": events}
    config = ledger_config()
    started = time.perf_counter()
    allocate_month(ch, MONTH, config)
    seconds = time.perf_counter() - started
    [[rows, cells, tokens, authority, residual_tokens, allocated]] = ch.query_rows(
        sql("allocation_of_month_summary"), {"month": MONTH})
    return {"seconds": seconds, "rows": rows, "event_cells": cells, "tokens": tokens, "authority": authority,
            "residual_tokens": residual_tokens, "allocated_usd": str(allocated)}


def _step(step: str, path: str, home: Path, events: int) -> tuple[Child, float | None]:
    with database(path, home) as server:
        child = run_child("bench.allocation", step, path, str(home), str(events))
    return child, server.peak_rss_mb if server else None


def measure(workdir: Path, events: int) -> list[dict]:
    for path in PATHS:
        home = month_home(workdir, path)
        shutil.rmtree(home, ignore_errors=True)
        started = time.perf_counter()
        _step("build", path, home, events)
        print(f"month of {events:,} events ready on the {path} path in {time.perf_counter() - started:.0f} s",
              flush=True)
    runs: dict[str, list[tuple[Child, float | None]]] = {path: [] for path in PATHS}
    for round_ in range(int(os.environ.get("BENCH_ROUNDS") or ROUNDS)):
        for path in PATHS:
            child, server_rss = _step("allocate", path, month_home(workdir, path), events)
            runs[path].append((child, server_rss))
            print(f"  allocation of {events:,} events, round {round_ + 1}, {path}: {child.result['seconds']:.1f} s, "
                  f"peak RSS {child.peak_rss_mb:,.0f} MB" + (f", server {server_rss:,.0f} MB" if server_rss else ""),
                  flush=True)
    return [_row(events, path, runs[path]) for path in PATHS]


def _row(events: int, path: str, runs: list[tuple[Child, float | None]]) -> dict:
    result = runs[0][0].result
    seconds = [child.result["seconds"] for child, _ in runs]
    process_rss = max(child.peak_rss_mb for child, _ in runs)
    servers = [server for _, server in runs if server is not None]
    rss = f"{process_rss:,.0f} / {max(servers):,.0f}" if servers else f"{process_rss:,.0f}"
    met = "met" if statistics.median(seconds) < SECONDS_TARGET else "MISSED"
    print(f"allocation of {events:,} events, {path}: median {statistics.median(seconds):.1f} s, min {min(seconds):.1f} "
          f"s (target < {SECONDS_TARGET:.0f} s: {met}), peak RSS {rss} MB | {result['rows']:,} allocation rows from "
          f"{result['event_cells']:,} event cells | tokens allocated {result['tokens']:,} = authority "
          f"{result['authority']:,}: {result['tokens'] == result['authority']} | {result['allocated_usd']} USD",
          flush=True)
    return {
        "events": f"{events:,}",
        "path": path,
        "event cells": f"{result['event_cells']:,}",
        "allocation rows": f"{result['rows']:,}",
        "residual share of tokens": f"{result['residual_tokens'] / result['tokens']:.1%}",
        "tokens = Admin API": "yes" if result["tokens"] == result["authority"] else "NO",
        "allocated USD": f"{Decimal(result['allocated_usd']):,.2f}",
        "runs": len(runs),
        "wall time median / min (s)": f"{statistics.median(seconds):.1f} / {min(seconds):.1f}",
        f"target < {SECONDS_TARGET:.0f} s": met,
        "peak RSS (MB)": rss,
    }


if __name__ == "__main__":
    step_name, path_name, home_dir, count = sys.argv[1:5]
    print(json.dumps(_work(step_name, path_name, Path(home_dir), int(count))))
