"""The Admin API's reports computed from individual calls: what the simulator serves.

Usage results sum each call's tokens into its group. Cost results bill each call the way Anthropic's pricing
page says (https://platform.claude.com/docs/en/about-claude/pricing): the model's schedule in force that day,
the prompt band of the request (all its tokens at the band's rate), times the service tier, speed and
inference geo multipliers; web search per request; code execution per container-hour beyond the
organisation's free hours of the month; Managed Agents per session-hour. The price book is the published one
(the ledger's own price files) plus ``unlisted_prices.csv``: models Anthropic bills that the ledger's file does
not list yet, so the ledger has to learn their price from this cost report. Amounts are cents as decimal
strings, exact. Priority-tier usage is not in the cost report (as documented for the real API).

This is the other party's billing, written on its own (in Python, from the price files), not the ledger's
SQL rules: a test that compares the two compares two implementations.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path

from demo.organisation import Call
from pipelines.pricing.list_prices import (
    PER_MILLION,
    Multiplier,
    Price,
    csv_rows,
    multiplier_table,
    price_table,
    service_price_table,
)

UNLISTED_PRICES = Path(__file__).with_name("unlisted_prices.csv")
USAGE_DIMENSIONS = ("api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo", "speed",
                    "account_id", "service_account_id")
COST_DIMENSIONS = ("workspace_id", "description")
COST_DETAIL_FIELDS = ("cost_type", "model", "token_type", "service_tier", "context_window", "inference_geo", "speed")
# Cost report token_type -> (price column of the price files, description label)
TOKEN_TYPES = {
    "uncached_input_tokens": ("input", "Input Tokens"),
    "cache_read_input_tokens": ("cache_read", "Input Tokens, Cache Hit"),
    "cache_creation.ephemeral_5m_input_tokens": ("cache_write_5m", "Input Tokens, 5m Cache Write"),
    "cache_creation.ephemeral_1h_input_tokens": ("cache_write_1h", "Input Tokens, 1h Cache Write"),
    "output_tokens": ("output", "Output Tokens"),
}
SERVICE_DESCRIPTIONS = {"web_search": "Web Search Usage", "code_execution": "Code Execution Usage",
                        "session_usage": "Managed Agents Session Usage"}
BANDS = (0, 100_000, 200_000)  # the prompt lengths Anthropic's prices change above


@cache
def price_book() -> tuple[Price, ...]:
    unlisted = tuple(Price(row["model"], date.fromisoformat(row["effective_from"]), int(row["prompt_tokens_above"]),
                           {t: Decimal(row[t]) for t in ("input", "cache_write_5m", "cache_write_1h", "cache_read",
                                                          "output")})
                     for row in csv_rows(UNLISTED_PRICES))
    return price_table() + unlisted


def _family_of(model: str, families: set[str]) -> str | None:
    """A dated id (``-YYYYMMDD``) bills as its model."""
    if model in families:
        return model
    match = re.fullmatch(r"(.+)-\d{8}", model)
    return match.group(1) if match and match.group(1) in families else None


def usd_per_mtok(model: str, day: date, prompt_tokens: int, price_column: str) -> Decimal | None:
    """The base rate of one request: the schedule in force (its latest date), the row of its prompt band."""
    book = price_book()
    family = _family_of(model, {p.model for p in book})
    rows = [p for p in book if p.model == family and p.effective_from <= day]
    if not rows:
        return None
    latest = max(p.effective_from for p in rows)
    schedule = [p for p in rows if p.effective_from == latest and p.prompt_tokens_above < max(prompt_tokens, 1)]
    return max(schedule, key=lambda p: p.prompt_tokens_above).usd_per_mtok[price_column] if schedule else None


def multiplier(model: str, day: date, dimension: str, value: str) -> Decimal | None:
    """The model's own multiplier for ``value`` in force on ``day``, else the one for every model."""
    family = _family_of(model, {p.model for p in price_book()}) or model
    rows: list[Multiplier] = [m for m in multiplier_table()
                              if m.dimension == dimension and m.value == value and m.effective_from <= day]
    own = [m for m in rows if m.model == family]
    chosen = own or [m for m in rows if m.model == "*"]
    return max(chosen, key=lambda m: m.effective_from).multiplier if chosen else None


def service_price(cost_type: str, day: date) -> tuple[Decimal, Decimal]:
    """(USD per unit, free units per month) of a non-token cost type on ``day``."""
    rows = [s for s in service_price_table() if s.cost_type == cost_type and s.effective_from <= day]
    latest = max(rows, key=lambda s: s.effective_from)
    return latest.usd_per_unit, latest.free_units_per_month


def dimensions_of(call: Call) -> dict[str, str | None]:
    feature = call.feature
    return {"api_key_id": feature.api_key_id, "workspace_id": feature.workspace_id, "model": feature.model,
            "service_tier": feature.service_tier, "context_window": call.context_window,
            "inference_geo": feature.inference_geo, "speed": feature.speed, "account_id": None,
            "service_account_id": None}


def tokens_of(call: Call) -> dict[str, int]:
    """The call's usage under the cost report's token_type names (plus web searches)."""
    return {"uncached_input_tokens": call.input_tokens, "cache_read_input_tokens": call.cache_read,
            "cache_creation.ephemeral_5m_input_tokens": call.cache_write_5m,
            "cache_creation.ephemeral_1h_input_tokens": call.cache_write_1h,
            "output_tokens": call.output_tokens, "web_search_requests": call.web_searches}


def usage_results(calls: Iterable[Call], group_by: Iterable[str]) -> list[dict]:
    """One result per group; dimensions not grouped by are null, like the real report."""
    grouped = set(group_by)
    sums: dict[tuple, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for call in calls:
        dims = dimensions_of(call)
        key = tuple(dims[d] if d in grouped else None for d in USAGE_DIMENSIONS)
        for name, count in tokens_of(call).items():
            sums[key][name] += count
    results = []
    for key in sorted(sums, key=lambda k: tuple(v or "" for v in k)):
        t = sums[key]
        results.append({
            **dict(zip(USAGE_DIMENSIONS, key, strict=True)),
            "uncached_input_tokens": t["uncached_input_tokens"],
            "cache_read_input_tokens": t["cache_read_input_tokens"],
            "cache_creation": {"ephemeral_5m_input_tokens": t["cache_creation.ephemeral_5m_input_tokens"],
                               "ephemeral_1h_input_tokens": t["cache_creation.ephemeral_1h_input_tokens"]},
            "output_tokens": t["output_tokens"],
            "server_tool_use": {"web_search_requests": t["web_search_requests"]},
        })
    return results


def model_display_name(model: str) -> str:
    """``claude-sonnet-4-5-20250929`` -> ``Claude Sonnet 4.5``; ``claude-3-5-haiku`` -> ``Claude 3.5 Haiku``."""
    words = re.sub(r"-\d{8}$", "", model).split("-")
    out: list[str] = []
    for word in words:
        if word.isdigit() and out and out[-1][-1].isdigit():
            out[-1] += f".{word}"
        else:
            out.append(word if word.isdigit() else word.capitalize())
    return " ".join(out)


def _description(model: str, token_type: str, tier: str, context_window: str, geo: str, speed: str) -> str:
    text = f"{model_display_name(model)} Usage - {TOKEN_TYPES[token_type][1]}"
    if tier != "standard":
        text += f" ({tier.capitalize()})"
    if context_window != "0-200k":
        text += " (Long Context)"
    if speed == "fast":
        text += " (Fast Mode)"
    if geo == "us":
        text += " (US Inference)"
    return text


def cents(usd: Decimal) -> str:
    """A USD amount as the report's decimal string in cents, exact (no float, no rounding)."""
    return format(usd.scaleb(2).normalize(), "f")


@dataclass(frozen=True)
class CostLine:
    """One line of the simulated invoice (before grouping): what a cost report row is made of."""

    workspace: str | None
    cost_type: str
    model: str | None
    token_type: str | None
    tier: str | None
    context_window: str | None
    geo: str | None
    speed: str | None


class UnpricedModel(ValueError):
    """The simulator's price book has no price for a model it was asked to bill."""


def call_cost(call: Call, day: date) -> dict[CostLine, Decimal]:
    """What one successful call costs, by cost line (priority tier: billed elsewhere, nothing here)."""
    dims = dimensions_of(call)
    tier, model = str(dims["service_tier"]), str(dims["model"])
    if tier == "priority":
        return {}
    prompt = call.input_tokens + call.cache_read + call.cache_write_5m + call.cache_write_1h
    factor = Decimal(1)
    for dimension in ("service_tier", "speed", "inference_geo"):
        found = multiplier(model, day, dimension, str(dims[dimension]))
        if found is None:
            raise UnpricedModel(f"the simulator has no {dimension} {dims[dimension]} price for {model} on {day}")
        factor *= found
    lines: dict[CostLine, Decimal] = {}
    for token_type, count in tokens_of(call).items():
        if not count:
            continue
        if token_type == "web_search_requests":
            usd, _free = service_price("web_search", day)
            line = CostLine(dims["workspace_id"], "web_search", None, None, None, None, None, None)
            lines[line] = lines.get(line, Decimal(0)) + usd * count
            continue
        rate = usd_per_mtok(model, day, prompt, TOKEN_TYPES[token_type][0])
        if rate is None:
            raise UnpricedModel(f"the simulator has no price for {model} on {day}")
        line = CostLine(dims["workspace_id"], "tokens", model, token_type, tier, call.context_window,
                        str(dims["inference_geo"]), str(dims["speed"]))
        lines[line] = lines.get(line, Decimal(0)) + rate / PER_MILLION * count * factor
    if call.feature.session_seconds:
        usd, _free = service_price("session_usage", day)
        line = CostLine(dims["workspace_id"], "session_usage", model, None, None, None, None, None)
        lines[line] = usd * Decimal(call.feature.session_seconds) / 3600
    return lines


def cost_lines(calls: Iterable[Call], day: date,
               container_hours_before: Callable[[date], Decimal] = lambda day: Decimal(0)) -> dict[CostLine, Decimal]:
    """The day's invoice lines. Code execution: container-hours beyond the month's free hours, where
    ``container_hours_before(day)`` says how many the organisation used earlier in the month."""
    total: dict[CostLine, Decimal] = defaultdict(Decimal)
    hours_by_workspace: dict[str | None, Decimal] = defaultdict(Decimal)
    for call in calls:
        for line, usd in call_cost(call, day).items():
            total[line] += usd
        if call.feature.container_seconds and call.feature.service_tier != "priority":
            hours_by_workspace[call.feature.workspace_id] += Decimal(call.feature.container_seconds) / 3600
    if hours_by_workspace:
        usd, free = service_price("code_execution", day)
        used = container_hours_before(day)
        for workspace, hours in sorted(hours_by_workspace.items(), key=lambda item: item[0] or ""):
            billable = max(Decimal(0), used + hours - max(free, used))
            used += hours
            if billable:
                total[CostLine(workspace, "code_execution", None, None, None, None, None, None)] += usd * billable
    return dict(total)


def container_hours_of(calls: Iterable[Call]) -> Decimal:
    return sum((Decimal(c.feature.container_seconds) / 3600 for c in calls
                if c.feature.container_seconds and c.feature.service_tier != "priority"), Decimal(0))


def cost_results(lines: dict[CostLine, Decimal], group_by: Iterable[str], with_speed: bool) -> list[dict]:
    """The day's cost report results; without ``description`` grouping the detail fields are null; ``speed``
    only with the fast-mode beta header."""
    grouped = set(group_by)
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for line, usd in lines.items():
        ws = line.workspace if "workspace_id" in grouped else None
        if "description" in grouped:
            description = (SERVICE_DESCRIPTIONS[line.cost_type] if line.cost_type != "tokens" else
                           _description(str(line.model), str(line.token_type), str(line.tier),
                                        str(line.context_window), str(line.geo), str(line.speed)))
            detail = (line.cost_type, line.model, line.token_type, line.tier, line.context_window, line.geo,
                      line.speed if with_speed else None)
            sums[(ws, description, *detail)] += usd
        else:
            sums[(ws, None, None, None, None, None, None, None, None)] += usd
    return [
        {"workspace_id": key[0], "description": key[1],
         **{name: value for name, value in zip(COST_DETAIL_FIELDS, key[2:], strict=True)
            if name != "speed" or with_speed},
         "currency": "USD", "amount": cents(usd)}
        for key, usd in sorted(sums.items(), key=lambda item: tuple(v or "" for v in item[0]))
    ]


def days_before(day: date) -> list[date]:
    """The earlier days of ``day``'s month."""
    first = day.replace(day=1)
    return [first + timedelta(days=i) for i in range((day - first).days)]
