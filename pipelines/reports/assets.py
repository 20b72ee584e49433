"""Dagster side of the reports: the monthly statement, written beside the chargeback export."""

from datetime import UTC, datetime

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    MaterializeResult,
    MetadataValue,
    asset,
)

from pipelines import settings
from pipelines.allocation.assets import monthly_partitions
from pipelines.allocation.config import AttributionConfig
from pipelines.allocation.months import parse_month
from pipelines.budgets.model import BudgetsConfig
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.reports.config import StatementConfig
from pipelines.storage.clickhouse import ClickHouseResource

# After the month's export is rewritten (not after every budget refresh); never for months never exported.
AFTER_EXPORT = (AutomationCondition.any_deps_updated().since_last_handled()
                & ~AutomationCondition.any_deps_in_progress() & ~AutomationCondition.in_progress())


def budgets_or_problem(ledger_config: LedgerConfig) -> tuple[list, str | None]:
    """The budgets, or none and why: a broken budgets section leaves the statement without its burn-down only."""
    try:
        return ledger_config.section(BudgetsConfig).budgets, None
    except LedgerConfigError as exc:
        return [], str(exc)


@asset(
    group_name="allocation",
    kinds={"html"},
    partitions_def=monthly_partitions,
    deps=[AssetKey("chargeback_export")],
    automation_condition=AFTER_EXPORT,
    description="$LEDGER_EXPORT_DIR/statement-YYYY-MM.html: the month's statement for finance (totals, spend per "
    "team per day, model mix, budget burn-down, shared cost, cache savings, reconciliation to the cost report), "
    "self-contained: its charts draw offline. Optional pages per cost centre (LEDGER_CONFIG statement:).",
)
def monthly_statement(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
                      ) -> MaterializeResult:
    # Imported here: the statement draws with altair, which every process loading the code location (webserver,
    # daemon, each run) would otherwise import for nothing (0.8 s).
    from pipelines.reports.statement import write_statement

    month = parse_month(context.partition_key)
    budgets, problem = budgets_or_problem(ledger_config)
    options = ledger_config.section(StatementConfig).statement
    written = write_statement(clickhouse, month, settings.export_dir(), ledger_config.section(AttributionConfig),
                              budgets, datetime.now(UTC), options.cost_centre_pages, problem)
    context.log.info("statement for %s written to %s (%d charts)", f"{month:%Y-%m}", written.path, written.charts)
    return MaterializeResult(metadata={
        "statement": MetadataValue.path(str(written.path)),
        "charts": written.charts,
        "final": written.final,
        "cost_centre_pages": MetadataValue.md("\n".join(f"- {p}" for p in written.pages) or "none (statement: "
                                              "cost_centre_pages: true in LEDGER_CONFIG writes them)"),
    })
