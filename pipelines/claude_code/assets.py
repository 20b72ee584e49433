"""Dagster side of Claude Code usage: the daily collector, the per-team spend and its reconciliation check.

Both are daily-partitioned like ``admin_cost_daily`` (one run per range of days); the daily schedule re-fetches
the last ``admin_api.restatement_days`` days. Metadata and logs carry counts, totals and teams, never an email
(a person appears only as a pseudonym, and not even that in metadata).
"""

import warnings
from datetime import UTC, datetime
from decimal import Decimal

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    MaterializeResult,
    MetadataValue,
    PreviewWarning,
)

from pipelines.admin_api.assets import daily_partitions, range_asset, request_metadata
from pipelines.admin_api.client import AdminApiClient
from pipelines.claude_code.collect import collect_claude_code
from pipelines.claude_code.config import ClaudeCodeConfig
from pipelines.claude_code.pseudonyms import Pseudonymiser
from pipelines.claude_code.spend import replace_team_spend
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource

RECONCILED = "claude_code_estimate_matches_cost_report"


def _usd(amount: Decimal) -> str:
    return f"{amount:,.2f}"


@range_asset(
    group_name="claude_code",
    kinds={"clickhouse"},
    partitions_def=daily_partitions,
    description="Admin API usage_report/claude_code, one call (and its pages) per UTC day: per day x actor x model "
    "tokens and estimated cost (cents / 100, exact) in claude_code_usage_daily, sessions, lines, commits, pull "
    "requests and tool accept/reject counts in claude_code_activity_daily. People are stored as a keyed "
    "pseudonym with their team (LEDGER_CONFIG people); emails only in finance_claude_code_people, and only with "
    "people.store_emails. A re-fetched day replaces its rows.",
)
def claude_code_usage_daily(context: AssetExecutionContext, clickhouse: ClickHouseResource,
                            admin_api: AdminApiClient, ledger_config: LedgerConfig, pseudonyms: Pseudonymiser
                            ) -> MaterializeResult:
    window = context.partition_time_window
    config = ledger_config.section(ClaudeCodeConfig)
    fetch = collect_claude_code(admin_api, clickhouse, config, pseudonyms, window.start, window.end, log=context.log)
    total = sum(fetch.estimated_usd.values(), Decimal(0))
    context.log.info("claude_code_usage_daily %s .. %s: %d records, %s USD estimated, %d pages, %d retries",
                     window.start.date(), window.end.date(), fetch.records, total, fetch.stats.pages,
                     fetch.stats.retries)
    return MaterializeResult(metadata={
        "range": f"{window.start:%Y-%m-%d} .. {window.end:%Y-%m-%d} (exclusive)",
        "days": fetch.days,
        "records": fetch.records,
        **{f"actors_{kind}": n for kind, n in fetch.actors.items()},
        **request_metadata(fetch.stats),
        "estimated_cost_usd": str(total),
        **{f"estimated_{customer}_usd": str(usd) for customer, usd in fetch.estimated_usd.items()},
        "emails_stored": fetch.people_stored,
        "estimated_by_team": MetadataValue.md(markdown_table(
            ["team", "customer type", "estimated USD"],
            [(team, customer, _usd(usd)) for (team, customer), usd in fetch.by_team.items()])),
        "extracted_at": fetch.extracted_at.isoformat(),
    })


def _check_spec() -> AssetCheckSpec:
    with warnings.catch_warnings():  # partitioned checks are flagged "preview": noise here
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(RECONCILED, asset="claude_code_team_daily", partitions_def=daily_partitions,
                              description="Per day, Claude Code's estimated cost (customer_type api) is within "
                              "claude_code.reconcile_warn_pct of the cost report's cost of the Claude Code "
                              "workspace; the team split always uses the cost report, so it never counts twice.")


@range_asset(
    group_name="claude_code",
    kinds={"clickhouse"},
    partitions_def=daily_partitions,
    deps=[AssetKey("claude_code_usage_daily"), AssetKey("admin_cost_daily")],
    check_specs=[_check_spec()],
    description="Claude Code spend per day and team (claude_code_team_daily): the Claude Code workspace's cost "
    "report split by the teams' share of estimated cost (api), subscription estimates as showback only; and the "
    "estimate against the cost report (claude_code_reconciliation_daily).",
)
def claude_code_team_daily(context: AssetExecutionContext, clickhouse: ClickHouseResource,
                           ledger_config: LedgerConfig) -> MaterializeResult:
    window = context.partition_time_window
    settings = ledger_config.section(ClaudeCodeConfig).claude_code
    rows, days = replace_team_spend(clickhouse, settings.workspace_id, window.start.date(), window.end.date(),
                                    datetime.now(UTC))
    charged: dict[str, Decimal] = {}
    subscription: dict[str, Decimal] = {}
    for row in rows:
        target = charged if row.customer_type == "api" else subscription
        target[row.team] = target.get(row.team, Decimal(0)) + (row.charged_usd if row.customer_type == "api"
                                                               else row.estimated_usd)
    limit = settings.reconcile_warn_pct
    off = [d for d in days if d.cost_report_present and (d.difference_pct is None or abs(d.difference_pct) > limit)]
    context.log.info("claude_code_team_daily %s .. %s: %s USD charged over %d teams", window.start.date(),
                     window.end.date(), sum(charged.values(), Decimal(0)), len(charged))
    check = AssetCheckResult(
        check_name=RECONCILED, passed=not off, severity=AssetCheckSeverity.WARN,
        description=(f"{len(off)} of {len(days)} days differ by more than {limit}%" if off
                     else f"every day with a cost report within {limit}%"),
        metadata={"days": len(days), "days_off": len(off), "reconciliation": MetadataValue.md(markdown_table(
            ["day", "estimate USD", "cost report USD", "difference USD", "difference %"],
            [(d.day, _usd(d.estimated_usd), _usd(d.cost_report_usd) if d.cost_report_present else "(none yet)",
              _usd(d.difference_usd), "" if d.difference_pct is None else f"{d.difference_pct:+.2f}")
             for d in days[-31:]]))})
    return MaterializeResult(
        metadata={
            "range": f"{window.start:%Y-%m-%d} .. {window.end:%Y-%m-%d} (exclusive)",
            "workspace_id": "(none configured)" if settings.workspace_id is None else settings.workspace_id or "''",
            "charged_usd": str(sum(charged.values(), Decimal(0))),
            "subscription_estimated_usd": str(sum(subscription.values(), Decimal(0))),
            "by_team": MetadataValue.md(markdown_table(
                ["team", "charged USD (api)", "subscription estimate USD (showback)"],
                [(t, _usd(charged.get(t, Decimal(0))), _usd(subscription.get(t, Decimal(0))))
                 for t in sorted(set(charged) | set(subscription))])),
        },
        check_results=[check],
    )
