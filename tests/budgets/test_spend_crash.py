"""Crash safety of the spend rollup budgets read: a real process that rebuilds ``spend_hourly`` over and over is
SIGKILLed at random moments, and two such processes run at once (on a server nothing serialises two runs); every
month of the rollup holds its spend once after each kill, and whenever one of two overlapping refreshes ends."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from budget_helpers import allocate, utc
from crash import killed_repeatedly, writing_alongside

from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource

NOW = "2026-11-20 12:00"
ONCE = [(utc("2026-10-01").date(), Decimal("1.25")), (utc("2026-11-01").date(), Decimal("0.40"))]
# Each round forgets the last refresh (as on a first refresh), so that every refresh rebuilds both months of its
# window (from the start of the previous month) and swaps them in.
REFRESH_FOREVER = f"""
import sys
from datetime import UTC, datetime
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
with ch.connect() as client:
    while True:
        client.command("TRUNCATE TABLE spend_refreshes")
        refresh_spend_rollup(ch, datetime.fromisoformat("{NOW}").replace(tzinfo=UTC))
        print("written", flush=True)
"""


@pytest.fixture
def rollup(ch: ClickHouseResource, tmp_path: Path, monkeypatch):
    """October's $1.25 (Admin-API-priced) and November's $0.40 to roll up; reads each month's spend in the rollup,
    every row as stored, not only after FINAL (a swapped month is never doubled)."""
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    load_prices(ch)
    allocate(ch, "2026-10-31 23:00", "1.25")
    allocate(ch, "2026-11-20 09:00", "0.40")
    return lambda: ch.query_rows("SELECT toStartOfMonth(hour) AS month, sum(spend_usd) FROM spend_hourly "
                                 "GROUP BY month ORDER BY month")


def test_a_rollup_refresh_killed_at_any_moment_leaves_each_month_s_spend_once(ch, rollup):
    assert killed_repeatedly(REFRESH_FOREVER, [], rollup, ch=ch, seed=19) == [ONCE] * 5


def test_two_refreshes_at_once_leave_each_month_s_spend_once(ch, rollup):
    with writing_alongside(REFRESH_FOREVER, ch), writing_alongside(REFRESH_FOREVER, ch) as next_write:
        seen = []
        for _ in range(20):
            next_write()
            seen.append(rollup())
    assert seen == [ONCE] * 20
