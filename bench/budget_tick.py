"""Budget and anomaly tick times versus the number of raw events: they must not grow with them. On both paths.

100 budgets over a generated organisation (40 scope combinations x 3 models, every hour of the month so far),
and the anomaly lines of LEDGER_CONFIG over the same traffic. Measured at each event count in its own
database, on the product's local server and on the embedded reference (bench/harness.py): the spend-rollup
refresh and the cache analysis (asset runs; they read the events, so they grow) and the ``budget_alerts`` and
``anomaly_alerts`` sensor ticks (they read only the rollups, so they should not). Prints the figures and their
ratios. ``python -m bench.budget_tick [--sizes 100000,1000000]``; ``make bench`` (bench/run.py) calls
``measure()`` with its sizes.
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
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import yaml
from dagster import DagsterInstance, build_sensor_context

from bench.harness import PATHS, database, resource
from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.anomalies.sensors import anomaly_alerts
from pipelines.budgets.assets import budget_alerts
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.cache.analysis import refresh_cache_analysis
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

SENSORS = {"budget": budget_alerts, "anomaly": anomaly_alerts}

DESCRIPTION = f"""100 budgets (team, feature, workspace, api key and org scopes; daily and monthly) and the anomaly
lines (every scope kind, three baseline weeks) over a generated organisation (40 scope combinations x 3 models,
every hour of October 2026 up to the 28th, 12:00), at each event count in its own database, on each path (the
product's local server, and the embedded reference). The spend-rollup refresh and the cache analysis (asset runs)
read the events, so they grow with them; the `budget_alerts` and `anomaly_alerts` sensor ticks read only the
rollups (`spend_hourly`: one row per hour, scope and model; the daily cache rollups), so they must not. Ticks of
all sizes and both paths are interleaved (a busy machine slows them alike); after one tick that sends what is due,
the median of the steady-state ticks is compared. Target: tick time at the largest size / smallest <=
{TICK_RATIO_TARGET}, on each path.

*db session open* is what opening the tick's one database session costs: on the server path a clickhouse-connect
HTTP client (its first queries: the server's version and settings), which does not depend on the data; embedded,
opening chDB, which costs more the more data the database holds (measured before the move to a server: about
170 ms at 1M events and 350 ms at 10M on this machine, whatever the number of parts). *without session*
subtracts it: the ticks' own work."""


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
    """One database with ``events`` generated events and fresh rollups, ticked by both sensors."""

    def __init__(self, path: str, home: Path, events: int) -> None:
        self.path = path
        self.ch: ClickHouseResource = resource(path, home)
        load_prices(self.ch)
        with self.ch.connect() as client:  # one session, as one ingest run: merges proceed while it lasts
            generate(self.ch, 0, events)
            started = time.perf_counter()
            self.refresh = refresh_spend_rollup(self.ch, NOW)
            self.refresh_s = time.perf_counter() - started
            started = time.perf_counter()
            refresh_cache_analysis(self.ch)
            self.cache_refresh_s = time.perf_counter() - started
            self.stored = stored_events(client).count
            [[_, self.parts]] = client.query(sql("table_rows_and_parts"),
                                             parameters={"table": "usage_events"}).result_rows
        self.instance = DagsterInstance.ephemeral()
        self.cursors: dict[str, str | None] = dict.fromkeys(SENSORS)
        self.ticks: dict[str, list[float]] = {name: [] for name in SENSORS}
        self.sessions: list[float] = []
        self.tick()  # sends what is due (to the log); the measured ticks are steady state
        for measured in self.ticks.values():
            measured.clear()

    def tick(self) -> None:
        for name, sensor in SENSORS.items():
            resources = {"clickhouse": self.ch, "slack": SlackResource(), "clock": Clock(frozen_at=NOW.isoformat()),
                         "ledger_config": LedgerConfig()}
            context = build_sensor_context(instance=self.instance, cursor=self.cursors[name], resources=resources)
            started = time.perf_counter()
            sensor(context)
            self.ticks[name].append(time.perf_counter() - started)
            self.cursors[name] = context.cursor

    def median(self, name: str) -> float:
        return statistics.median(self.ticks[name])

    def open_session(self) -> None:
        """A steady-state tick opens one database session; embedded chDB's open costs more with more data."""
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
    """One row per size and path, for bench.run's table. Each has its own database (on the server path, its own
    local server); the ticks of all of them are interleaved, so a busy machine slows them alike and the ratios stay
    meaningful."""
    home = workdir / "budget_tick"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    config = home / "ledger.yaml"
    config.write_text(yaml.safe_dump({"budgets": budgets(), "anomalies": {
        "slack_channel": "#bench", "baseline_weeks": 3, "min_baseline_weeks": 3}}))
    logging.disable(logging.WARNING)  # the first tick of each size "sends" its alerts to the log
    try:
        with _ledger_config(config), ExitStack() as servers:
            benches = []
            for path in PATHS:
                for size in sorted(sizes):
                    servers.enter_context(database(path, home / f"{path}-{size}"))
                    benches.append(TickBench(path, home / f"{path}-{size}", size))
            for _ in range(ticks):
                for bench in benches:
                    bench.tick()
                    bench.open_session()
    finally:
        logging.disable(logging.NOTSET)
        shutil.rmtree(home, ignore_errors=True)
    rows = []
    for bench in benches:
        first = next(b for b in benches if b.path == bench.path)  # the smallest size of the same path
        session = statistics.median(bench.sessions)
        ratio = {name: bench.median(name) / first.median(name) for name in SENSORS}
        own = {name: (bench.median(name) - session) / (first.median(name) - statistics.median(first.sessions))
               for name in SENSORS}
        rows.append({
            "events": f"{bench.stored:,}",
            "path": bench.path,
            "rollup rows": f"{bench.refresh.rows:,}",
            "rollup / cache refresh (s)": f"{bench.refresh_s:.2f} / {bench.cache_refresh_s:.2f}",
            "budget tick median (ms)": f"{bench.median('budget') * 1000:.0f}",
            "anomaly tick median (ms)": f"{bench.median('anomaly') * 1000:.0f}",
            "of which db session open (ms)": f"{session * 1000:.0f}",
            "usage_events parts": bench.parts,
            "budget / anomaly tick vs smallest": f"{ratio['budget']:.2f}x / {ratio['anomaly']:.2f}x",
            "without session: budget / anomaly": f"{own['budget']:.2f}x / {own['anomaly']:.2f}x",
        })
        for name in SENSORS:
            met = "met" if ratio[name] <= TICK_RATIO_TARGET else "MISSED"
            print(f"{name} tick at {bench.stored:>12,} events, {bench.path}: median {bench.median(name) * 1000:.0f} "
                  f"ms, {ratio[name]:.2f}x the smallest (target <= {TICK_RATIO_TARGET}: {met}); without the session "
                  f"open ({session * 1000:.0f} ms): {own[name]:.2f}x", flush=True)
        print(f"  rollup refresh {bench.refresh_s:.2f} s ({bench.refresh.rows:,} rows), cache analysis "
              f"{bench.cache_refresh_s:.2f} s", flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated event counts")
    parser.add_argument("--ticks", type=int, default=15)
    args = parser.parse_args(argv)
    sizes = sorted(int(part) for part in args.sizes.split(",") if part.strip())
    print(f"100 budgets and the anomaly lines, {HOURS} hours of the month so far, 40 scope combinations x 3 models, "
          f"on {' and '.join(PATHS)}")
    with tempfile.TemporaryDirectory(prefix="budget-tick-") as workdir:
        rows = measure(Path(workdir), sizes, args.ticks)
    print(markdown_table(list(rows[0]), [list(r.values()) for r in rows]))
    for row in rows[len(sizes) - 1::len(sizes)]:
        print(f"{row['path']}: budget / anomaly tick time at {row['events']} vs {rows[0]['events']} events "
              f"({sizes[-1] / sizes[0]:.0f}x the events): {row['budget / anomaly tick vs smallest']}")


if __name__ == "__main__":
    main()
