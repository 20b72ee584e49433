"""A generated month of history for the allocation and incremental benchmarks, built inside ClickHouse.

October 2026 (744 hours): ``events`` usage events (``sql/bench/month_of_events_generated.sql``), the Admin
API usage derived from them with residuals and over-counted cells, a cost report for all but the last two
days (those stay provisional, as when the report lags) and the bundled list prices. Both benchmarks use
the same month, one database per path (``<workdir>/month-<path>``); ``bench/run.py`` deletes them at the end.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from pipelines.allocation.config import AttributionConfig, Owners, Team
from pipelines.events.load import stored_events
from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

MONTH = date(2026, 10, 1)
START = datetime(2026, 10, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, tzinfo=UTC)
HOURS = int((END - START).total_seconds() // 3600)
COST_REPORT_UNTIL = END - timedelta(days=2)
BATCH = 2_000_000


def month_home(workdir: Path, path: str) -> Path:
    return workdir / f"month-{path}"


def ledger_config() -> AttributionConfig:
    """Ten teams; four api keys and the default workspace have owners, the rest of the residual is unattributed."""
    return AttributionConfig(
        teams={f"team_{i}": Team(cost_center=f"CC-{100 + i}") for i in range(10)},
        owners=Owners(api_keys={f"apikey_{i}": f"team_{i}" for i in range(4)},
                      workspaces={"wrkspc_0": "team_0", "": "team_9"}),
    )


def build_month(ch: ClickHouseResource, events: int) -> None:
    """The month's history in the database of ``ch``: generated into an empty database, kept if it holds it."""
    stored = stored_events(ch).count
    if stored == events:
        return
    if stored:
        raise ValueError(f"{ch.describe()} holds {stored:,} events, not a generated month of {events:,}: delete it")
    started = time.perf_counter()
    load_prices(ch)
    for first in range(0, events, BATCH):
        ch.command(sql("month_of_events_generated"),
                   {"first": first, "count": min(BATCH, events - first), "start": START, "hours": HOURS})
    extracted_at = datetime.now(UTC)
    ch.command(sql("admin_usage_hourly_from_events"),
               {"start": START, "until": END, "extracted_at": extracted_at})
    ch.command(sql("admin_cost_daily_from_usage"),
               {"start": START, "until": COST_REPORT_UNTIL, "extracted_at": extracted_at})
    ch.command("OPTIMIZE TABLE usage_events FINAL")  # as after the background merges of a month
    print(f"generated a month of {events:,} events and its Admin API rows in {time.perf_counter() - started:.0f} s",
          flush=True)
