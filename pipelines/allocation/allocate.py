"""Compute one month of showback (``allocation_hourly``) in ClickHouse and replace the month whole.

Python only binds parameters and sequences the statements; the splitting, pricing and true-up run as
SQL (``sql/allocation_*.sql``) so a month of ten million events never leaves the database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from clickhouse_connect.driver.client import Client

from pipelines.allocation.config import AttributionConfig
from pipelines.allocation.cost_centres import team_cost_centres, workspace_cost_centres
from pipelines.allocation.months import month_bounds
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)
# ClickHouse takes no query parameter for the source table of REPLACE PARTITION: one statement per table.
REPLACE_MONTH = {"allocation_hourly": sql("allocation_hourly_replace_month"),
                 "allocation_reconciliation_daily": sql("allocation_reconciliation_daily_replace_month"),
                 "chargeback_monthly": sql("chargeback_monthly_replace_month")}


def attribution_parameters(config: AttributionConfig, workspace_centres: dict[str, str]) -> dict[str, list[str]]:
    """Owners and cost centres (pipelines/allocation/cost_centres.py) as parallel arrays for ``transform()`` in
    SQL; ``workspace_centres``: workspace id -> its cost-centre tag's value."""
    keys, workspaces, centres = config.owners.api_keys, config.owners.workspaces, team_cost_centres(config)
    return {
        "key_ids": list(keys), "key_owners": list(keys.values()),
        "workspace_ids": list(workspaces), "workspace_owners": list(workspaces.values()),
        "teams": list(centres), "cost_centers": list(centres.values()),
        "tagged_workspace_ids": list(workspace_centres), "workspace_cost_centers": list(workspace_centres.values()),
    }


def replace_month(client: Client, table: str, month: date) -> None:
    """Swap the month built in ``<table>_staging`` into ``table`` atomically, then clear the staging.

    An empty month is a plain drop: ClickHouse refuses to replace a partition from an empty source.
    """
    staging = f"{table}_staging"
    built = client.query("SELECT count() FROM {table:Identifier} WHERE month = {month:Date}",
                         parameters={"table": staging, "month": month}).result_rows[0][0]
    if built:
        client.command(REPLACE_MONTH[table], parameters={"month": month})
        drop_month(client, staging, month)
    else:
        drop_month(client, table, month)


def drop_month(client: Client, table: str, month: date) -> None:
    client.command("ALTER TABLE {table:Identifier} DROP PARTITION {month:Date}", {"table": table, "month": month})


def allocate_month(ch: ClickHouseResource, month: date, config: AttributionConfig, now: datetime | None = None) -> None:
    """Recompute the month's ``allocation_hourly`` and ``allocation_reconciliation_daily``, each built in its
    staging table and swapped in whole, one run at a time (the server lock ``allocation``: two runs at once would
    mix their rows in the staging tables and in ``allocation_event_cells``, the work table)."""
    start, end = month_bounds(month)
    with ch.exclusive("allocation") as client:
        params: dict[str, Any] = {
            "month": month, "start": start, "end": end, "computed_at": now or datetime.now(UTC),
            **attribution_parameters(config, workspace_cost_centres(client, config)),
        }
        sources = source_fingerprints(client, month).get(month, (0, 0))  # before reading: a later change re-runs
        for table in ("allocation_event_cells", "allocation_hourly_staging", "allocation_reconciliation_daily_staging"):
            drop_month(client, table, month)
        client.command(sql("allocation_event_cells_of_month"), parameters=params)
        client.command(sql("allocation_hourly_of_month"), parameters=params)
        replace_month(client, "allocation_hourly", month)
        client.command(sql("allocation_reconciliation_of_month"), parameters=params)
        replace_month(client, "allocation_reconciliation_daily", month)
        client.insert("allocation_sources", [[month, *sources, params["computed_at"]]],
                      column_names=["month", "usage_fingerprint", "cost_fingerprint", "computed_at"])


def source_fingerprints(client: Client, since: date) -> dict[date, tuple[int, int]]:
    """Month -> fingerprints of its Admin API usage and cost report rows now, for the months from ``since``."""
    rows = client.query(sql("allocation_source_fingerprints"), parameters={"since": since}).result_rows
    return {month: (usage, cost) for month, usage, cost in rows}


def restated_months(ch: ClickHouseResource, since: date) -> list[date]:
    """Months from ``since`` allocated from other Admin API data than the data now holds (a restated day)."""
    with ch.connect() as client:
        now = source_fingerprints(client, since)
        recorded = {month: (usage, cost) for month, usage, cost in
                    client.query(sql("allocation_sources_recorded"), parameters={"since": since}).result_rows}
    return sorted(month for month, fingerprints in recorded.items() if now.get(month, (0, 0)) != fingerprints)
