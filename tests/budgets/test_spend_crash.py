"""Crash safety of the spend rollup budgets read: a real process that rebuilds ``spend_hourly`` over and over is
SIGKILLed at each rename it makes (each moment ClickHouse commits something to disk), and after each kill every
month of the rollup holds its spend once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from budget_helpers import allocate, utc
from crash import killed_at_each_rename

from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource

NOW = "2026-11-20 12:00"
# Each round forgets the last refresh (as on a first refresh), so that every refresh rebuilds both months of its
# window (from the start of the previous month) and swaps them in over the rollup's.
REFRESH_FOREVER = f"""
import sys
from datetime import UTC, datetime
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource(ledger_home=sys.argv[1])
with ch.connect() as client:
    while True:
        client.command("TRUNCATE TABLE spend_refreshes")
        refresh_spend_rollup(ch, datetime.fromisoformat("{NOW}").replace(tzinfo=UTC))
        print("written", flush=True)
"""


def test_a_rollup_refresh_killed_at_any_of_its_renames_leaves_each_month_s_spend_once(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    ch = ClickHouseResource(ledger_home=str(tmp_path / "ledger"))
    load_prices(ch)
    allocate(ch, "2026-10-31 23:00", "1.25")  # the previous month, Admin-API-priced
    allocate(ch, "2026-11-20 09:00", "0.40")
    refresh_spend_rollup(ch, utc(NOW))  # both months are in the rollup: each refresh below rewrites them

    def by_month() -> list[tuple]:  # every row as stored, not only after FINAL: a swapped month is never doubled
        return ch.query_rows("SELECT toStartOfMonth(hour) AS month, sum(spend_usd) FROM spend_hourly "
                             "GROUP BY month ORDER BY month")

    once = [(utc("2026-10-01").date(), Decimal("1.25")), (utc("2026-11-01").date(), Decimal("0.40"))]
    seen = killed_at_each_rename(REFRESH_FOREVER, [ch.ledger_home], by_month)
    assert seen == [once] * len(seen)
