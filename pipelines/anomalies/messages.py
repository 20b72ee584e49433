"""Anomaly alerts as messages: which are due, their keys, their text and Block Kit layout (docs/anomalies.md).

Keys: ``anomaly:spend:<day>:<scope>:<target>`` with ``anomaly:spend:<day>:cell:<cell>`` (one message per
incident: the same rising cell is not alerted again at another scope that day), and
``anomaly:<kind>:<day>:feature:<team>/<feature>`` for a cache break. Each fires once per scope, day and kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pipelines.alerts.delivery import Alert
from pipelines.anomalies.cache import WHAT, CacheBreak
from pipelines.anomalies.spend import NAMING_FIRST, Contributor, Incident, SpendAnomaly
from pipelines.money import signed_usd, usd

SCOPE_NAMES = {"workspace": "workspace", "team": "team", "feature": "feature", "api_key": "api key", "model": "model"}
SHOWN_CONTRIBUTORS = 3


def candidate_keys(incidents: Iterable[Incident], breaks: Iterable[CacheBreak]) -> list[str]:
    """Every key that could be due (to ask the ledger about)."""
    return [key for incident in incidents for key in incident.keys] + [b.key for b in breaks]


def due_alerts(incidents: Iterable[Incident], breaks: Iterable[CacheBreak], settled: set[str], channel: str,
               ui_url: str = "") -> list[Alert]:
    """A message per incident whose scope and cell were not alerted yet that day, and per new cache break."""
    alerts = [_spend_alert(i.reported, channel, ui_url) for i in incidents if not set(i.keys) & settled]
    return alerts + [_cache_alert(b, channel, ui_url) for b in breaks if b.key not in settled]


def value_label(dimension: str, value: str) -> str:
    if value:
        return value
    return "(console)" if dimension == "api_key" else "(default)" if dimension == "workspace" else "(none)"


def describe_scope(scope: str, target: str) -> str:
    return "the organisation" if scope == "org" else f"{SCOPE_NAMES[scope]} {value_label(scope, target)}"


def describe_window(a: SpendAnomaly) -> str:
    hours = f"{a.window_start:%H:%M}-{a.window_end:%H:%M} UTC"
    if a.window == "hours":
        return f"in the last {(a.window_end - a.window_start) // timedelta(hours=1)} hours ({a.day}, {hours})"
    if a.window_end - a.window_start == timedelta(days=1):
        return f"on {a.day} (the whole day)"
    return f"on {a.day} so far (00:00-{a.window_end:%H:%M} UTC)"


def describe_baseline(a: SpendAnomaly) -> str:
    return f"the same hours of the {a.baseline_weeks} previous {a.window_start:%A}s"


def describe_contributor(c: Contributor) -> str:
    return (f"{SCOPE_NAMES[c.dimension]} {value_label(c.dimension, c.value)} {signed_usd(c.increase_usd)} "
            f"({usd(c.actual_usd)} vs {usd(c.expected_usd)})")


def shown_contributors(a: SpendAnomaly) -> list[Contributor]:
    """What moved, as a reader asks it: the feature, the api key and the model that rose most (the next
    dimensions, team and workspace, for a scope that is one of those)."""
    tops = [a.top(dimension) for dimension in NAMING_FIRST]
    return [c for c in tops if c is not None][:SHOWN_CONTRIBUTORS]


def _spend_alert(a: SpendAnomaly, channel: str, ui_url: str) -> Alert:
    scope = describe_scope(a.scope, a.target)
    title = f"Spend anomaly: {scope}"
    moved = shown_contributors(a)
    text = (f"{title} spent {usd(a.actual_usd)} {describe_window(a)}, expected {usd(a.low_usd)}-{usd(a.high_usd)} "
            f"(median {usd(a.expected_usd)} of {describe_baseline(a)}; score {a.score:.1f})."
            + (f" Top contributors: {'; '.join(describe_contributor(c) for c in moved)}." if moved else ""))
    fields = [
        ("Scope", scope),
        ("When", describe_window(a)),
        ("Spend", usd(a.actual_usd)),
        ("Expected", f"{usd(a.low_usd)}-{usd(a.high_usd)} (median {usd(a.expected_usd)})"),
        ("Score", f"{a.score:.1f} spreads above the median"),
        ("Top contributor", describe_contributor(moved[0]) if moved else "-"),
    ]
    context = f"Baseline: {describe_baseline(a)} · alerted once per scope and day"
    return Alert((a.key, a.cell_key), "spend_anomaly", f"{a.scope}:{a.target}", channel, text,
                 _blocks(f":chart_with_upwards_trend: {title}", fields, context, ui_url, "spend_anomalies"))


def _cache_alert(b: CacheBreak, channel: str, ui_url: str) -> Alert:
    title = f"Cache break: {b.target}"
    verb = "fell" if b.kind == "cache_hit_drop" else "rose"
    where = ", ".join(f"{model} {usd(lost)}" for model, lost in b.models)
    text = (f"{title}: its {WHAT[b.kind]} {verb} to {b.actual_ratio:.1%} on {b.day} (usually {b.expected_ratio:.1%}, "
            f"the median of the {b.baseline_weeks} previous {b.day:%A}s): {usd(b.lost_usd)} lost that day."
            + (f" Where: {where}." if where else ""))
    fields = [
        ("Feature", f"`{b.target}`"),
        ("Day", f"{b.day} (UTC)"),
        (WHAT[b.kind].capitalize(), f"{b.actual_ratio:.1%} (usually {b.expected_ratio:.1%})"),
        ("Lost that day", usd(b.lost_usd)),
        ("Tokens", f"{b.tokens:,} {'input' if b.kind == 'cache_hit_drop' else 'cache-write'} tokens"),
        ("Models", where or "-"),
    ]
    context = f"Baseline: the {b.baseline_weeks} previous {b.day:%A}s · from the cache rollups (docs/cache.md)"
    return Alert((b.key,), b.kind, b.target, channel, text,
                 _blocks(f":warning: {title}", fields, context, ui_url, "cache_breaks"))


def _blocks(title: str, fields: list[tuple[str, str]], context: str, ui_url: str,
            asset: str) -> tuple[dict[str, Any], ...]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": context}]},
    ]
    if ui_url:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": f"Open {asset} in Dagster"},
            "url": f"{ui_url.rstrip('/')}/assets/{asset}",
        }]})
    return tuple(blocks)
