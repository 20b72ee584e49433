"""Dagster side of the allocation: showback, chargeback and the monthly export, one partition per month."""

from datetime import UTC, datetime
from decimal import Decimal

from dagster import (
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    MonthlyPartitionsDefinition,
    asset,
)

from pipelines import settings
from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.checks import (
    chargeback_check_specs,
    check_specs,
    cost_centres_assigned,
    reconciliation_checks,
    sums_to_authority,
    unknown_models,
)
from pipelines.allocation.config import AttributionConfig, FocusConfig
from pipelines.allocation.discounts import analytics_of, spread, team_figures
from pipelines.allocation.export import export_chargeback, latest_version, statement_name
from pipelines.allocation.focus import FOCUS_VERSION, export_focus
from pipelines.allocation.months import is_closed, parse_month
from pipelines.claude_code.config import ClaudeCodeConfig
from pipelines.ledger_config import LedgerConfig, LedgerConfigError
from pipelines.metadata import bar, markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.partitions import partitions_start
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

# From the month of the earliest day with data (or LEDGER_PARTITIONS_START), to the current month.
monthly_partitions = MonthlyPartitionsDefinition(start_date=f"{partitions_start():%Y-%m-01}", end_offset=1)


def _usd(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def claude_code_workspaces(ledger_config: LedgerConfig) -> frozenset[str]:
    """The Claude Code workspace (its usage report explains it, not events); a bad claude_code: section leaves
    the allocation as it is (the Claude Code assets report it)."""
    try:
        workspace = ledger_config.section(ClaudeCodeConfig).claude_code.workspace_id
    except LedgerConfigError:
        return frozenset()
    return frozenset() if workspace is None else frozenset({workspace})


@asset(
    group_name="allocation",
    kinds={"clickhouse"},
    partitions_def=monthly_partitions,
    deps=[AssetKey("usage_events"), AssetKey("unit_prices"), AssetKey("admin_usage_hourly"),
          AssetKey("admin_cost_daily"), AssetKey("admin_workspaces")],
    check_specs=check_specs("allocation", monthly_partitions),
    description="Showback (allocation_hourly): Admin API usage and cost per hour and cell split to team / feature / "
    "env by the events, residual to owners or 'unattributed', trued up to the cost report. The month is replaced "
    "whole; the current month is provisional.",
)
def allocation(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
               ) -> MaterializeResult:
    month = parse_month(context.partition_key)
    config = ledger_config.section(AttributionConfig)
    now = datetime.now(UTC)
    with clickhouse.connect():  # one unit of work: the steps below reuse its embedded session
        allocate_month(clickhouse, month, config, now)
        teams = clickhouse.query_rows(sql("allocation_by_team_of_month"), {"month": month})
        check_results = [
            sums_to_authority(clickhouse, month),
            *reconciliation_checks(clickhouse, month, config.reconciliation, claude_code_workspaces(ledger_config)),
            unknown_models(clickhouse, month),
        ]
    allocated = sum((row[4] for row in teams), Decimal(0))
    context.log.info("allocated %s: %s USD over %d team/basis lines", month, _usd(allocated), len(teams))
    return MaterializeResult(
        metadata={
            "month": f"{month:%Y-%m}",
            "month_closed": is_closed(month, now),
            "allocated_cost_usd": str(allocated.normalize()),  # exact, as text: money is never a float
            "list_cost_usd": str(sum((row[3] for row in teams), Decimal(0)).normalize()),
            "tokens": f"{sum(row[2] for row in teams):,}",
            "by_team": MetadataValue.md(markdown_table(
                ["team", "basis", "tokens", "list USD", "allocated USD", "provisional"],
                [(t, b, f"{n:,}", _usd(lc), _usd(ac), bool(p)) for t, b, n, lc, ac, p in teams])),
        },
        check_results=check_results,
    )


@asset(
    group_name="allocation",
    kinds={"clickhouse"},
    partitions_def=monthly_partitions,
    # claude_code_team_daily is daily: the default time-window mapping gives the month's days
    deps=[AssetKey("allocation"), AssetKey("claude_code_team_daily")],
    check_specs=chargeback_check_specs(monthly_partitions),
    description="Chargeback (chargeback_monthly): the month's showback per cost centre / team / feature / env / "
    "model after the shared-cost policy, rounded to the cent so the lines sum to the month's total. A line's cost "
    "centre: its workspace's cost-centre tag, else its team's (docs/finance.md). The Claude Code workspace's cost "
    "goes to its users' teams (feature claude-code) on the days claude_code_team_daily splits it.",
)
def chargeback(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
               ) -> MaterializeResult:
    month = parse_month(context.partition_key)
    config = ledger_config.section(AttributionConfig)
    now = datetime.now(UTC)
    with clickhouse.connect():  # one unit of work: the steps below reuse its embedded session
        lines = chargeback_lines_for(showback_lines(clickhouse, month), config, is_closed(month, now))
        write_chargeback(clickhouse, month, lines, config.shared_cost_policy, now)
    by_centre: dict[str, Decimal] = {}
    for line in lines:
        by_centre[line.cost_center] = by_centre.get(line.cost_center, Decimal(0)) + line.allocated_cost_usd
    total = sum(by_centre.values(), Decimal(0))
    by_team: dict[str, Decimal] = {}
    for line in lines:
        by_team[line.line.team] = by_team.get(line.line.team, Decimal(0)) + line.allocated_cost_usd
    largest = max(by_team.values(), default=Decimal(0))
    analytics = analytics_of(clickhouse, ledger_config, month)
    discounts: dict = {}
    if analytics is not None:  # the optional Analytics API source: list, net and discount per team
        figures = spread([line.line.list_cost_usd for line in lines], [line.allocated_cost_usd for line in lines],
                         analytics)
        per_team = team_figures([line.line.team for line in lines], figures)
        discounts = {
            "analytics_finality": analytics.finality(),
            "list_net_discount_by_team": MetadataValue.md(markdown_table(
                ["team", "list USD", "net USD", "discount USD"],
                [(team, *(_usd(a) for a in sums)) for team, sums in sorted(per_team.items())])),
        }
    return MaterializeResult(metadata={
        **discounts,
        "month": f"{month:%Y-%m}",
        "lines": len(lines),
        "allocated_cost_usd": _usd(total),
        "shared_cost_policy": config.shared_cost_policy.describe(),
        "provisional": any(line.line.provisional for line in lines),
        "by_cost_center": MetadataValue.md(markdown_table(
            ["cost centre", "allocated USD"], [(c or "(none)", _usd(a)) for c, a in sorted(by_centre.items())])),
        "by_team_chart": MetadataValue.md(markdown_table(
            ["team", "allocated USD", "share", ""],
            [(team, _usd(amount), f"{amount / total:.1%}" if total else "-", bar(float(amount), float(largest)))
             for team, amount in sorted(by_team.items(), key=lambda kv: (-kv[1], kv[0]))])),
    }, check_results=[cost_centres_assigned(lines)])


@asset(
    group_name="allocation",
    kinds={"csv", "parquet"},
    partitions_def=monthly_partitions,
    deps=[AssetKey("chargeback")],  # and the optional Analytics API source while it is on (pipelines.sources)
    description="$LEDGER_EXPORT_DIR/chargeback-YYYY-MM.csv and .parquet (columns in docs/finance.md) with a "
    "manifest (rows, totals, sha256); byte-identical when the data has not changed. A final export is never "
    "overwritten: a later change (a restated day) is issued as the next version with a corrections file. With the "
    "optional Analytics API source on: list, net and discount per line and when the figures were fetched.",
)
def chargeback_export(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
                      ) -> MaterializeResult:
    month = parse_month(context.partition_key)
    policy = ledger_config.section(AttributionConfig).shared_cost_policy
    analytics = analytics_of(clickhouse, ledger_config, month)
    result = export_chargeback(clickhouse, month, settings.export_dir(), policy.describe(), analytics)
    files = result.manifest["files"]
    context.log.info("exported %d chargeback lines (%s USD) to %s", result.rows, _usd(result.allocated_cost_usd),
                     result.csv_path.parent)
    return MaterializeResult(metadata={
        "statement": MetadataValue.path(str(result.csv_path.parent / statement_name(month))),  # monthly_statement
        "csv": MetadataValue.path(str(result.csv_path)),
        "parquet": MetadataValue.path(str(result.parquet_path)),
        "manifest": MetadataValue.path(str(result.manifest_path)),
        "rows": f"{result.rows:,}",
        "allocated_cost_usd": _usd(result.allocated_cost_usd),
        "provisional": result.provisional,
        "version": result.version,
        **({"corrections": MetadataValue.path(str(result.corrections_path)),
            "correction_delta_usd": result.manifest["correction"]["delta_usd"]} if result.corrections_path else {}),
        "unpriced_lines": result.manifest["unpriced_lines"],
        **({"analytics_list_cost_usd": _usd(analytics.list_usd), "analytics_net_cost_usd": _usd(analytics.net_usd),
            "analytics_discount_usd": _usd(analytics.discount_usd),
            "analytics_finality": analytics.finality()} if analytics else {}),
        "sha256": MetadataValue.md(markdown_table(["file", "sha256"],
                                                  [(name, f["sha256"]) for name, f in sorted(files.items())])),
    })


@asset(
    group_name="allocation",
    kinds={"csv", "parquet"},
    partitions_def=monthly_partitions,
    deps=[AssetKey("chargeback_export")],
    description="$LEDGER_EXPORT_DIR/focus-YYYY-MM.csv and .parquet: the month as a FOCUS 1.3 Cost and Usage "
    "dataset (one row per charge: team line x workspace, token type, tier, band, geo, speed), with the spec's "
    "metadata. BilledCost sums to the chargeback to the cent; a chargeback correction gets a FOCUS correction "
    "(ChargeClass = Correction rows). Columns in docs/finance.md.",
)
def focus_export(context: AssetExecutionContext, clickhouse: ClickHouseResource, ledger_config: LedgerConfig
                 ) -> MaterializeResult:
    month = parse_month(context.partition_key)
    account = ledger_config.section(FocusConfig).focus
    directory = settings.export_dir()
    latest = latest_version(directory, month)
    version = latest[0] if latest else 1
    result = export_focus(clickhouse, month, directory, version,
                          (account.billing_account_id, account.billing_account_name))
    context.log.info("exported %d FOCUS rows (%s USD) to %s", result.rows, _usd(result.billed_cost_usd),
                     result.csv_path.parent)
    return MaterializeResult(metadata={
        "csv": MetadataValue.path(str(result.csv_path)),
        "parquet": MetadataValue.path(str(result.parquet_path)),
        "metadata": MetadataValue.path(str(result.metadata_path)),
        "rows": result.rows,
        "billed_cost_usd": _usd(result.billed_cost_usd),
        "version": version,
        "focus_version": FOCUS_VERSION,
    })
