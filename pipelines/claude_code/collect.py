"""Fetch days of ``usage_report/claude_code`` and replace those days in ClickHouse.

Contract: https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_claude_code (one UTC day per
call, ``limit`` up to 1000, cursor ``page`` / ``next_page``). A record's actor is a user (``email_address``) or
an API key (``api_key_name``). Emails never leave this module except as a pseudonym
(``pipelines.claude_code.pseudonyms``), and into ``finance_claude_code_people`` only when
``people.store_emails`` is true; error messages name a record by its day and position, never by its email.

Days are written with one ``extracted_at`` and earlier fetches' rows of those days deleted (as the Admin API
collector does), so a re-fetched day ends at the new numbers and a vanished actor leaves no row.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from pipelines.admin_api.client import AdminApiClient, AdminApiError, Log, RequestStats
from pipelines.admin_api.collect import fetch_time
from pipelines.claude_code.config import ClaudeCodeConfig
from pipelines.claude_code.pseudonyms import Pseudonymiser
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

USAGE_COLUMNS = ["date", "actor_type", "actor_id", "team", "customer_type", "subscription_type", "terminal_type",
                 "model", "input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens",
                 "estimated_cost_usd"]
ACTIVITY_COLUMNS = ["date", "actor_type", "actor_id", "team", "customer_type", "terminal_type", "sessions",
                    "lines_added", "lines_removed", "commits", "pull_requests", "edit_accepted", "edit_rejected",
                    "multi_edit_accepted", "multi_edit_rejected", "write_accepted", "write_rejected",
                    "notebook_edit_accepted", "notebook_edit_rejected"]
TOKEN_FIELDS = ("input", "output", "cache_read", "cache_creation")
TOOLS = ("edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool")
CUSTOMER_TYPES = frozenset({"api", "subscription"})


class ClaudeCodeRecordError(AdminApiError):
    """A record the ledger cannot store; names the day, the record's position and the field."""


@dataclass
class ClaudeCodeFetch:
    days: int
    records: int
    extracted_at: datetime
    stats: RequestStats
    people_stored: int
    estimated_usd: dict[str, Decimal] = field(default_factory=dict)  # customer_type -> estimated cost
    by_team: dict[tuple[str, str], Decimal] = field(default_factory=dict)  # (team, customer_type) -> USD
    actors: dict[str, int] = field(default_factory=dict)  # actor_type -> distinct actors


def _get(record: dict, path: str, where: str) -> Any:
    """A required field by dotted path; a null or missing value is an error naming it."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
        if value is None:
            raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: {path} is missing or null")
    return value


def _count(record: dict, path: str, where: str) -> int:
    """A count the report may leave out or null (no such action that day): 0."""
    value: Any = record
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or value != int(value):
        raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: {path} is not a count")
    return int(value)


def estimated_usd(amount: Any, currency: Any, where: str) -> Decimal:
    """``estimated_cost.amount`` (minor units: cents of USD) in USD, exactly."""
    if currency != "USD":
        raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: estimated_cost.currency {currency!r} is "
                                    "not USD; amounts are not converted")
    if isinstance(amount, bool) or not isinstance(amount, int | float | str):
        raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: estimated_cost.amount is not a number")
    return Decimal(str(amount)).scaleb(-2)


def _record_day(record: dict, where: str) -> date:
    text = str(_get(record, "date", where))
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: date {text!r} is not a date") from None


def parse_day(day: date, records: list[dict], config: ClaudeCodeConfig, pseudonyms: Pseudonymiser
              ) -> tuple[dict[tuple, list], dict[tuple, list], dict[str, tuple[str, str]]]:
    """(usage rows by key, activity rows by key, pseudonym -> (email, team)) of one day's records; records of
    the same actor, customer type, terminal (and model) are added up."""
    usage: dict[tuple, list] = {}
    activity: dict[tuple, list] = {}
    people: dict[str, tuple[str, str]] = {}
    for position, record in enumerate(records):
        where = f"day {day.isoformat()} record {position}"
        if _record_day(record, where) != day:
            raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: the record is not of the requested day")
        actor_type = _get(record, "actor.type", where)
        if actor_type == "user_actor":
            email = str(_get(record, "actor.email_address", where))
            actor_id, team = pseudonyms.pseudonym(email), config.people.team_of(email)
            people[actor_id] = (email.strip().lower(), team)
        elif actor_type == "api_actor":
            actor_id = str(_get(record, "actor.api_key_name", where))
            team = config.claude_code.team_of_key(actor_id)
        else:
            raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: actor.type {actor_type!r} is unknown")
        customer_type = _get(record, "customer_type", where)
        if customer_type not in CUSTOMER_TYPES:
            raise ClaudeCodeRecordError(f"usage_report/claude_code {where}: customer_type {customer_type!r} is "
                                        "not api or subscription")
        terminal, subscription = record.get("terminal_type") or "", record.get("subscription_type") or ""
        metrics = [_count(record, f"core_metrics.{name}", where) for name in
                   ("num_sessions", "lines_of_code.added", "lines_of_code.removed", "commits_by_claude_code",
                    "pull_requests_by_claude_code")]
        metrics += [_count(record, f"tool_actions.{tool}.{verdict}", where)
                    for tool in TOOLS for verdict in ("accepted", "rejected")]
        key = (day, actor_type, actor_id, team, customer_type, terminal)
        previous = activity.get(key)
        activity[key] = [a + b for a, b in zip(previous, metrics, strict=True)] if previous else metrics
        for index, model_row in enumerate(record.get("model_breakdown") or []):
            at = f"model_breakdown.{index}"
            model = str(_get(model_row, "model", f"{where} {at}"))
            tokens = [_count(model_row, f"tokens.{name}", f"{where} {at}") for name in TOKEN_FIELDS]
            usd = estimated_usd(_get(model_row, "estimated_cost.amount", f"{where} {at}"),
                                _get(model_row, "estimated_cost.currency", f"{where} {at}"), f"{where} {at}")
            row_key = (day, actor_type, actor_id, team, customer_type, subscription, terminal, model)
            values = [*tokens, usd]
            before = usage.get(row_key)
            usage[row_key] = [a + b for a, b in zip(before, values, strict=True)] if before else values
    return usage, activity, people


def days_of(start: datetime, end: datetime) -> list[date]:
    first, last = start.date(), end.date()
    return [first + timedelta(days=i) for i in range((last - first).days)]


def collect_claude_code(api: AdminApiClient, ch: ClickHouseResource, config: ClaudeCodeConfig,
                        pseudonyms: Pseudonymiser, start: datetime, end: datetime, log: Log | None = None
                        ) -> ClaudeCodeFetch:
    """The days in [start, end), one report call (and its pages) per day, replacing those days."""
    extracted_at = fetch_time()
    usage: dict[tuple, list] = {}
    activity: dict[tuple, list] = {}
    people: dict[str, tuple[str, str]] = {}
    records = 0
    with api.session(log) as session:
        for day in days_of(start, end):
            day_records = list(session.claude_code_report(day, config.claude_code.page_size))
            records += len(day_records)
            day_usage, day_activity, day_people = parse_day(day, day_records, config, pseudonyms)
            usage.update(day_usage)
            activity.update(day_activity)
            people.update(day_people)
    params = {"start": start.date(), "end": end.date(), "extracted_at": extracted_at}
    with ch.connect() as client:
        ch.replace("claude_code_usage_daily", [*USAGE_COLUMNS, "extracted_at"],
                   [[*k, *v, extracted_at] for k, v in usage.items()], sql("claude_code_usage_clear_stale"), params)
        ch.replace("claude_code_activity_daily", [*ACTIVITY_COLUMNS, "extracted_at"],
                   [[*k, *v, extracted_at] for k, v in activity.items()], sql("claude_code_activity_clear_stale"),
                   params)
        if config.people.store_emails:
            if people:
                client.insert("finance_claude_code_people",
                              [[p, email, team, extracted_at] for p, (email, team) in people.items()],
                              column_names=["pseudonym", "email", "team", "extracted_at"])
        else:
            client.command(sql("claude_code_people_forget"))
    estimated: dict[str, Decimal] = defaultdict(Decimal)
    by_team: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for key, values in usage.items():
        estimated[key[4]] += values[-1]
        by_team[(key[3], key[4])] += values[-1]
    actors: dict[str, set[str]] = defaultdict(set)
    for key in activity:
        actors[key[1]].add(key[2])
    return ClaudeCodeFetch(len(days_of(start, end)), records, extracted_at, session.stats,
                           len(people) if config.people.store_emails else 0, dict(sorted(estimated.items())),
                           dict(sorted(by_team.items())), {t: len(a) for t, a in sorted(actors.items())})
