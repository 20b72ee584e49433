"""Rate-limit breaches as alert messages: text fallback and Block Kit, in the budget alerts' style.

One message per ``Breach``, keyed by ``Breach.key`` (hour, model, api key, kind), so each cell and line is
alerted once; a breach that persists into the next hour is a new cell and alerts again. The same holds for a
configured-limit breach (``LimitUsage.key``: hour, workspace or api key, model group, limiter type).
"""

from __future__ import annotations

from typing import Any

from pipelines.alerts.delivery import Alert
from pipelines.reliability.health import Breach, HealthLines, LimitUsage

WHAT = {
    "rate_limited_share": "429 rate",
    "requests_headroom": "request headroom",
    "tokens_headroom": "token headroom",
}
LIMITERS = {
    "requests_per_minute": "requests per minute",
    "input_tokens_per_minute": "input tokens per minute",
    "output_tokens_per_minute": "output tokens per minute",
}


def share(value: float) -> str:
    return f"{value * 100:.1f} %"


def key_label(api_key_id: str) -> str:
    return api_key_id or "(console)"


def breach_alert(breach: Breach, channel: str, lines: HealthLines, ui_url: str = "") -> Alert:
    hour = f"{breach.hour:%Y-%m-%d %H:00} UTC"
    if breach.kind == "rate_limited_share":
        title = f"429 rate of {share(breach.value)} on {breach.model}"
        text = (f"{title}: {breach.rate_limited:,} of {breach.requests:,} calls with api key "
                f"{key_label(breach.api_key_id)} were rate-limited in the hour {hour} (line: {share(breach.line)}).")
        icon = ":rotating_light:"
    else:
        title = f"{WHAT[breach.kind].capitalize()} down to {share(breach.value)} on {breach.model}"
        text = (f"{title} with api key {key_label(breach.api_key_id)} in the hour {hour}: the least remaining / "
                f"limit seen (line: {share(breach.line)}; {breach.rate_limited:,} of {breach.requests:,} calls "
                f"rate-limited).")
        icon = ":warning:"
    return Alert((breach.key,), f"rate_limit_{breach.kind}", f"{breach.model} / {key_label(breach.api_key_id)}",
                 channel, text, _blocks(breach, f"{icon} {title}", lines, ui_url))


def _blocks(breach: Breach, title: str, lines: HealthLines, ui_url: str) -> tuple[dict[str, Any], ...]:
    fields = [
        ("Model", f"`{breach.model}`"),
        ("API key", f"`{key_label(breach.api_key_id)}`"),
        ("Hour", f"{breach.hour:%Y-%m-%d %H:00} UTC"),
        ("Calls", f"{breach.requests:,} ({breach.rate_limited:,} rate-limited)"),
        (WHAT[breach.kind].capitalize(), share(breach.value)),
        ("Line", share(breach.line)),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"Lines: 429 rate above {share(lines.max_rate_limited_share)} in hours of at least "
            f"{lines.min_requests:,} calls · headroom (remaining / limit) below {share(lines.min_headroom)}")}]},
    ]
    if ui_url:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open rate_limit_health in Dagster"},
            "url": f"{ui_url.rstrip('/')}/assets/rate_limit_health",
        }]})
    return tuple(blocks)


def limit_breach_alert(usage: LimitUsage, channel: str, line: float, ui_url: str = "") -> Alert:
    """A workspace or API key whose busiest minute of an hour used more than ``line`` of its configured limit."""
    limiter = LIMITERS.get(usage.limit_type, usage.limit_type)
    group = usage.group_name or usage.group_id
    who = "workspace" if usage.subject == "workspace" else "api key"
    title = f"{share(usage.share)} of the configured {limiter} limit on {group}"
    text = (f"{title}: {who} {usage.label} used {usage.peak_per_minute:,} of {usage.limit_value:,} "
            f"{limiter} at {usage.peak_minute:%Y-%m-%d %H:%M} UTC (line: {share(line)}).")
    fields = [
        ("Model group", group),
        ("Workspace / API key", f"`{usage.label}`"),
        ("Minute", f"{usage.peak_minute:%Y-%m-%d %H:%M} UTC"),
        (limiter.capitalize(), f"{usage.peak_per_minute:,} of {usage.limit_value:,}"
                               f"{' (inherited from the organisation)' if usage.inherited else ''}"),
        ("Share", share(usage.share)),
        ("Line", share(line)),
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": f":warning: {title}"[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": (
            f"Line: the busiest minute above {share(line)} of the limit configured in the Rate Limits API "
            "(rate_limits.configured_limit_alert_share)")}]},
    ]
    if ui_url:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open rate_limit_health in Dagster"},
            "url": f"{ui_url.rstrip('/')}/assets/rate_limit_health",
        }]})
    return Alert((usage.key,), "rate_limit_configured_limit", f"{usage.label} / {group}", channel, text,
                 tuple(blocks))
