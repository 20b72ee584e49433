"""Chargeback of a month: showback lines after the shared-cost policy, rounded to the cent.

The month's showback is summed to lines (team, feature, env, model, cost type, cost centre) in ClickHouse; what
is left is a few hundred lines at most, so the policy and the cent rounding run here with exact decimals. A line's
``priced_from`` is the least certain of its rows' (unpriced, learned_rate, list, cost_report: the first that
occurs).

Claude Code (docs/claude_code.md): on the days its split of the Claude Code workspace's invoice exists
(``claude_code_team_daily`` via the view ``claude_code_charged_shares``), each of that workspace's showback rows
of the day is split over the day's teams in proportion to their charged USD (largest remainder: tokens, list and
allocated cost, exactly) and labelled feature ``claude-code``; the part of ``unattributed`` Claude Code users stays
with the row's team (the workspace's owner). Its cost centre is the team's. Other days stay with the owner.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from pipelines.allocation.allocate import drop_month, replace_month
from pipelines.allocation.config import UNATTRIBUTED, AttributionConfig, SharedCostPolicy
from pipelines.allocation.cost_centres import line_cost_centre, team_cost_centres
from pipelines.allocation.rounding import round_to_cents, split_integer
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

SHARED_COST_FEATURE = "(shared cost)"
CLAUDE_CODE_FEATURE = "claude-code"
TOKEN_COLUMNS = ("input_tokens", "cache_write_5m_tokens", "cache_write_1h_tokens", "cache_read_tokens",
                 "output_tokens", "web_search_requests")
PICO = Decimal("0.000000000001")  # the 1e-12 USD unit of Decimal(38, 12)
SHARE = Decimal("0.000001")
PRICED_FROM_CERTAINTY = ("unpriced", "learned_rate", "list", "cost_report")  # least certain first


@dataclass(frozen=True)
class Line:
    team: str
    feature: str
    env: str
    model: str
    tokens: tuple[int, ...]  # in TOKEN_COLUMNS order
    list_cost_usd: Decimal
    showback_cost_usd: Decimal
    provisional: bool
    cost_type: str = "tokens"
    priced_from: str = "cost_report"
    cost_center: str = ""  # as allocated (pipelines/allocation/cost_centres.py); '' = none yet: the team's applies

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return self.team, self.feature, self.env, self.model, self.cost_type, self.cost_center


@dataclass(frozen=True)
class ChargebackLine:
    cost_center: str
    line: Line
    allocated_cost_usd: Decimal  # to the cent
    share: Decimal


def showback_lines(ch: ClickHouseResource, month: date) -> list[Line]:
    """The month's lines before the shared-cost policy, the Claude Code workspace's split over its users' teams."""
    shares: dict[tuple[date, str], list[tuple[str, int]]] = defaultdict(list)
    for day, workspace_id, team, charged in ch.query_rows(sql("chargeback_claude_code_shares_of_month"),
                                                          {"month": month}):
        shares[(day, workspace_id)].append((team, int(charged / PICO)))
    lines: list[Line] = []
    for (claude_code, day, workspace_id, team, feature, env, model, cost_type, *tokens, list_cost, allocated,
         provisional, priced_from, cost_center) in ch.query_rows(sql("chargeback_lines_of_month"), {"month": month}):
        line = Line(team, feature, env, model, tuple(int(t) for t in tokens), list_cost, allocated, bool(provisional),
                    cost_type, priced_from, cost_center)
        teams = shares.get((day, workspace_id)) if claude_code else None
        if not teams:
            lines.append(line)
            continue
        lines += _spread(line, [team if name == UNATTRIBUTED else name for name, _ in teams],
                         [weight for _, weight in teams], feature=CLAUDE_CODE_FEATURE, cost_center="")
    return lines


def _merge(lines: Iterable[Line]) -> list[Line]:
    merged: dict[tuple[str, str, str, str, str, str], Line] = {}
    for line in lines:
        if (seen := merged.get(line.key)) is None:
            merged[line.key] = line
            continue
        merged[line.key] = replace(
            seen,
            tokens=tuple(a + b for a, b in zip(seen.tokens, line.tokens, strict=True)),
            list_cost_usd=seen.list_cost_usd + line.list_cost_usd,
            showback_cost_usd=seen.showback_cost_usd + line.showback_cost_usd,
            provisional=seen.provisional or line.provisional,
            priced_from=min(seen.priced_from, line.priced_from, key=PRICED_FROM_CERTAINTY.index),
        )
    return [merged[key] for key in sorted(merged)]


def _split_amount(amount: Decimal, weights: list[int]) -> list[Decimal]:
    return [units * PICO for units in split_integer(int(amount / PICO), weights)]


def _spread(line: Line, teams: list[str], weights: list[int], **labels: str) -> list[Line]:
    """One line split over teams in proportion to their weights, exactly, relabelled with ``labels``."""
    tokens = [split_integer(count, weights) for count in line.tokens]
    list_costs = _split_amount(line.list_cost_usd, weights)
    showback = _split_amount(line.showback_cost_usd, weights)
    return [replace(line, team=team, tokens=tuple(t[i] for t in tokens), list_cost_usd=list_costs[i],
                    showback_cost_usd=showback[i], **labels) for i, team in enumerate(teams)]


def apply_policy(lines: list[Line], policy: SharedCostPolicy) -> list[Line]:
    """Move the unattributed lines as the policy says; totals (tokens and dollars) are unchanged.

    ``proportional`` weighs each team by its own allocated cost in the month; with nothing attributed
    there is nothing to weigh by and the residual stays unattributed.
    """
    residual = [line for line in lines if line.team == UNATTRIBUTED]
    owned = [line for line in lines if line.team != UNATTRIBUTED]
    if policy.kind == "none" or not residual:
        return _merge(lines)
    if policy.kind == "assign":
        return _merge(owned + [replace(line, team=policy.team, feature=SHARED_COST_FEATURE, env="")
                               for line in residual])
    by_team: dict[str, Decimal] = {}
    for line in owned:
        by_team[line.team] = by_team.get(line.team, Decimal(0)) + line.showback_cost_usd
    teams = sorted(team for team, cost in by_team.items() if cost > 0)
    if not teams:
        return _merge(lines)
    weights = [int(by_team[team] / PICO) for team in teams]
    return _merge(owned + [part for line in residual
                           for part in _spread(line, teams, weights, feature=SHARED_COST_FEATURE, env="")])


def chargeback_lines_for(lines: list[Line], config: AttributionConfig, month_closed: bool) -> list[ChargebackLine]:
    """Policy applied, amounts rounded to the cent (summing to the month's total to the cent), shares."""
    teams = team_cost_centres(config)
    moved = _merge(replace(line, cost_center=line_cost_centre(line.cost_center, line.team, teams))
                   for line in apply_policy(lines, config.shared_cost_policy))
    cents = round_to_cents([line.showback_cost_usd for line in moved])
    total = sum(cents, Decimal(0))
    result = []
    for line, amount in zip(moved, cents, strict=True):
        share = (amount / total).quantize(SHARE, ROUND_HALF_UP) if total else Decimal(0)
        final = month_closed and not line.provisional and line.priced_from != "unpriced"
        result.append(ChargebackLine(line.cost_center, replace(line, provisional=not final), amount, share))
    return sorted(result, key=lambda c: (c.cost_center, *c.line.key))


CHARGEBACK_COLUMNS = ["month", "cost_center", "team", "feature", "env", "model", "cost_type", *TOKEN_COLUMNS,
                      "list_cost_usd", "showback_cost_usd", "allocated_cost_usd", "share", "provisional",
                      "priced_from", "shared_cost_policy", "computed_at"]


def write_chargeback(ch: ClickHouseResource, month: date, lines: list[ChargebackLine], policy: SharedCostPolicy,
                     now: datetime | None = None) -> None:
    """Replace the month of ``chargeback_monthly`` with ``lines`` (built in its staging table, one run at a time:
    the server lock ``chargeback``)."""
    computed_at = now or datetime.now(UTC)
    rows = [[month, c.cost_center, c.line.team, c.line.feature, c.line.env, c.line.model, c.line.cost_type,
             *c.line.tokens, c.line.list_cost_usd, c.line.showback_cost_usd, c.allocated_cost_usd, c.share,
             int(c.line.provisional), c.line.priced_from, policy.describe(), computed_at] for c in lines]
    with ch.exclusive("chargeback") as client:
        drop_month(client, "chargeback_monthly_staging", month)
        if rows:
            client.insert("chargeback_monthly_staging", rows, column_names=CHARGEBACK_COLUMNS)
        replace_month(client, "chargeback_monthly", month)
