"""Claude Code spend per team, counted once, and its reconciliation with the cost report.

Claude Code on the API (customer_type ``api``) is billed on the invoice under the workspace its key lives in
(``claude_code.workspace_id``); the usage report's ``estimated_cost`` is an estimate of the same spend. So a
team is charged its share of the *cost report's* cost of that workspace, the share being its people's part
of the estimated cost that day; the estimate itself is never added on top. Subscription seats (customer_type
``subscription``) are not on the API invoice: their estimate is shown (showback) with ``charged_usd`` 0.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pipelines.allocation.config import UNATTRIBUTED
from pipelines.allocation.rounding import split_integer
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)
UNITS = Decimal("1e-12")  # charged_usd is Decimal(38, 12): the split is exact in these units
PCT_PLACES = Decimal("0.0001")


@dataclass(frozen=True)
class TeamDay:
    day: date
    team: str
    customer_type: str
    estimated_usd: Decimal
    charged_usd: Decimal
    provisional: bool


@dataclass(frozen=True)
class Reconciliation:
    day: date
    estimated_usd: Decimal
    cost_report_usd: Decimal
    cost_report_present: bool

    @property
    def difference_usd(self) -> Decimal:
        return self.estimated_usd - self.cost_report_usd

    @property
    def difference_pct(self) -> Decimal | None:
        if not self.cost_report_usd:
            return None
        return (self.difference_usd / self.cost_report_usd * 100).quantize(PCT_PLACES)


def split_day(day: date, estimates: dict[str, Decimal], invoice: Decimal | None) -> list[TeamDay]:
    """The day's ``invoice`` (None: no cost report yet) over the teams by their ``estimates`` (team -> USD)."""
    teams = sorted(team for team, usd in estimates.items() if usd > 0)
    if invoice is None:
        return [TeamDay(day, t, "api", estimates[t], estimates[t], True) for t in teams]
    if not teams:  # cost on the workspace that no Claude Code usage explains
        return [TeamDay(day, UNATTRIBUTED, "api", Decimal(0), invoice, False)] if invoice else []
    weights = [int(estimates[t] / UNITS) for t in teams]
    parts = split_integer(int(invoice / UNITS), weights)
    return [TeamDay(day, t, "api", estimates[t], part * UNITS, False) for t, part in zip(teams, parts, strict=True)]


def team_spend(ch: ClickHouseResource, workspace_id: str | None, start: date, end: date
               ) -> tuple[list[TeamDay], list[Reconciliation]]:
    """Per day in [start, end): the teams' Claude Code spend and the day's reconciliation; no workspace
    configured: the API estimate is shown, charged 0, and nothing is reconciled."""
    params = {"start": start, "end": end, "workspace_id": workspace_id or ""}
    api: dict[date, dict[str, Decimal]] = defaultdict(dict)
    rows: list[TeamDay] = []
    for day, team, customer_type, usd in ch.query_rows(sql("claude_code_estimates_of_days"), params):
        if customer_type == "api":
            api[day][team] = usd
        else:
            rows.append(TeamDay(day, team, customer_type, usd, Decimal(0), False))
    if workspace_id is None:
        rows += [TeamDay(day, team, "api", usd, Decimal(0), False) for day, teams in api.items()
                 for team, usd in teams.items()]
        return sorted(rows, key=lambda r: (r.day, r.team, r.customer_type)), []
    invoices = dict(ch.query_rows(sql("claude_code_workspace_cost_of_days"), params))
    reconciliations = []
    for day in sorted(set(api) | set(invoices)):
        rows += split_day(day, api.get(day, {}), invoices.get(day))
        reconciliations.append(Reconciliation(day, sum(api.get(day, {}).values(), Decimal(0)),
                                              invoices.get(day, Decimal(0)), day in invoices))
    return sorted(rows, key=lambda r: (r.day, r.team, r.customer_type)), reconciliations


def replace_team_spend(ch: ClickHouseResource, workspace_id: str | None, start: date, end: date,
                       computed_at: datetime) -> tuple[list[TeamDay], list[Reconciliation]]:
    rows, reconciliations = team_spend(ch, workspace_id, start, end)
    workspace_id = workspace_id or ""
    params = {"start": start, "end": end, "computed_at": computed_at}
    with ch.connect():
        ch.replace("claude_code_team_daily",
                   ["date", "workspace_id", "team", "customer_type", "estimated_cost_usd", "charged_usd",
                    "provisional", "computed_at"],
                   [[r.day, workspace_id, r.team, r.customer_type, r.estimated_usd, r.charged_usd, int(r.provisional),
                     computed_at] for r in rows], sql("claude_code_team_clear_stale"), params)
        ch.replace("claude_code_reconciliation_daily",
                   ["date", "workspace_id", "estimated_cost_usd", "cost_report_usd", "difference_usd",
                    "difference_pct", "cost_report_present", "computed_at"],
                   [[r.day, workspace_id, r.estimated_usd, r.cost_report_usd, r.difference_usd, r.difference_pct,
                     int(r.cost_report_present), computed_at] for r in reconciliations],
                   sql("claude_code_reconciliation_clear_stale"), params)
    return rows, reconciliations
