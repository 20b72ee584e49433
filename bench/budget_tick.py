"""Budget tick time versus the number of raw events: it must not grow with them.

100 budgets over a generated organisation (40 scope combinations, every hour of the month so far).
Measured at 100k and at 1M events in ``usage_events``: the spend-rollup refresh (an asset run; it
reads the events, so it grows) and the ``budget_alerts`` sensor tick (reads only the rollup, so it
should not). Prints both figures and their ratio. ``python -m bench.budget_tick [--sizes 100000,1000000]``;
``make bench`` (bench/run.py) calls ``measure()`` with its sizes.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import yaml
from dagster import DagsterInstance, build_sensor_context

from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.budgets.assets import budget_alerts
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.events.load import stored_events
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

NOW = datetime(2026, 10, 28, 12, tzinfo=UTC)
MONTH_START = datetime(2026, 10, 1, tzinfo=UTC)
HOURS = int((NOW - MONTH_START).total_seconds() // 3600)
TICK_RATIO_TARGET = 1.2

DESCRIPTION = f"""100 budgets (team, feature, workspace, api key and org scopes; daily and monthly) over a generated
organisation (40 scope combinations, every hour of October 2026 up to the 28th, 12:00), at each event count
in its own database. The spend-rollup refresh (an asset run) reads the events, so it grows with them; the
`budget_alerts` sensor tick reads only the rollup (one row per hour and scope), so it must not. Ticks of all
sizes are interleaved (a busy machine slows them alike); after one tick that sends what is due, the median
of the steady-state ticks is compared. Target: tick time at the largest size / smallest ≤ {TICK_RATIO_TARGET}.

The tick's queries read only the rollup, but each tick opens one embedded chDB session (one per tick, not
per query), and opening it loads the metadata of every part of every table, about 100–150 ms fixed plus
0.5 ms per part. Parts therefore matter, not rows: the events are written as an ingest run writes them, in
one database session (here the generator's inserts), so their merges finish and `usage_events` keeps few
parts (the *usage_events parts* column); before, a session per 32 MB batch cancelled the merges and parts
piled up with the events (the tick grew 1.48x from 1M to 10M)."""


def budgets(count: int = 100) -> list[dict]:
    """A mix of scopes and periods over the generated organisation's 40 scope combinations."""
    out = []
    for i in range(count):
        kind = i % 5
        scope, target = [("team", f"team_{i % 10}"), ("feature", f"feature_{i % 40}"), ("workspace", f"wrkspc_{i % 4}"),
                         ("api_key", f"apikey_{i % 8}"), ("org", None)][kind]
        budget = {"id": f"b{i:03d}", "scope": scope, "period": "day" if i % 2 else "month",
                  "amount_usd": 50 + 37 * i, "slack_channel": "#bench"}
        if target is not None:
            budget["target"] = target
        if i % 7 == 0:
            budget["env"] = "prod"
        out.append(budget)
    return out


def generate(ch: ClickHouseResource, first: int, count: int, batch: int = 250_000) -> None:
    for offset in range(first, first + count, batch):
        ch.command(sql("usage_events_generated"), {
            "first": offset, "count": min(batch, first + count - offset), "start": MONTH_START, "hours": HOURS})


class TickBench:
    """One database with ``events`` generated events and a fresh rollup, ticked by the sensor."""

    def __init__(self, home: Path, events: int) -> None:
        self.ch = ClickHouseResource(ledger_home=str(home))
        load_prices(self.ch)
        with self.ch.connect() as client:  # one session, as one ingest run: merges proceed while it lasts
            generate(self.ch, 0, events)
            started = time.perf_counter()
            self.refresh = refresh_spend_rollup(self.ch, NOW)
            self.refresh_s = time.perf_counter() - started
            self.stored = stored_events(client).count
            [[_, self.parts]] = client.query(sql("table_rows_and_parts"),
                                             parameters={"table": "usage_events"}).result_rows
        self.instance = DagsterInstance.ephemeral()
        self.cursor: str | None = None
        self.ticks: list[float] = []
        self.sessions: list[float] = []
        self.tick()  # sends what is due (to the log); the measured ticks are steady state
        self.ticks.clear()

    def tick(self) -> None:
        resources = {"clickhouse": self.ch, "slack": SlackResource(), "clock": Clock(frozen_at=NOW.isoformat()),
                     "ledger_config": LedgerConfig()}
        context = build_sensor_context(instance=self.instance, cursor=self.cursor, resources=resources)
        started = time.perf_counter()
        budget_alerts(context)
        self.ticks.append(time.perf_counter() - started)
        self.cursor = context.cursor

    def open_session(self) -> None:
        """A steady-state tick opens one database session; embedded chDB loads its parts' metadata on open."""
        started = time.perf_counter()
        with self.ch.connect():
            pass
        self.sessions.append(time.perf_counter() - started)


@contextmanager
def _ledger_config(path: Path) -> Iterator[None]:
    previous = os.environ.get("LEDGER_CONFIG")
    os.environ["LEDGER_CONFIG"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("LEDGER_CONFIG", None)
        else:
            os.environ["LEDGER_CONFIG"] = previous


def measure(workdir: Path, sizes: list[int], ticks: int = 15) -> list[dict]:
    """One row per size, for bench.run's table. Each size has its own database; the ticks of all sizes are
    interleaved, so a busy machine slows them alike and the ratio stays meaningful."""
    home = workdir / "budget_tick"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    config = home / "ledger.yaml"
    config.write_text(yaml.safe_dump({"budgets": budgets()}))
    logging.disable(logging.WARNING)  # the first tick of each size "sends" its alerts to the log
    try:
        with _ledger_config(config):
            benches = [TickBench(home / f"db-{size}", size) for size in sorted(sizes)]
            for _ in range(ticks):
                for bench in benches:
                    bench.tick()
                    bench.open_session()
    finally:
        logging.disable(logging.NOTSET)
        shutil.rmtree(home, ignore_errors=True)
    first = statistics.median(benches[0].ticks)
    rows = []
    for bench in benches:
        tick = statistics.median(bench.ticks)
        rows.append({
            "events": f"{bench.stored:,}",
            "rollup rows": f"{bench.refresh.rows:,}",
            "rollup refresh (s)": f"{bench.refresh_s:.2f}",
            "tick median (ms)": f"{tick * 1000:.0f}",
            "tick min / max (ms)": f"{min(bench.ticks) * 1000:.0f} / {max(bench.ticks) * 1000:.0f}",
            "of which db session open (ms)": f"{statistics.median(bench.sessions) * 1000:.0f}",
            "usage_events parts": bench.parts,
            "tick vs smallest": f"{tick / first:.2f}x",
        })
        met = "met" if tick / first <= TICK_RATIO_TARGET else "MISSED"
        print(f"budget tick at {bench.stored:>12,} events: median {tick * 1000:.0f} ms, {tick / first:.2f}x the "
              f"smallest (target <= {TICK_RATIO_TARGET}: {met}) | rollup refresh {bench.refresh_s:.2f} s, "
              f"{bench.refresh.rows:,} rollup rows", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated event counts")
    parser.add_argument("--ticks", type=int, default=15)
    args = parser.parse_args(argv)
    sizes = sorted(int(part) for part in args.sizes.split(",") if part.strip())
    print(f"100 budgets, {HOURS} hours of the month so far, 40 scope combinations, embedded chDB")
    with tempfile.TemporaryDirectory(prefix="budget-tick-") as workdir:
        rows = measure(Path(workdir), sizes, args.ticks)
    print(markdown_table(list(rows[0]), [list(r.values()) for r in rows]))
    print(f"tick time at {rows[-1]['events']} vs {rows[0]['events']} events ({sizes[-1] / sizes[0]:.0f}x the events): "
          f"{rows[-1]['tick vs smallest']}")


if __name__ == "__main__":
    main()
