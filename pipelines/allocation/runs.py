"""A month's ``allocate_month`` run started outside the daemon (``ledger allocate``, ``make demo``): run in this
process on the Dagster instance the UI shows, and summarised the same way wherever it is started."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from dagster import AssetCheckEvaluation, DagsterInstance, JobDefinition

from pipelines.allocation.months import is_closed
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)


@dataclass(frozen=True)
class MonthRun:
    month: date
    final: bool  # the month is over (else its allocation is provisional)
    allocated_usd: Decimal | None  # None: the run failed
    passed: int  # asset checks passed
    failed: tuple[AssetCheckEvaluation, ...]

    def summary(self) -> str:
        """``2026-11 final $1,114.12 (5 checks passed)`` (a failed check named with its severity)."""
        total = "FAILED (see the run's log)" if self.allocated_usd is None else usd(self.allocated_usd)
        return (f"{self.month:%Y-%m} {'final' if self.final else 'provisional'} {total} ({self.passed} checks passed"
                + "".join(f", {e.check_name} {e.severity.value.lower()}" for e in self.failed) + ")")


def run_month(job: JobDefinition, instance: DagsterInstance, month: date, run_config: dict[str, Any] | None = None,
              now: datetime | None = None) -> MonthRun:
    """Run ``job`` (allocate_month) for ``month``'s partition in this process, recorded in ``instance``."""
    result = job.execute_in_process(instance=instance, partition_key=month.isoformat(), raise_on_error=False,
                                    run_config=run_config)
    allocated = result.asset_materializations_for_node("allocation") if result.success else []
    evaluations = result.get_asset_check_evaluations()
    return MonthRun(month, is_closed(month, now or datetime.now(UTC)),
                    Decimal(allocated[0].metadata["allocated_cost_usd"].value) if allocated else None,
                    sum(1 for e in evaluations if e.passed), tuple(e for e in evaluations if not e.passed))


def has_admin_usage(ch: ClickHouseResource, month: date) -> bool:
    """Whether the month has Admin API usage to allocate (allocated without it, a month is issued final and empty)."""
    return bool(ch.query_rows(sql("allocation_admin_usage_of_month"), {"month": month})[0][0])
