"""The simulator's ``GET /v1/organizations/usage_report/claude_code``: one UTC day of Claude Code usage per call.

Contract (https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_claude_code): ``starting_at`` a
UTC date ``YYYY-MM-DD`` (that single day), ``limit`` 1..1000 (default 20), ``page`` the previous answer's
``next_page``. Each record: ``date``, ``actor`` (``user_actor`` + ``email_address`` or ``api_actor`` +
``api_key_name``), ``organization_id``, ``customer_type`` (``api`` / ``subscription``), ``terminal_type``,
``core_metrics`` (``num_sessions``, ``lines_of_code.added/removed``, ``commits_by_claude_code``,
``pull_requests_by_claude_code``), ``tool_actions`` (``edit_tool``, ``multi_edit_tool``, ``write_tool``,
``notebook_edit_tool``: ``accepted`` / ``rejected``), ``model_breakdown[]`` (``model``, ``tokens.input / output /
cache_read / cache_creation``, ``estimated_cost.currency / amount`` in cents) and ``subscription_type``; the
answer has ``has_more`` and ``next_page`` (null on the last page).

API actors' usage is the Claude Code workspace's calls (the same calls the cost report bills), each call
belonging to one actor (``demo.organisation.ClaudeCodeActor``); its estimated cost is the call's price rounded
to whole cents per model, so it differs from the invoice by a little, as an estimate does. Nulls the report
may carry: ``terminal_type`` (an actor without a terminal, e.g. CI), ``subscription_type`` (API customers)
and ``next_page``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from demo.organisation import Call, ClaudeCodeActor
from demo.simulator.reports import call_cost

CLAUDE_CODE_PATH = "/v1/organizations/usage_report/claude_code"
ORGANIZATION_ID = "5e1c2d6a-0b7f-4c1e-9a55-claude1ledger"
LIMITS = (20, 1000)  # (default, maximum) records per page
DAY_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ClaudeCodeRequestError(ValueError):
    """A bad parameter: the server answers 400 with this message."""


def _user_number(call: Call) -> int:
    digits = "".join(ch for ch in call.user if ch.isdigit())
    return int(digits) if digits else 0


def _actor_of(call: Call, actors: Sequence[ClaudeCodeActor]) -> ClaudeCodeActor:
    return actors[_user_number(call) % len(actors)]


def _actor_json(actor: ClaudeCodeActor) -> dict:
    if actor.actor_type == "user_actor":
        return {"type": "user_actor", "email_address": actor.name}
    return {"type": "api_actor", "api_key_name": actor.name}


def _metrics(calls: int, seed: int) -> tuple[dict, dict]:
    """Productivity metrics that grow with the actor's calls (deterministic)."""
    core = {"num_sessions": max(1, calls // 6), "lines_of_code": {"added": calls * 37, "removed": calls * 11},
            "commits_by_claude_code": calls // 9, "pull_requests_by_claude_code": calls // 30}
    tools = {"edit_tool": {"accepted": calls * 2, "rejected": calls // 7},
             "multi_edit_tool": {"accepted": calls // 2, "rejected": (calls + seed) // 20},
             "write_tool": {"accepted": calls // 3, "rejected": 0},
             "notebook_edit_tool": {"accepted": calls // 25, "rejected": 0}}
    return core, tools


def _cents(usd: Decimal) -> int:
    return int(usd.scaleb(2).quantize(Decimal(1), ROUND_HALF_UP))


def day_records(day: date, calls: Sequence[Call], api_actors: Sequence[ClaudeCodeActor],
                subscription_actors: Sequence[ClaudeCodeActor]) -> list[dict]:
    """Every record of ``day``: API actors from ``calls`` (the Claude Code workspace's calls of the day),
    subscription users on weekdays; ordered by actor type and name (the pagination order)."""
    stamp = f"{day.isoformat()}T00:00:00Z"
    by_actor: dict[ClaudeCodeActor, list[Call]] = defaultdict(list)
    for call in calls:
        by_actor[_actor_of(call, api_actors)].append(call)
    records = []
    for actor, own in by_actor.items():
        tokens: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        usd: dict[str, Decimal] = defaultdict(Decimal)
        for call in own:
            model = call.feature.model
            tokens[model]["input"] += call.input_tokens
            tokens[model]["output"] += call.output_tokens
            tokens[model]["cache_read"] += call.cache_read
            tokens[model]["cache_creation"] += call.cache_write_5m + call.cache_write_1h
            usd[model] += sum(call_cost(call, day).values(), Decimal(0))
        core, tools = _metrics(len(own), len(actor.name))
        breakdown = [{"model": model, "tokens": dict(tokens[model]),
                      "estimated_cost": {"currency": "USD", "amount": _cents(usd[model])}}
                     for model in sorted(tokens)]
        records.append(_record(stamp, actor, core, tools, breakdown, None))
    if day.weekday() < 5:
        for actor in subscription_actors:
            assert actor.subscription_day is not None
            model, given, output, read, creation, cents = actor.subscription_day
            core, tools = _metrics(40, len(actor.name))
            breakdown = [{"model": model, "tokens": {"input": given, "output": output, "cache_read": read,
                                                     "cache_creation": creation},
                          "estimated_cost": {"currency": "USD", "amount": cents}}]
            records.append(_record(stamp, actor, core, tools, breakdown, "team"))
    return sorted(records, key=lambda r: (r["actor"]["type"], r["actor"].get("email_address")
                                          or r["actor"].get("api_key_name")))


def _record(stamp: str, actor: ClaudeCodeActor, core: dict, tools: dict, breakdown: list[dict],
            subscription_type: str | None) -> dict:
    return {"date": stamp, "actor": _actor_json(actor), "organization_id": ORGANIZATION_ID,
            "customer_type": actor.customer_type, "terminal_type": actor.terminal_type, "core_metrics": core,
            "tool_actions": tools, "model_breakdown": breakdown, "subscription_type": subscription_type}


def _token(day: date, offset: int) -> str:
    return "page_" + base64.urlsafe_b64encode(f"{day.isoformat()}|{offset}".encode()).decode()


def _offset(token: str, day: date) -> int:
    try:
        text = base64.urlsafe_b64decode(token.removeprefix("page_").encode()).decode()
        token_day, offset = text.split("|")
        number = int(offset)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ClaudeCodeRequestError("page: invalid page token") from None
    if token_day != day.isoformat() or number < 0:
        raise ClaudeCodeRequestError("page: the page token does not belong to this query")
    return number


def _day(value: str | None) -> date:
    if value is None:
        raise ClaudeCodeRequestError("starting_at: Field required")
    if not DAY_PATTERN.match(value):
        raise ClaudeCodeRequestError(f"starting_at: must be a UTC date YYYY-MM-DD, got {value!r}")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ClaudeCodeRequestError(f"starting_at: not a calendar date: {value!r}") from None


def _limit(value: str | None) -> int:
    if value is None:
        return LIMITS[0]
    try:
        number = int(value)
    except ValueError:
        raise ClaudeCodeRequestError(f"limit: Input should be a valid integer, got {value!r}") from None
    if not 1 <= number <= LIMITS[1]:
        raise ClaudeCodeRequestError(f"limit: must be between 1 and {LIMITS[1]}, got {number}")
    return number


def claude_code_page(query: dict[str, list[str]], calls_between: Callable[[datetime, datetime], list[Call]],
                     workspace_id: str, api_actors: Sequence[ClaudeCodeActor],
                     subscription_actors: Sequence[ClaudeCodeActor], today: date) -> dict:
    """One page of the report; ``calls_between`` gives the calls that have happened (the server's view)."""

    def one(name: str) -> str | None:
        values = query.get(name)
        return values[-1] if values else None

    day, limit = _day(one("starting_at")), _limit(one("limit"))
    page = one("page")
    offset = _offset(page, day) if page else 0
    records: list[dict] = []
    if day <= today:
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        calls = [c for c in calls_between(start, start + timedelta(days=1)) if c.feature.workspace_id == workspace_id]
        records = day_records(day, calls, api_actors, subscription_actors)
    chunk = records[offset:offset + limit]
    more = offset + limit < len(records)
    return {"data": chunk, "has_more": more, "next_page": _token(day, offset + limit) if more else None}
