"""Helpers for budget tests: budgets in a LEDGER_CONFIG file, spend as allocation rows, sensor ticks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from dagster import DagsterInstance, build_sensor_context

from pipelines.alerts.clock import Clock
from pipelines.alerts.slack import SlackResource
from pipelines.budgets.assets import budget_alerts
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource

ALLOCATION_COLUMNS = ["month", "hour", "workspace_id", "api_key_id", "model", "service_tier", "context_window",
                      "token_type", "team", "feature", "env", "cost_center", "basis", "quantity", "list_cost_usd",
                      "allocated_cost_usd", "provisional", "computed_at"]


# What the budget and alert tests write; emptied between tests that share one module-wide database
# (a fresh embedded database per test costs about a second for the migrations alone).
WRITTEN_TABLES = ("usage_events", "allocation_hourly", "spend_hourly", "budget_status", "alerts_sent")


def emptied(ch: ClickHouseResource) -> ClickHouseResource:
    with ch.connect() as client:
        for table in WRITTEN_TABLES:
            client.command(f"TRUNCATE TABLE {table}")
    return ch


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def budget(id: str = "search-monthly", **fields: Any) -> dict[str, Any]:
    base = {"id": id, "scope": "team", "target": "search", "period": "month", "amount_usd": 1000,
            "slack_channel": "#search-costs"}
    base.update(fields)
    return base


def write_config(path: Path, monkeypatch: Any, *budgets: dict[str, Any], **sections: Any) -> Path:
    path.write_text(yaml.safe_dump({"budgets": list(budgets), **sections}))
    monkeypatch.setenv("LEDGER_CONFIG", str(path))
    return path


def allocate(ch: ClickHouseResource, hour: str, usd: str, team: str = "search", feature: str = "query-rewrite",
             env: str = "prod", workspace_id: str = "wrkspc_1", api_key_id: str = "apikey_1") -> None:
    """Admin-API-priced spend of ``usd`` in ``hour``, as the allocation would write it."""
    start = utc(hour)
    row = [date(start.year, start.month, 1), start, workspace_id, api_key_id, "claude-sonnet-4-5", "standard",
           "0-200k", "output", team, feature, env, "CC-100", "events", 1, Decimal(usd), Decimal(usd), 0,
           datetime.now(UTC)]
    with ch.connect() as client:
        client.insert("allocation_hourly", [row], column_names=ALLOCATION_COLUMNS)


@dataclass
class Ticks:
    """Drives ``budget_alerts`` like the daemon: one instance, the cursor carried from tick to tick."""

    ch: ClickHouseResource
    slack: SlackResource
    instance: DagsterInstance
    cursor: str | None = None
    results: list[Any] = field(default_factory=list)

    def spend(self, hour: str, usd: str, **dims: str) -> None:
        """Allocated spend in ``hour``, then the rollup refresh the spend_hourly asset runs after an allocation."""
        allocate(self.ch, hour, usd, **dims)
        refresh_spend_rollup(self.ch, utc(hour))

    def tick(self, now: str) -> Any:
        """One evaluation of the sensor at ``now``."""
        context = build_sensor_context(
            instance=self.instance, cursor=self.cursor,
            resources={"clickhouse": self.ch, "slack": self.slack, "clock": Clock(frozen_at=now),
                       "ledger_config": LedgerConfig()},
        )
        result = budget_alerts(context)
        self.cursor = context.cursor
        self.results.append(result)
        return result
