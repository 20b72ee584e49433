"""The Admin API's reports computed from individual calls: what the simulator serves.

Usage results sum each call's tokens into its group; cost results price them at list price
(``pipelines/pricing``: per model, day and context window, times the service-tier multiplier) and
give the amount in cents as a decimal string, like the real cost report. Priority-tier usage is not
in the cost report (as documented for the real API).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal

from demo.organisation import Call
from pipelines.pricing.list_prices import PER_MILLION, Price, price_table, tier_rows

USAGE_DIMENSIONS = ("api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo")
COST_DIMENSIONS = ("workspace_id", "description")
COST_DETAIL_FIELDS = ("cost_type", "model", "token_type", "service_tier", "context_window")
# Cost report token_type -> (price column in model_prices.csv, description label)
TOKEN_TYPES = {
    "uncached_input_tokens": ("input", "Input Tokens"),
    "cache_read_input_tokens": ("cache_read", "Input Tokens, Cache Hit"),
    "cache_creation.ephemeral_5m_input_tokens": ("cache_write_5m", "Input Tokens, 5m Cache Write"),
    "cache_creation.ephemeral_1h_input_tokens": ("cache_write_1h", "Input Tokens, 1h Cache Write"),
    "output_tokens": ("output", "Output Tokens"),
}


def _family_of(model: str, families: set[str]) -> str | None:
    """Anthropic's billing as the simulator plays it: a dated id (``-YYYYMMDD``) bills as its model."""
    if model in families:
        return model
    match = re.fullmatch(r"(.+)-\d{8}", model)
    return match.group(1) if match and match.group(1) in families else None


def list_price(model: str, day: date, context_window: str = "0-200k") -> Price | None:
    """The list price the simulated invoice uses for ``model`` on ``day`` (from the bundled price file)."""
    table = price_table()
    family = _family_of(model, {p.model for p in table})
    candidates = [p for p in table
                  if p.model == family and p.context_window == context_window and p.effective_from <= day]
    return max(candidates, key=lambda p: p.effective_from, default=None)


def tier_multipliers() -> dict[str, Decimal]:
    """The latest multiplier per service tier."""
    return {tier: multiplier for tier, _, multiplier in sorted(tier_rows(), key=lambda r: r[1])}


def dimensions_of(call: Call) -> dict[str, str | None]:
    feature = call.feature
    return {"api_key_id": feature.api_key_id, "workspace_id": feature.workspace_id, "model": feature.model,
            "service_tier": feature.service_tier, "context_window": call.context_window, "inference_geo": "global"}


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


def _description(model: str, token_type: str, tier: str, context_window: str) -> str:
    text = f"{model_display_name(model)} Usage - {TOKEN_TYPES[token_type][1]}"
    if tier != "standard":
        text += f" ({tier.capitalize()})"
    if context_window != "0-200k":
        text += " (Long Context)"
    return text


def cents(usd: Decimal) -> str:
    """A USD amount as the report's decimal string in cents, exact (no float, no rounding)."""
    return format(usd.scaleb(2).normalize(), "f")


def cost_lines(calls: Iterable[Call], day: date) -> dict[tuple, Decimal]:
    """(workspace, cost_type, model, token_type, tier, context window) -> USD for the day's calls."""
    quantities: dict[tuple, int] = defaultdict(int)
    for call in calls:
        dims = dimensions_of(call)
        if dims["service_tier"] == "priority":
            continue
        for token_type, count in tokens_of(call).items():
            if not count:
                continue
            if token_type == "web_search_requests":
                key = (dims["workspace_id"], "web_search", dims["model"], None, None, None)
            else:
                key = (dims["workspace_id"], "tokens", dims["model"], token_type, dims["service_tier"],
                       dims["context_window"])
            quantities[key] += count
    lines: dict[tuple, Decimal] = {}
    multipliers = tier_multipliers()
    for key, count in quantities.items():
        workspace, cost_type, model, token_type, tier, context_window = key
        price = list_price(model, day, context_window or "0-200k")
        if price is None:
            raise ValueError(f"the simulator has no list price for {model} ({context_window}) on {day}")
        if cost_type == "web_search":
            lines[(workspace, cost_type, None, None, None, None)] = (
                lines.get((workspace, cost_type, None, None, None, None), Decimal(0))
                + price.web_search_per_request * count)
        else:
            usd_per_token = price.usd_per_mtok[TOKEN_TYPES[token_type][0]] / PER_MILLION
            lines[key] = usd_per_token * count * multipliers[tier]
    return lines


def cost_results(calls: Iterable[Call], day: date, group_by: Iterable[str]) -> list[dict]:
    """The day's cost report results; without ``description`` grouping the detail fields are null."""
    grouped = set(group_by)
    sums: dict[tuple, Decimal] = defaultdict(Decimal)
    for (workspace, cost_type, model, token_type, tier, context_window), usd in cost_lines(calls, day).items():
        ws = workspace if "workspace_id" in grouped else None
        if "description" in grouped:
            description = ("Web Search Usage" if cost_type == "web_search"
                           else _description(model, token_type, tier, context_window))
            sums[(ws, description, cost_type, model, token_type, tier, context_window)] += usd
        else:
            sums[(ws, None, None, None, None, None, None)] += usd
    return [
        {"workspace_id": key[0], "description": key[1],
         **dict(zip(COST_DETAIL_FIELDS, key[2:], strict=True)),
         "currency": "USD", "amount": cents(usd)}
        for key, usd in sorted(sums.items(), key=lambda item: tuple(v or "" for v in item[0]))
    ]
