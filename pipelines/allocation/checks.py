"""The allocation's asset checks: does the month add up, and how far do events and Admin API agree."""

from __future__ import annotations

import warnings
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    MetadataValue,
    PartitionsDefinition,
    PreviewWarning,
)

from pipelines.allocation.chargeback import ChargebackLine
from pipelines.allocation.config import UNASSIGNED, Reconciliation
from pipelines.allocation.rounding import CENT
from pipelines.metadata import markdown_table
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

SUMS_TO_AUTHORITY = "allocation_sums_to_authority"
COVERAGE = "event_coverage_above_threshold"
OVERCOUNT = "event_overcount_below_threshold"
UNKNOWN_MODELS = "no_unknown_models"
COST_CENTRES_ASSIGNED = "cost_centres_assigned"
SHOWN = 20  # rows listed in a check's Markdown table


NAMED = 3  # workspace-days a check's description names


def check_specs(asset: str, partitions_def: PartitionsDefinition) -> list[AssetCheckSpec]:
    """The checks of a monthly asset, partitioned like it: the UI shows each month's result, not the last run's."""
    def spec(name: str, description: str, blocking: bool = False) -> AssetCheckSpec:
        with warnings.catch_warnings():  # partitioned checks are flagged "preview": noise here
            warnings.simplefilter("ignore", PreviewWarning)
            return AssetCheckSpec(name, asset=asset, blocking=blocking, partitions_def=partitions_def,
                                  description=description)

    return [
        spec(SUMS_TO_AUTHORITY, "Per day and workspace, allocated cost equals the cost report to the cent (where "
             "no report is out yet: list price, or the rate the report last taught a model without one), and "
             "tokens equal the Admin API's. Blocking: a month that does not add up is not charged back or exported.",
             blocking=True),
        spec(COVERAGE, "Share of Admin API tokens explained by application events, per day and workspace, is at "
             "least reconciliation.coverage_warn_below."),
        spec(OVERCOUNT, "Event tokens beyond the Admin API's, as a share of event tokens, stay within "
             "reconciliation.overcount_warn_above."),
        spec(UNKNOWN_MODELS, "Every line has a price: a list price, or (a model missing from the price list) the "
             "cost report's own amount or the rate it last taught. Usage with no price at all fails: it is never "
             "priced at a default, never $0 on a final line, never on another model's line.", blocking=True),
    ]


def chargeback_check_specs(partitions_def: PartitionsDefinition) -> list[AssetCheckSpec]:
    """The chargeback's check: every line is booked to a cost centre finance knows."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return [AssetCheckSpec(COST_CENTRES_ASSIGNED, asset="chargeback", partitions_def=partitions_def,
                               description=f"No chargeback line has the cost centre '{UNASSIGNED}': a declared team's "
                               "spend in a workspace without the cost-centre tag (cost_centre_tag), by a team that "
                               "declares no cost_center.")]


def _shown(rows: list, headers: list[str], order: str) -> str:
    """A check's Markdown table of at most SHOWN rows, saying how many it leaves out."""
    table = markdown_table(headers, rows[:SHOWN])
    return table if len(rows) <= SHOWN else f"{table}\n\n{SHOWN} of {len(rows)} shown ({order})."


def _cents(amount: Decimal | None) -> Decimal | None:
    return None if amount is None else Decimal(amount).quantize(CENT, ROUND_HALF_UP)


def sums_to_authority(ch: ClickHouseResource, month: date) -> AssetCheckResult:
    days = ch.query_rows(sql("allocation_vs_cost_report"), {"month": month})
    bad_cost = [(day, workspace or "(default)", _cents(report), _cents(allocated), _cents(list_cost))
                for day, workspace, report, allocated, list_cost, _outside in days
                if (_cents(allocated) or 0) != (_cents(report) if report is not None else _cents(list_cost))]
    outside = sum((Decimal(row[5]) for row in days), Decimal(0))
    bad_tokens = ch.query_rows(sql("allocation_quantity_mismatches"), {"month": month})
    reported = sum(1 for row in days if row[2] is not None)
    return AssetCheckResult(
        check_name=SUMS_TO_AUTHORITY,
        passed=not bad_cost and not bad_tokens,
        severity=AssetCheckSeverity.ERROR,
        metadata={
            "days_x_workspaces": len(days),
            "with_cost_report": reported,
            "provisional": len(days) - reported,
            "cost_mismatches": len(bad_cost),
            "outside_cost_report_usd": str(outside.quantize(CENT, ROUND_HALF_UP)),
            "token_mismatches": len(bad_tokens),
            "mismatches": MetadataValue.md(
                _shown(bad_cost, ["day", "workspace", "cost report", "allocated", "list"], "by day")
                + "\n\n" + _shown(bad_tokens, ["day", "workspace", "token type", "Admin API", "allocated"], "by day")
                if bad_cost or bad_tokens else "none"),
        },
    )


def _ratio(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def coverage_advice(low: list[tuple], threshold: float) -> str | None:
    """What the coverage warning says: the worst workspace-days by name, and what to do about them."""
    if not low:
        return None
    worst = sorted(low, key=lambda row: (row[3] / row[2], row[0], row[1]))
    named = ", ".join(f"{workspace} on {day:%Y-%m-%d} ({coverage})" for day, workspace, _a, _x, coverage in
                      worst[:NAMED])
    more = f" and {len(low) - NAMED} more" if len(low) > NAMED else ""
    return (f"Events explain less than {threshold:.0%} of the Admin API's tokens for {named}{more}. Usually a "
            "service in that workspace emits no usage events: instrument it (pipelines.emitter, docs/emitter.md), or "
            "name the owner of its API key or workspace under owners: in LEDGER_CONFIG so the residual is charged to "
            "them; to accept the gap, lower reconciliation.coverage_warn_below.")


def reconciliation_checks(ch: ClickHouseResource, month: date, limits: Reconciliation,
                          explained_elsewhere: frozenset[str] = frozenset()) -> list[AssetCheckResult]:
    """``explained_elsewhere``: workspaces whose usage another report explains (the Claude Code workspace: its
    usage report names who used it), left out of the coverage warning."""
    rows = ch.query_rows(sql("allocation_reconciliation_of_month_rows"), {"month": month})
    low = [(day, workspace or "(default)", authority, explained, f"{_ratio(explained, authority):.2%}")
           for day, workspace, authority, _events, explained, _over, _pending in rows
           if authority and _ratio(explained, authority) < limits.coverage_warn_below
           and workspace not in explained_elsewhere]
    authority = sum(row[2] for row in rows)
    events = sum(row[3] for row in rows)
    explained = sum(row[4] for row in rows)
    overcount = sum(row[5] for row in rows)
    pending = sum(row[6] for row in rows)
    worst = sorted(((day, workspace or "(default)", ev, over, f"{_ratio(over, ev):.2%}")
                    for day, workspace, _a, ev, _x, over, _p in rows if over), key=lambda r: -r[3])
    return [
        AssetCheckResult(
            check_name=COVERAGE,
            passed=not low,
            severity=AssetCheckSeverity.WARN,
            description=coverage_advice(low, limits.coverage_warn_below),
            metadata={
                "coverage": _ratio(explained, authority),
                "threshold": limits.coverage_warn_below,
                "authority_tokens": authority,
                "explained_tokens": explained,
                "days_x_workspaces_below": len(low),
                "explained_by_claude_code": ", ".join(sorted(explained_elsewhere)) or "none",
                "below_threshold": MetadataValue.md(
                    _shown(sorted(low, key=lambda r: (r[3] / r[2], r[0], r[1])),
                           ["day", "workspace", "Admin API tokens", "explained", "coverage"], "lowest coverage first")
                    if low else "none"),
            },
        ),
        AssetCheckResult(
            check_name=OVERCOUNT,
            passed=_ratio(overcount, events) <= limits.overcount_warn_above,
            severity=AssetCheckSeverity.WARN,
            metadata={
                "overcount_rate": _ratio(overcount, events),
                "threshold": limits.overcount_warn_above,
                "event_tokens": events,
                "overcount_tokens": overcount,
                "pending_event_tokens": pending,
                "worst": MetadataValue.md(
                    _shown(worst, ["day", "workspace", "event tokens", "over-count", "rate"], "largest first")
                    if worst else "none"),
            },
        ),
    ]


def unknown_models(ch: ClickHouseResource, month: date) -> AssetCheckResult:
    rows = ch.query_rows(sql("allocation_unknown_models"), {"month": month})
    unpriced = sorted({model for model, priced_from, *_ in rows if priced_from == "unpriced"})
    from_report = sorted({model for model, priced_from, *_ in rows if priced_from != "unpriced"})
    return AssetCheckResult(
        check_name=UNKNOWN_MODELS,
        passed=not unpriced,
        severity=AssetCheckSeverity.ERROR,
        description=(f"usage with no price at all (no list price, and no cost report has priced the model yet): "
                     f"{', '.join(unpriced)}; add a price to pipelines/pricing/model_prices.csv or LEDGER_CONFIG "
                     "prices:, or wait for the cost report") if unpriced else None,
        metadata={
            "unpriced_models": unpriced,
            "priced_from_cost_report": from_report,
            "volumes": MetadataValue.md(markdown_table(
                ["model", "priced from", "token type", "quantity", "allocated USD"],
                [(model, priced_from, token_type, f"{quantity:,}", _cents(usd))
                 for model, priced_from, token_type, quantity, usd in rows]) if rows else "none"),
        },
    )


def cost_centres_assigned(lines: list[ChargebackLine]) -> AssetCheckResult:
    """Warn about the month's spend booked to 'unassigned', per team, naming what to configure."""
    by_team: dict[str, Decimal] = {}
    for c in lines:
        if c.cost_center == UNASSIGNED:
            by_team[c.line.team] = by_team.get(c.line.team, Decimal(0)) + c.allocated_cost_usd
    teams, unassigned = sorted(by_team), sum(by_team.values(), Decimal(0))
    return AssetCheckResult(
        check_name=COST_CENTRES_ASSIGNED,
        passed=not by_team,
        severity=AssetCheckSeverity.WARN,
        description=(f"{unassigned} USD is booked to cost centre '{UNASSIGNED}' (teams "
                     f"{', '.join(teams)}): tag their workspaces with the cost-centre tag, or give the teams a "
                     "cost_center under teams: in LEDGER_CONFIG") if by_team else None,
        metadata={
            "unassigned_usd": str(unassigned),
            "teams": MetadataValue.md(markdown_table(["team", "unassigned USD"], [(t, by_team[t]) for t in teams])
                                      if teams else "none"),
        },
    )
