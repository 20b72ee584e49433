"""``make bench``: every benchmark, each printing its figures beside its reference, then docs/performance.md
(and the forecast backtest, docs/forecast.md).

Each benchmark runs on the product's path, the local ClickHouse server, and beside it in the same run on embedded
chDB, the reference (bench/harness.py). Sizes default to the issue's (1M and 10M events);
``BENCH_SIZES=100000,1000000`` runs smaller ones, ``BENCH_ROUNDS=1`` one round of each measurement.
Generated inputs are kept in ``$LEDGER_HOME/bench`` between runs (delete it to regenerate), and so are the
figures of each benchmark (``results.json``): ``BENCH_SECTIONS=tick,incremental`` re-measures only those
and writes the page with the others' last figures (each section says when it was measured, and the machine's
load average then).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import allocation, budget_tick, fixed_cost, forecast_backtest, incremental, ingest
from bench.harness import PATHS
from bench.month import month_home
from pipelines import settings
from pipelines.metadata import markdown_table

DOC = Path(__file__).resolve().parent.parent / "docs" / "performance.md"


def _sizes() -> list[int]:
    raw = os.environ.get("BENCH_SIZES", "1000000,10000000")
    return [int(part) for part in raw.split(",") if part.strip()]


SECTIONS = {
    "ingest": ("1. JSONL ingest vs ClickHouse's own file() JSONEachRow", lambda w, sizes: ingest.measure(w, sizes)),
    "allocation": ("2. Allocation of a month", lambda w, sizes: allocation.measure(w, max(sizes))),
    "tick": ("3. Budget and anomaly sensor ticks, 100 budgets and the anomaly lines",
             lambda w, sizes: budget_tick.measure(w, sizes)),
    "incremental": ("4. Incremental cost of an hourly run after a month of history",
                    lambda w, sizes: incremental.measure(w)),
    "fixed_cost": ("5. The fixed cost of one run", lambda w, sizes: fixed_cost.measure(w)),
    "forecast": ("6. Budget forecast backtest against the straight run rate", lambda w, sizes: _forecast(w)),
}


def _forecast(workdir: Path) -> list[dict]:
    """The backtest writes its own page (docs/forecast.md); performance.md links it."""
    generated, demo = forecast_backtest.measure(workdir)
    forecast_backtest.write_doc(generated, demo)
    return []


def main() -> None:
    workdir = settings.ledger_home() / "bench"
    workdir.mkdir(parents=True, exist_ok=True)
    sizes = _sizes()
    chosen = [name.strip() for name in os.environ.get("BENCH_SECTIONS", ",".join(SECTIONS)).split(",")]
    saved = workdir / "results.json"
    results = json.loads(saved.read_text()) if saved.exists() else {}
    started = time.perf_counter()
    print(f"benchmarks on {os.cpu_count()} cores, Python {platform.python_version()}, sizes {sizes}", flush=True)
    for name in chosen:
        title, run = SECTIONS[name]
        print(f"\n== {title} (load average {_load()})", flush=True)
        begun, load = time.perf_counter(), _load()
        rows = run(workdir, sizes)
        results[name] = {"rows": rows, "measured": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                         "seconds": round(time.perf_counter() - begun), "load": f"{load} before, {_load()} after"}
        saved.write_text(json.dumps(results, indent=1))
    elapsed = time.perf_counter() - started
    write_doc(results)
    print(f"\nall benchmarks in {elapsed:.0f} s; wrote {DOC}")
    if "incremental" in chosen:
        for path in PATHS:
            shutil.rmtree(month_home(workdir, path), ignore_errors=True)


def _load() -> str:
    """The machine's load averages over 1, 5 and 15 minutes (other work on it slows every figure)."""
    return " / ".join(f"{value:.1f}" for value in os.getloadavg())


def standing(results: dict[str, dict]) -> str:
    """Where each target stands, read from the tables below (the same runs)."""
    def rows(name: str) -> list[dict]:
        return results.get(name, {}).get("rows", [])

    lines = []
    for row in rows("ingest"):
        lines.append([f"ingest, {row['events']} events, {row['path']}",
                      f"ours / native ≤ {ingest.RATIO_TARGET} (goal 1.0); peak RSS, process / server, < "
                      f"{ingest.RSS_TARGET_MB} MB",
                      f"ratio {row['ratio median (min)']}; peak RSS {row['ours peak RSS (MB)']} MB",
                      row["targets: ratio / RSS"]])
    target = f"target < {allocation.SECONDS_TARGET:.0f} s"
    for row in rows("allocation"):
        lines.append([f"allocation of a month, {row['events']} events, {row['path']}",
                      f"< {allocation.SECONDS_TARGET:.0f} s", f"{row['wall time median / min (s)']} s", row[target]])
    largest = {row["path"]: row for row in rows("tick")}  # each path's rows go by size, the largest last
    for row in largest.values():
        ratios = row["budget / anomaly tick vs smallest"]
        met = all(float(part.strip().rstrip("x")) <= budget_tick.TICK_RATIO_TARGET for part in ratios.split("/"))
        lines.append([f"budget / anomaly tick at {row['events']} events vs the smallest size, {row['path']}",
                      f"≤ {budget_tick.TICK_RATIO_TARGET}x", ratios, "met" if met else "MISSED"])
    for row in rows("fixed_cost"):
        if row[fixed_cost.TARGET]:
            lines.append(["fixed cost of one run (`dagster asset materialize usage_events`, nothing to read)",
                          f"< {fixed_cost.SECONDS_TARGET:.0f} s",
                          f"{row['wall median / min (s)']} s ({row['x import dagster']}x `import dagster`)",
                          row[fixed_cost.TARGET]])
    return markdown_table(["measure", "target", "figure (median / min)", ""], lines) if lines else "(not measured)"


def write_doc(results: dict[str, dict]) -> None:
    def table(name: str) -> str:
        rows = results.get(name, {}).get("rows", [])
        return markdown_table(list(rows[0]), [list(r.values()) for r in rows]) if rows else "(not run)"

    def when(name: str) -> str:
        section = results.get(name)
        if not section:
            return "*Not measured.*"
        took = f", in {section['seconds']} s" if "seconds" in section else ""
        load = f"; load average (1 / 5 / 15 min) {section['load']}" if "load" in section else ""
        return f"*Measured {section['measured']}{took}{load}.*"

    DOC.write_text(f"""# Performance

Measured by `make bench` ({os.cpu_count()} cores). Every benchmark runs twice in the same run, its rounds
interleaved:

- **server**, the product's path: every process speaks HTTP to the local ClickHouse server of its data directory
  (pipelines/storage/local_server.py), which reads landing-zone files in place. Each measurement has a server
  started for it, so the server's peak RSS (`VmHWM`, read before it stops) is that measurement's, and it is given
  beside the measuring process's (*process / server*).
- **embedded**, the reference the issue asks for: ClickHouse inside the measuring process through chDB, as the
  pipeline ran before every process moved to a server. The product has no embedded path any more, so it lives in
  bench/harness.py only: `EmbeddedClickHouse` is the product's `ClickHouseResource` with a clickhouse-connect
  `chdb://` client in place of the HTTP one (the `chdb` module comes with the product's `chdb-core` wheel); the code
  above the client (migrations, ingest, allocation, rollups, sensors) is the product's.

**The machine is shared and noisy**: 2 cores and other work whose load average is given with each section (a load
of 6 on 2 cores means a process gets about a third of a core). The same command's wall time varies between runs by
2x and more, so compare a figure only with its reference from the same run (ours with native, server with
embedded, a run with `import dagster`), never with another run's; CPU times, where given, vary less.

{standing(results)}

## 1. JSONL ingest

{ingest.DESCRIPTION}

{when("ingest")}

{table("ingest")}

{ingest.EXPLANATION}

## 2. Allocation of a month

{allocation.DESCRIPTION}

{when("allocation")}

{table("allocation")}

## 3. Budget and anomaly sensor ticks

{budget_tick.DESCRIPTION}

{when("tick")}

{table("tick")}

## 4. Incremental cost of an hourly run

{incremental.DESCRIPTION}

{when("incremental")}

{table("incremental")}

## 5. The fixed cost of one run

{fixed_cost.DESCRIPTION}

{when("fixed_cost")}

{table("fixed_cost")}

{fixed_cost.EXPLANATION}

## 6. Budget forecast

The backtest of the budget forecast against the straight run rate: [forecast.md](forecast.md).
{when("forecast")}
""")


if __name__ == "__main__":
    main()
