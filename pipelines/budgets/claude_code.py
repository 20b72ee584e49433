"""Claude Code in budgets (docs/claude_code.md): scope ``team`` counts each team's Claude Code share, scope
``person`` a person's Claude Code estimated cost.

Team: the rollup books the Claude Code workspace's spend to the workspace's owner (as the allocation does). On
the days Claude Code's team split exists, each rollup row of that workspace is split over the teams by their
share of the invoice (``claude_code_team_daily``), largest remainder in 1e-12 USD, keeping its feature, env,
workspace and key: org, workspace and key budgets see the same totals, team budgets see Claude Code where its
users are, and nothing is counted twice.

Person: the person's Claude Code estimated cost (api and subscription) from ``claude_code_usage_daily``; the
target is the person's pseudonym, so no email is ever in a budget, an alert or metadata. These rows count for
person budgets only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from clickhouse_connect.driver.client import Client

from pipelines.allocation.rounding import split_integer
from pipelines.budgets.spend import DailySpend
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)
UNITS = Decimal("1e-12")


def _split(amount: Decimal, weights: list[int]) -> list[Decimal]:
    return [part * UNITS for part in split_integer(int(amount / UNITS), weights)]


def with_claude_code_teams(client: Client, daily: list[DailySpend], since: datetime) -> list[DailySpend]:
    """``daily`` with the Claude Code workspace's rows split over the teams that used Claude Code that day."""
    shares: dict[tuple[date, str], list[tuple[str, int]]] = defaultdict(list)
    for day, workspace_id, team, charged in client.query(sql("claude_code_team_shares_since"),
                                                         parameters={"since": since}).result_rows:
        shares[(day, workspace_id)].append((team, int(charged / UNITS)))
    if not shares:
        return daily
    result: list[DailySpend] = []
    for row in daily:
        teams = shares.get((row.day, row.workspace_id))
        if not teams:
            result.append(row)
            continue
        weights = [weight for _, weight in teams]
        spends, befores = _split(row.spend_usd, weights), _split(row.spend_before_hour_usd, weights)
        units = split_integer(row.unpriced_units, weights)
        result += [replace(row, team=team, spend_usd=spend, spend_before_hour_usd=before, unpriced_units=unpriced)
                   for (team, _), spend, before, unpriced in zip(teams, spends, befores, units, strict=True)]
    return result


def claude_code_person_spend(client: Client, since: datetime) -> list[DailySpend]:
    """A row per day and person (``person`` = the pseudonym) of Claude Code's estimated cost."""
    rows = client.query(sql("claude_code_person_spend_since"), parameters={"since": since}).result_rows
    return [DailySpend(day, "", "", "", "", "", usd, 0, datetime.combine(day + timedelta(days=1), time(),
                                                                          tzinfo=since.tzinfo), person=person)
            for day, person, usd in rows]
