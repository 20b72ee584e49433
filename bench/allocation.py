"""Allocation of a generated month: wall time and peak RSS of ``allocate_month`` in a fresh process.

The month (``bench/month.py``) is generated inside ClickHouse by one child process; another child then
runs the allocation alone, so its peak RSS (wait4) is the allocation's own high-water mark.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.month import HOURS, MONTH, build_month, ledger_config, month_home
from pipelines.allocation.allocate import allocate_month
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

SECONDS_TARGET = 30.0

DESCRIPTION = f"""A month ({HOURS} hours of October 2026) of generated usage events and the Admin API rows of the
same month: usage per cell derived from the events, with 20 % of cells reporting 25 % more (a residual for
the owners or 'unattributed'), 5 % reporting 5 % less (events over-count and are scaled down), console use
in every hour, and a cost report for all but the last two days (provisional). `allocate_month` splits,
prices and trues up the whole month in ClickHouse (`sql/allocation_*.sql`) and swaps it in; it runs in a
fresh process, timed from its first statement, peak RSS being that process's high-water mark (chDB's
own memory included). Target: under {SECONDS_TARGET:.0f} s on this machine."""


def _child(mode: str, home: Path, events: int) -> tuple[dict, float]:
    process = subprocess.Popen([sys.executable, "-m", "bench.allocation", mode, str(home), str(events)],
                               stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(process.pid, 0)
    output = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"allocation benchmark step {mode!r} failed")
    return json.loads(output.strip().splitlines()[-1]), usage.ru_maxrss / 1024


def _work(mode: str, home: Path, events: int) -> dict:
    """Runs inside the child process."""
    ch = build_month(home, events)
    if mode == "build":
        return {"events": events}
    config = ledger_config()
    started = time.perf_counter()
    allocate_month(ch, MONTH, config)
    seconds = time.perf_counter() - started
    [[rows, cells, tokens, authority, residual_tokens, allocated]] = ch.query_rows(
        sql("allocation_of_month_summary"), {"month": MONTH})
    return {"seconds": seconds, "rows": rows, "event_cells": cells, "tokens": tokens, "authority": authority,
            "residual_tokens": residual_tokens, "allocated_usd": str(allocated)}


def measure(workdir: Path, events: int) -> list[dict]:
    home = month_home(workdir)
    shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    _child("build", home, events)
    print(f"month of {events:,} events ready in {time.perf_counter() - started:.0f} s", flush=True)
    result, peak_rss_mb = _child("allocate", home, events)
    met = "met" if result["seconds"] < SECONDS_TARGET else "MISSED"
    print(f"allocation of {events:,} events: {result['seconds']:.1f} s (target < {SECONDS_TARGET:.0f} s: {met}), "
          f"peak RSS {peak_rss_mb:.0f} MB | {result['rows']:,} allocation rows from {result['event_cells']:,} event "
          f"cells | tokens allocated {result['tokens']:,} = authority {result['authority']:,}: "
          f"{result['tokens'] == result['authority']}", flush=True)
    return [{
        "events": f"{events:,}",
        "event cells": f"{result['event_cells']:,}",
        "allocation rows": f"{result['rows']:,}",
        "residual share of tokens": f"{result['residual_tokens'] / result['tokens']:.1%}",
        "tokens = Admin API": "yes" if result["tokens"] == result["authority"] else "NO",
        "allocated USD": f"{Decimal(result['allocated_usd']):,.2f}",
        "wall time (s)": f"{result['seconds']:.1f}",
        "target (s)": f"< {SECONDS_TARGET:.0f}",
        "peak RSS (MB)": f"{peak_rss_mb:.0f}",
    }]


if __name__ == "__main__":
    step, home_dir, count = sys.argv[1:4]
    print(json.dumps(_work(step, Path(home_dir), int(count))))
