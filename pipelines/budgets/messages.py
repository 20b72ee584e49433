"""Budget alerts as messages: which are due, their alert keys, their text and Block Kit layout.

Keys: ``budget:<id>:<period>:<threshold>`` per threshold and ``budget:<id>:<period>:forecast`` for the
projected-to-exceed warning, so each fires once per budget and period and a new period starts clean.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from pipelines.alerts.delivery import Alert
from pipelines.budgets.status import BudgetStatus
from pipelines.money import usd

TENTH = Decimal("0.1")


def _number(value: Decimal) -> str:
    return format(value.normalize(), "f")


def threshold_key(status: BudgetStatus, threshold: Decimal) -> str:
    return f"budget:{status.budget.id}:{status.period.label}:{_number(threshold)}"


def forecast_key(status: BudgetStatus) -> str:
    return f"budget:{status.budget.id}:{status.period.label}:forecast"


def unpriced_key(status: BudgetStatus) -> str:
    return f"budget:{status.budget.id}:{status.period.label}:unpriced"


def candidate_keys(statuses: Iterable[BudgetStatus]) -> list[str]:
    """Every key that could be due now: crossed thresholds and forecasts (to ask the ledger about)."""
    keys = []
    for status in statuses:
        keys += [threshold_key(status, t) for t in status.crossed]
        if status.projected_to_exceed:
            keys.append(forecast_key(status))
        if status.unpriced_units:
            keys.append(unpriced_key(status))
    return keys


def due_alerts(statuses: Iterable[BudgetStatus], sent: set[str], ui_url: str = "") -> list[Alert]:
    """One message per budget and period for the thresholds crossed and not yet sent (naming the highest,
    settling them all), and a forecast warning while the projection, not the spend, is past 100 %."""
    alerts = []
    for status in statuses:
        unsent = [t for t in status.crossed if threshold_key(status, t) not in sent]
        if unsent:
            keys = (threshold_key(status, unsent[-1]), *(threshold_key(status, t) for t in unsent[:-1]))
            alerts.append(_threshold_alert(status, unsent[-1], keys, ui_url))
        if status.projected_to_exceed and forecast_key(status) not in sent:
            alerts.append(_forecast_alert(status, ui_url))
        if status.unpriced_units and unpriced_key(status) not in sent:
            alerts.append(_unpriced_alert(status, ui_url))
    return alerts


def percent(value: Decimal) -> str:
    return f"{value.quantize(TENTH, ROUND_HALF_UP)} %"


def _outlook(status: BudgetStatus) -> str:
    """How the period ends: projected at the run rate while it runs, final once it has ended."""
    if not status.is_current:
        return "final (the period has ended)"
    return f"projected {usd(status.projected_usd)} ({percent(status.projected_percent)}) by period end"


def _threshold_alert(status: BudgetStatus, threshold: Decimal, keys: tuple[str, ...], ui_url: str) -> Alert:
    budget = status.budget
    title = f"Budget {budget.id} at {percent(status.percent)} (crossed {_number(threshold)} %)"
    text = (f"{title} for {status.period.label} ({budget.describe_scope()}): {usd(status.spend_usd)} of "
            f"{usd(budget.amount_usd)} spent; {_outlook(status)}.{_unpriced_note(status)}")
    return Alert(keys, "budget_threshold", budget.id, budget.slack_channel, text,
                 _blocks(status, f":rotating_light: {title}", ui_url))


def _forecast_alert(status: BudgetStatus, ui_url: str) -> Alert:
    budget = status.budget
    title = f"Budget {budget.id} is projected to exceed its amount"
    gone = Decimal(status.period.elapsed_share(status.now) * 100).quantize(Decimal(1))
    text = (f"{title} for {status.period.label} ({budget.describe_scope()}): {usd(status.spend_usd)} of "
            f"{usd(budget.amount_usd)} spent ({percent(status.percent)}) with {gone} % of the period gone; "
            f"projected {usd(status.projected_usd)} ({percent(status.projected_percent)}) by period end.")
    return Alert((forecast_key(status),), "budget_forecast", budget.id, budget.slack_channel, text,
                 _blocks(status, f":chart_with_upwards_trend: {title}", ui_url))


def _unpriced_alert(status: BudgetStatus, ui_url: str) -> Alert:
    budget = status.budget
    title = f"Budget {budget.id} has usage without a price"
    text = (f"{title} for {status.period.label} ({budget.describe_scope()}): {status.unpriced_units:,} tokens or "
            f"requests of a model the price list does not know and no cost report has priced yet are not in its "
            f"{usd(status.spend_usd)} of {usd(budget.amount_usd)}; they are counted once the cost report prices "
            f"them (or a price is added to LEDGER_CONFIG prices:).")
    return Alert((unpriced_key(status),), "budget_unpriced", budget.id, budget.slack_channel, text,
                 _blocks(status, f":grey_question: {title}", ui_url))


def _unpriced_note(status: BudgetStatus) -> str:
    return (f" Not counted: {status.unpriced_units:,} tokens or requests without a price yet."
            if status.unpriced_units else "")


def _blocks(status: BudgetStatus, title: str, ui_url: str) -> tuple[dict[str, Any], ...]:
    budget = status.budget
    fields = [
        ("Budget", f"`{budget.id}`"),
        ("Scope", budget.describe_scope()),
        ("Period", f"{status.period.label} ({budget.period}, UTC)"),
        ("Spend", f"{usd(status.spend_usd)} of {usd(budget.amount_usd)}"),
        ("Percent", percent(status.percent)),
        ("Projected period end", f"{usd(status.projected_usd)} ({percent(status.projected_percent)})")
        if status.is_current else ("Period end", f"{usd(status.spend_usd)} (final)"),
    ]
    if status.unpriced_units:
        fields.append(("Unpriced usage", f"{status.unpriced_units:,} tokens / requests, not in the spend"))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title[:150], "emoji": True}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in fields]},
    ]
    thresholds = " / ".join(_number(t) for t in budget.thresholds)
    through = f"{status.data_until:%Y-%m-%d %H:%M} UTC" if status.data_until else "no data yet"
    blocks.append({"type": "context", "elements": [
        {"type": "mrkdwn", "text": f"Spend through {through} · thresholds {thresholds} %"}]})
    if ui_url:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": "Open budget_status in Dagster"},
            "url": f"{ui_url.rstrip('/')}/assets/budget_status",
        }]})
    return tuple(blocks)
