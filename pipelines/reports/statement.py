"""The monthly statement: one self-contained HTML page per month a controller can forward.

``statement-YYYY-MM.html`` beside the chargeback export (and, when asked, one page per cost centre,
``statement-YYYY-MM-<cost-centre>.html``): totals, and five charts — spend per team per day, model mix, budget
burn-down against the budget lines, cache savings realised and missed, reconciliation to the cost report —
each with the table behind it, and on the organisation's page a bridge from each team's showback to its
chargeback. The charts are Vega-Lite specifications drawn by vega-embed; vega, vega-lite and
vega-embed are inlined from vl-convert's bundle, so the page fetches nothing when it opens (it works offline,
from a mail attachment or a file share). When every chart is drawn, the page's script sets
``data-charts="rendered"`` on ``<html>`` (``failed: …`` otherwise), which is what the browser test waits for.

Money in the tables is exact: the chargeback's cents, the showback's decimals rounded to the cent (a column of
teams by largest remainder, so that it sums to its total); charts draw the same amounts as numbers.
"""

from __future__ import annotations

import html
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any

import altair as alt
import vl_convert

from pipelines import money
from pipelines.allocation.chargeback import CLAUDE_CODE_FEATURE, SHARED_COST_FEATURE
from pipelines.allocation.config import UNATTRIBUTED, AttributionConfig
from pipelines.allocation.export import statement_name
from pipelines.allocation.months import is_closed, month_bounds
from pipelines.allocation.rounding import round_to_cents
from pipelines.budgets.claude_code import with_claude_code_teams
from pipelines.budgets.model import Budget
from pipelines.budgets.spend import DailySpend, read_daily_spend
from pipelines.reports import charts
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

CENT = Decimal("0.01")
ZERO = Decimal(0)


def usd(amount: Decimal | None) -> str:
    return "–" if amount is None else money.usd(amount)


def _cents(amount: Decimal) -> float:
    """An amount as a chart draws it (to the cent)."""
    return float(Decimal(amount).quantize(CENT, ROUND_HALF_UP))


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "none"


def statement_path(directory: Path, month: date, cost_center: str | None = None) -> Path:
    if cost_center is None:
        return directory / statement_name(month)
    return directory / f"statement-{month:%Y-%m}-{slug(cost_center)}.html"


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    intro: str
    spec: dict[str, Any] | None  # None: nothing to draw (the intro says why)
    table_headers: tuple[str, ...] = ()
    table_rows: tuple[tuple[str, ...], ...] = ()
    note: str = ""


@dataclass
class Statement:
    month: date
    cost_center: str | None
    final: bool
    totals: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)

    @property
    def charts(self) -> int:
        return sum(1 for s in self.sections if s.spec is not None)


def _month_daily_spend(ch: ClickHouseResource, month: date) -> list[DailySpend]:
    """The month's budget spend, Claude Code where its users are (as team budgets and the chargeback count it)."""
    start, end = month_bounds(month)
    with ch.connect() as client:
        return [d for d in with_claude_code_teams(client, read_daily_spend(client, start), start)
                if d.day < end.date()]


def _in_cents(amounts: dict[str, Decimal]) -> dict[str, Decimal]:
    """Each team's amount in cents, summing to the total in cents (largest remainder), so a column adds up."""
    return dict(zip(amounts, round_to_cents(list(amounts.values())), strict=True))


def _spend_section(ch: ClickHouseResource, month: date, cost_center: str | None
                   ) -> tuple[Section, dict[str, Decimal]]:
    """The section, and each team's exact showback of the month."""
    rows = ch.query_rows(sql("statement_spend_by_team_daily"), {"month": month, "cost_center": cost_center})
    by_team: dict[str, Decimal] = defaultdict(Decimal)
    for _day, team, amount in rows:
        by_team[team] += amount
    shown = _in_cents(by_team)
    return Section(
        "spend", "Spend per team per day",
        "Allocated spend (showback: each team's own traffic, the Claude Code workspace with its owner, before the "
        "shared-cost policy) per UTC day.",
        charts.spend_per_team_per_day([{"date": f"{d:%Y-%m-%d}", "team": t, "usd": _cents(a)} for d, t, a in rows])
        if rows else None,
        ("team", "allocated in the month"),
        tuple((team, usd(shown[team])) for team, _ in sorted(by_team.items(), key=lambda kv: (-kv[1], kv[0]))),
        "All teams are listed." if rows else "No allocation for this month yet: run the allocate_month job.",
    ), dict(by_team)


def _bridge_section(ch: ClickHouseResource, month: date, showback: dict[str, Decimal], policy: str) -> Section:
    """Per team, from its showback (the table above) to its chargeback: the Claude Code workspace moved to its
    users' teams, the shared cost the policy spreads from 'unattributed', and the cent rounding of the lines.

    Exact amounts from chargeback_monthly (its lines keep the showback's exact amount); each column is rounded to
    cents summing to its total (largest remainder), so the figure columns sum to the month's total and the moves to
    zero, and every row adds up as shown (rounding: what the chargeback's own cent rounding of its lines leaves).
    """
    rows = ch.query_rows(sql("statement_bridge_by_team"), {"month": month, "shared_feature": SHARED_COST_FEATURE})
    received = {team: shared_usd for team, _own, shared_usd, _charged in rows}
    charged = {team: charged_usd for team, _own, _shared, charged_usd in rows}
    moved_away = sum(received.values(), ZERO)  # every shared line is spend 'unattributed' had
    own = {team: own_usd for team, own_usd, _shared, _charged in rows}
    own[UNATTRIBUTED] = own.get(UNATTRIBUTED, ZERO) + moved_away
    teams = sorted(showback.keys() | charged.keys())
    start = _in_cents({t: showback.get(t, ZERO) for t in teams})
    claude_code = _in_cents({t: own.get(t, ZERO) - showback.get(t, ZERO) for t in teams})
    shared = _in_cents({t: received.get(t, ZERO) - (moved_away if t == UNATTRIBUTED else ZERO) for t in teams})
    columns = [(t, start[t], claude_code[t], start[t] + claude_code[t], shared[t],
                charged.get(t, ZERO) - start[t] - claude_code[t] - shared[t], charged.get(t, ZERO)) for t in teams]
    if columns:
        columns.append(("total", *(sum(column, ZERO) for column in list(zip(*columns, strict=True))[1:])))
    change = money.signed_usd
    table = tuple((team, usd(start_usd), change(claude_code_usd), usd(own_usd), change(shared_usd), change(rounding),
                   usd(charged_usd))
                  for team, start_usd, claude_code_usd, own_usd, shared_usd, rounding, charged_usd in columns)
    return Section(
        "bridge", "From showback to chargeback",
        "How each team's showback (the table above) becomes its chargeback: the Claude Code workspace's cost moves "
        f"from the workspace's owner to the teams of its users (feature '{CLAUDE_CODE_FEATURE}'), which gives each "
        f"team's own spend (what its budgets count); the shared-cost policy ({policy}) then spreads the spend nobody "
        f"owns ('{UNATTRIBUTED}') over the teams ('{SHARED_COST_FEATURE}' lines); the chargeback's lines are rounded "
        "to the cent. Showback, own spend and chargeback each sum to the month's total; each move sums to zero.",
        None,
        ("team", "showback", "Claude Code moved", "own spend", "shared cost", "cent rounding", "chargeback"),
        table,
        "Every team with showback or chargeback is listed." if table else "No chargeback for this month yet.",
    )


def _model_section(ch: ClickHouseResource, month: date, cost_center: str | None) -> Section:
    rows = ch.query_rows(sql("statement_model_mix"), {"month": month, "cost_center": cost_center})
    total = sum((r[2] for r in rows), ZERO)
    share = [(model, tokens, amount, amount / total if total else ZERO) for model, tokens, amount in rows]
    return Section(
        "models", "Model mix", "Allocated spend per model, with its share of the month.",
        charts.model_mix([{"model": m, "usd": _cents(a), "share": float(s)} for m, _t, a, s in share])
        if rows else None,
        ("model", "tokens", "allocated", "share"),
        tuple((m, f"{t:,}", usd(a), f"{s:.1%}") for m, t, a, s in share),
        "All models are listed; cost-report-only amounts without a model are in the totals, not here.",
    )


def _budget_rows(budgets: list[Budget], daily: list[DailySpend], month: date) -> tuple[list[dict], list[tuple]]:
    """Points of the burn-down chart and one table row per budget."""
    points: list[dict[str, Any]] = []
    table = []
    days = sorted({d.day for d in daily})
    for budget in budgets:
        per_day: dict[date, Decimal] = defaultdict(Decimal)
        for d in daily:
            if budget.matches(d.team, d.feature, d.env, d.workspace_id, d.api_key_id):
                per_day[d.day] += d.spend_usd
        running = ZERO
        peak = ZERO
        for day in days:
            spent = per_day.get(day, ZERO)
            running += spent
            value = running if budget.period == "month" else spent
            peak = max(peak, spent)
            points.append({"budget": budget.id, "period": budget.period, "date": f"{day:%Y-%m-%d}",
                           "usd": _cents(value), "percent": float(value * 100 / budget.amount_usd)})
        if budget.period == "month":
            table.append((budget.id, budget.describe_scope(), f"month, {usd(budget.amount_usd)}", usd(running),
                          f"{running * 100 / budget.amount_usd:.1f} %"))
        else:
            over = sum(1 for v in per_day.values() if v >= budget.amount_usd)
            table.append((budget.id, budget.describe_scope(), f"day, {usd(budget.amount_usd)}",
                          f"highest day {usd(peak)}", f"{over} of {len(days)} days at or over 100 %"))
    return points, table


def _budget_section(budgets: list[Budget], daily: list[DailySpend], month: date, problem: str | None) -> Section:
    points, table = _budget_rows(budgets, daily, month)
    if problem:
        intro = f"Budgets could not be read from LEDGER_CONFIG ({problem}), so none is drawn."
    elif not budgets:
        intro = "No budget in LEDGER_CONFIG applies to this page."
    else:
        intro = ("Each budget's spend as a percentage of its amount, against the budget line (100 %): month budgets "
                 "accumulate over the month; day budgets, in a panel of their own, show each day's spend.")
    return Section("budgets", "Budget burn-down", intro, charts.budget_burn_down(points) if points else None,
                   ("budget", "scope", "period, amount", "spend", "against the line"), tuple(table),
                   "Budget spend comes from the spend_hourly rollup the alerts read; see below for why it differs "
                   "from the chargeback.")


def _shared_cost_section(ch: ClickHouseResource, month: date, daily: list[DailySpend], cost_center: str | None
                         ) -> tuple[Section, list[tuple]]:
    rows = [r for r in ch.query_rows(sql("statement_chargeback_by_team"),
                                     {"month": month, "shared_feature": SHARED_COST_FEATURE})
            if cost_center is None or r[0] == cost_center]
    budget_spend: dict[str, Decimal] = defaultdict(Decimal)
    for d in daily:
        budget_spend[d.team] += d.spend_usd
    policy = rows[0][6] if rows else "none"
    table = tuple(
        (centre or "(none)", team, usd(budget_spend.get(team, ZERO)), usd(shared), usd(charged),
         usd(charged - shared - budget_spend.get(team, ZERO).quantize(CENT, ROUND_HALF_UP)))
        for centre, team, _own, shared, charged, _provisional, _policy in rows)
    intro = (f"A budget counts the spend a team's own traffic caused (allocated Admin API cost of its events and of "
             f"the API keys and workspaces it owns). The chargeback adds the team's part of the residual nobody owns, "
             f"under the shared-cost policy ({policy}), as '{SHARED_COST_FEATURE}' lines. So chargeback = budget "
             "spend + shared cost; what remains is cent rounding, or hours that were still event-priced when the "
             "budget rollup was last refreshed.")
    return Section("shared-cost", "Budget spend and chargeback", intro, None,
                   ("cost centre", "team", "budget spend", "shared cost", "chargeback", "rest"), table,
                   "Every charged team is listed."), rows


def _cache_section(ch: ClickHouseResource, month: date, teams: list[str]) -> Section:
    rows = ch.query_rows(sql("statement_cache_by_team"), {"month": month, "teams": teams})
    analysed = ch.query_rows(sql("statement_cache_analysed"), {"month": month})[0][0]
    points = []
    for team, realised, wasted, missed in rows:
        points += [{"team": team, "measure": "realised", "usd": _cents(realised)},
                   {"team": team, "measure": "missed: unread cache writes", "usd": _cents(wasted)},
                   {"team": team, "measure": "missed: prefixes sent uncached", "usd": _cents(missed)}]
    return Section(
        "cache", "Prompt caching: savings realised and missed",
        "Realised: what cache reads saved against the input price, less the cache-write premium. Missed: the "
        "premium paid for cache writes never read, and the estimated monthly saving of prompt prefixes sent "
        "repeatedly without caching (docs/cache.md).",
        charts.cache_savings(points) if points else None,
        ("team", "realised", "missed: unread writes", "missed: uncached prefixes (est. a month)"),
        tuple((t, usd(r), usd(w), usd(m)) for t, r, w, m in rows),
        "The uncached-prefix estimate is from the latest cache analysis window, which need not be this month; "
        "teams without cache activity are not listed." if rows else
        f"The cache analysis found no prompt-cache activity in this month's usage events"
        f"{' of these teams' if teams else ''}." if analysed else
        "No cache analysis for this month: run the cache_analysis job.",
    )


def _reconciliation_section(ch: ClickHouseResource, month: date) -> tuple[Section, Decimal | None, Decimal]:
    rows = ch.query_rows(sql("statement_reconciliation_daily"), {"month": month})
    points = []
    for day, _authority, _explained, allocated, report in rows:
        if report is not None:
            points.append({"date": f"{day:%Y-%m-%d}", "series": "cost report", "usd": _cents(report)})
        points.append({"date": f"{day:%Y-%m-%d}", "series": "allocated", "usd": _cents(allocated or ZERO)})
    reported = [r for r in rows if r[4] is not None]
    report_total = sum((r[4] for r in reported), ZERO) if reported else None
    allocated_total = sum((r[3] or ZERO for r in rows), ZERO)
    table = tuple(
        (f"{day:%Y-%m-%d}", usd(report), usd(allocated),
         "equal" if report is not None and Decimal(report).quantize(CENT) == Decimal(allocated or 0).quantize(CENT)
         else ("provisional (no cost report yet)" if report is None else f"off by {usd(allocated - report)}"),
         f"{explained / authority:.1%}" if authority else "–")
        for day, authority, explained, allocated, report in rows)
    return Section(
        "reconciliation", "Reconciliation to the cost report",
        "Per day, the Anthropic cost report and what was allocated: they are equal to the cent on every day the "
        "report covers (the allocation_sums_to_authority check proves it per workspace). Days without a report yet "
        "are at list price and provisional. Coverage: the share of the Admin API's tokens the application events "
        "explain (the rest went to owners or 'unattributed').",
        charts.reconciliation(points) if points else None,
        ("day", "cost report", "allocated", "", "event coverage"), table, "Every day of the month is listed.",
    ), report_total, allocated_total


def build_statement(ch: ClickHouseResource, month: date, attribution: AttributionConfig, budgets: list[Budget],
                    now: datetime, cost_center: str | None = None, budget_problem: str | None = None) -> Statement:
    """The month's statement, or one cost centre's page of it."""
    final = is_closed(month, now)
    daily = _month_daily_spend(ch, month)
    budgets = [b for b in budgets if b.scope != "person"]  # a person's Claude Code is not in the statement's rollup
    teams = sorted({t for t, team in attribution.teams.items() if team.cost_center == cost_center} | {
        row[0] for row in ch.query_rows(sql("statement_teams_of_cost_centre"),
                                        {"month": month, "cost_center": cost_center})}) if cost_center else []
    if cost_center is not None:
        daily = [d for d in daily if d.team in teams]
        budgets = [b for b in budgets if b.scope == "team" and b.target in teams]
    statement = Statement(month, cost_center, final)
    shared, charged_rows = _shared_cost_section(ch, month, daily, cost_center)
    charged = sum((r[4] for r in charged_rows), ZERO)
    spend, showback = _spend_section(ch, month, cost_center)
    bridge = [] if cost_center is not None else [  # the whole organisation's: its columns sum to the invoice
        _bridge_section(ch, month, showback, charged_rows[0][6] if charged_rows else "none")]
    statement.sections = [spend, *bridge, _model_section(ch, month, cost_center),
                          _budget_section(budgets, daily, month, budget_problem), shared,
                          _cache_section(ch, month, teams)]
    statement.totals = [("charged (chargeback)", usd(charged)),
                        ("status", "final" if final and not any(r[5] for r in charged_rows) else "provisional")]
    if cost_center is None:
        reconciliation, report_total, allocated_total = _reconciliation_section(ch, month)
        statement.sections.append(reconciliation)
        statement.totals[1:1] = [("cost report", usd(report_total)), ("allocated (exact)", usd(allocated_total))]
    return statement


@cache
def _vega_bundle() -> str:
    """vega, vega-lite and vega-embed as one script (from vl-convert), for the Vega-Lite version altair writes."""
    version = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
    return vl_convert.javascript_bundle(vl_version=version)


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


def _table(headers: tuple[str, ...], rows: tuple[tuple[str, ...], ...]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 60rem;
       color: #1d2329; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: 0.2rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
.sub { color: #5f6b76; margin-top: 0; }
.totals { display: flex; gap: 1.5rem; flex-wrap: wrap; margin: 1.2rem 0; }
.totals div { background: #f3f5f7; border-radius: 6px; padding: 0.6rem 1rem; }
.totals b { display: block; font-size: 1.2rem; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
th, td { border-bottom: 1px solid #dde3e8; padding: 0.25rem 0.7rem; text-align: left; }
td:not(:first-child) { font-variant-numeric: tabular-nums; }
.note { color: #5f6b76; font-size: 0.85rem; } .chart { margin: 0.6rem 0; min-height: 2rem; }
nav a { margin-right: 0.8rem; }
"""


def render_html(statement: Statement, generated_at: datetime, pages: dict[str, str] | None = None) -> str:
    """The page: text, tables and the charts' specifications, with the chart libraries inlined."""
    month = f"{statement.month:%B %Y}"
    scope = f"cost centre {statement.cost_center or '(none)'}" if statement.cost_center is not None else \
        "whole organisation"
    status = "final" if statement.final else "provisional: the month is not over, amounts will change"
    specs = {f"chart-{s.anchor}": s.spec for s in statement.sections if s.spec is not None}
    parts = [
        "<!DOCTYPE html>", '<html lang="en" data-charts="pending"><head><meta charset="utf-8">',
        f"<title>claude-ledger statement {statement.month:%Y-%m}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">', f"<style>{STYLE}</style></head><body>",
        f"<h1>Claude API statement — {html.escape(month)}</h1>",
        f'<p class="sub">{html.escape(scope)} · {html.escape(status)} · generated '
        f"{generated_at:%Y-%m-%d %H:%M} UTC by claude-ledger</p>",
        '<div class="totals">' + "".join(f"<div>{html.escape(k)}<b>{html.escape(v)}</b></div>"
                                         for k, v in statement.totals) + "</div>",
        "<nav>" + "".join(f'<a href="#{s.anchor}">{html.escape(s.title)}</a>' for s in statement.sections) + "</nav>",
    ]
    if pages:
        parts.append('<p class="note">Cost centre pages: ' + " · ".join(
            f'<a href="{html.escape(name)}">{html.escape(centre or "(none)")}</a>' for centre, name in pages.items())
            + "</p>")
    for section in statement.sections:
        parts.append(f'<section id="{section.anchor}"><h2>{html.escape(section.title)}</h2>'
                     f"<p>{html.escape(section.intro)}</p>")
        if section.spec is not None:
            parts.append(f'<div class="chart" id="chart-{section.anchor}" role="img" '
                         f'aria-label="{html.escape(section.title)}"></div>')
        parts.append(_table(section.table_headers, section.table_rows))
        if section.note:
            parts.append(f'<p class="note">{html.escape(section.note)}</p>')
        parts.append("</section>")
    parts += [
        f'<script type="module">{_vega_bundle()}</script>',
        '<script type="module">',
        f"const specs = {_script_json(specs)};",
        "const root = document.documentElement;",
        "Promise.all(Object.entries(specs).map(([id, spec]) =>",
        "  vegaEmbed('#' + id, spec, {renderer: 'svg', actions: false})))",
        "  .then(views => { root.dataset.chartsDrawn = String(views.length); root.dataset.charts = 'rendered'; })",
        "  .catch(error => { root.dataset.charts = 'failed: ' + error; });",
        "</script></body></html>",
    ]
    return "\n".join(parts)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text)
    temporary.replace(path)


@dataclass(frozen=True)
class WrittenStatement:
    path: Path
    charts: int
    final: bool
    pages: tuple[Path, ...]  # the cost centres' pages


def write_statement(ch: ClickHouseResource, month: date, directory: Path, attribution: AttributionConfig,
                    budgets: list[Budget], now: datetime | None = None, cost_centre_pages: bool = False,
                    budget_problem: str | None = None) -> WrittenStatement:
    """Write the month's statement (and the cost centres' pages) into ``directory``."""
    now = now or datetime.now(UTC)
    with ch.connect():  # one unit of work: the queries below share its session
        return _write_statements(ch, month, directory, attribution, budgets, now, cost_centre_pages, budget_problem)


def _write_statements(ch: ClickHouseResource, month: date, directory: Path, attribution: AttributionConfig,
                      budgets: list[Budget], now: datetime, cost_centre_pages: bool, budget_problem: str | None
                      ) -> WrittenStatement:
    pages: dict[str, str] = {}
    written = []
    if cost_centre_pages:
        centres = [row[0] for row in ch.query_rows(sql("statement_cost_centres"), {"month": month})]
        for centre in centres:
            path = statement_path(directory, month, centre)
            page = build_statement(ch, month, attribution, budgets, now, centre, budget_problem)
            _write(path, render_html(page, now))
            pages[centre] = path.name
            written.append(path)
    statement = build_statement(ch, month, attribution, budgets, now, None, budget_problem)
    path = statement_path(directory, month)
    _write(path, render_html(statement, now, pages))
    return WrittenStatement(path, statement.charts, statement.final, tuple(written))


def month_has_chargeback(ch: ClickHouseResource, month: date) -> bool:
    return bool(ch.query_rows(sql("statement_cost_centres"), {"month": month}))

