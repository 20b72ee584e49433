"""``make bench``: every benchmark, each printing its figures beside its reference, then docs/performance.md
(and the forecast backtest, docs/forecast.md).

Sizes default to the issue's (1M and 10M events); ``BENCH_SIZES=100000,1000000`` runs smaller ones.
Generated inputs are kept in ``$LEDGER_HOME/bench`` between runs (delete it to regenerate), and so are the
figures of each benchmark (``results.json``): ``BENCH_SECTIONS=tick,incremental`` re-measures only those
and writes the page with the others' last figures (each section says when it was measured).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import allocation, budget_tick, forecast_backtest, incremental, ingest
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
    "forecast": ("5. Budget forecast backtest against the straight run rate", lambda w, sizes: _forecast(w)),
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
        print(f"\n== {title}", flush=True)
        begun = time.perf_counter()
        rows = run(workdir, sizes)
        results[name] = {"rows": rows, "measured": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
                         "seconds": round(time.perf_counter() - begun)}
        saved.write_text(json.dumps(results, indent=1))
    elapsed = time.perf_counter() - started
    write_doc(results)
    print(f"\nall benchmarks in {elapsed:.0f} s; wrote {DOC}")
    if "incremental" in chosen:
        shutil.rmtree(workdir / "db", ignore_errors=True)


def write_doc(results: dict[str, dict]) -> None:
    def table(name: str) -> str:
        rows = results.get(name, {}).get("rows", [])
        return markdown_table(list(rows[0]), [list(r.values()) for r in rows]) if rows else "(not run)"

    def when(name: str) -> str:
        section = results.get(name)
        if not section:
            return "*Not measured.*"
        took = f", in {section['seconds']} s" if "seconds" in section else ""
        return f"*Measured {section['measured']}{took}.*"

    DOC.write_text(f"""# Performance

Measured by `make bench` ({os.cpu_count()} cores, embedded chDB; a machine shared with other work, so
absolute times vary between runs: compare each figure with its reference from the same run). Each
benchmark measures its reference in the same run. Re-run `make bench` to refresh this page.

## 1. JSONL ingest

Generated events (realistic field mix, ~5 % with cache fields, 0.1 % bad lines). *ours* is the
pipeline's ingest: ClickHouse reads the file and applies every event rule (pipelines/events/rules.py),
with dead letter, progress and de-duplicating table; *native* is ClickHouse parsing the same file itself
(`INSERT … SELECT … FROM file(…, JSONEachRow)`, no rule, bad rows skipped), with the same `pread` setting.
Each runs in a fresh process with a fresh database, in interleaved rounds (native, ours, shipped, native, …);
times are the median and the minimum of the rounds; peak RSS is that process's high-water mark (the largest
of the rounds). *shipped* is ours as it runs against a ClickHouse server (raw lines sent as Arrow inserts),
measured here against chDB.
Targets: ratio ours / native ≤ {ingest.RATIO_TARGET} (goal 1.0); peak RSS < {ingest.RSS_TARGET_MB} MB whatever the size.

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

## 5. Budget forecast

The backtest of the budget forecast against the straight run rate: [forecast.md](forecast.md).
{when("forecast")}
""")


if __name__ == "__main__":
    main()
