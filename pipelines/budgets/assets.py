"""Dagster side of budgets: the ``spend_hourly`` rollup and ``budget_status`` assets, and the
``budget_alerts`` sensor that sends each threshold crossing to Slack exactly once."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AutomationCondition,
    DefaultSensorStatus,
    MaterializeResult,
    MetadataValue,
    SensorEvaluationContext,
    SkipReason,
    asset,
    sensor,
)

from pipelines.alerts.clock import Clock
from pipelines.alerts.delivery import AlertLedger, DeliveryReport, deliver
from pipelines.alerts.slack import SlackResource
from pipelines.budgets.guard import guard_actions
from pipelines.budgets.messages import candidate_keys, due_alerts, percent
from pipelines.budgets.model import Budget, BudgetsConfig
from pipelines.budgets.spend import refresh_spend_rollup
from pipelines.budgets.status import BudgetStatus, budget_statuses, read_budget_statuses
from pipelines.ledger_config import LedgerConfig
from pipelines.metadata import markdown_table
from pipelines.money import usd
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.rebuild import rebuilt

STATUS_COLUMNS = ["budget_id", "period", "period_start", "period_end", "scope", "target", "env", "amount_usd",
                  "spend_usd", "percent", "thresholds_crossed", "projected_usd", "projected_p10_usd",
                  "projected_p90_usd", "projected_percent", "forecast_method", "data_until", "unpriced_units",
                  "computed_at", "guard_blocked", "guard_downgraded"]

# After any upstream update (an ingest, an allocation of any month, new prices), once it has finished.
# Not AutomationCondition.eager(): months never allocated (missing partitions) must not block it.
_AFTER_UPSTREAM = (
    (AutomationCondition.newly_missing() | AutomationCondition.any_deps_updated()).since_last_handled()
    & ~AutomationCondition.any_deps_in_progress()
    & ~AutomationCondition.in_progress()
)


@asset(
    group_name="budgets",
    kinds={"clickhouse"},
    deps=[AssetKey("usage_events"), AssetKey("allocation"), AssetKey("unit_prices")],
    automation_condition=_AFTER_UPSTREAM,
    description="Hourly spend per team / feature / env / workspace / api key / model family, rebuilt from the "
    "earliest hour that changed since the last refresh (never before the start of the previous month): allocated "
    "Admin-API cost where the allocation covers the hour, priced usage events after that. "
    "What budget ticks read instead of raw events.",
)
def spend_hourly(context: AssetExecutionContext, clickhouse: ClickHouseResource, clock: Clock) -> MaterializeResult:
    refresh = refresh_spend_rollup(clickhouse, clock.now())
    until = refresh.admin_priced_until
    context.log.info("spend rollup rebuilt from %s: %d rows, %s; Admin-API-priced until %s",
                     refresh.refreshed_from or "nowhere (nothing changed)", refresh.rows, usd(refresh.spend_usd),
                     until or "never (no allocation)")
    return MaterializeResult(metadata={
        "refreshed_from": str(refresh.refreshed_from) if refresh.refreshed_from else "nothing changed",
        "admin_priced_until": str(until) if until else "no allocation yet: all hours event-priced",
        "rows": refresh.rows,
        "spend_usd": usd(refresh.spend_usd),
        "unpriced_units": refresh.unpriced_units,
    })


def _status_row(status: BudgetStatus, computed_at: datetime, guarded: tuple[int, int]) -> list[object]:
    budget = status.budget
    forecast = status.forecast
    return [budget.id, status.period.label, status.period.start, status.period.end, budget.scope,
            budget.target or "", budget.env or "", budget.amount_usd, status.spend_usd, status.percent,
            list(status.crossed), status.projected_usd, forecast.p10_usd, forecast.p90_usd, status.projected_percent,
            forecast.method, status.data_until, status.unpriced_units, computed_at, *guarded]


def _guarded(status: BudgetStatus, actions: dict[tuple[str, Any], tuple[int, int]]) -> tuple[int, int]:
    """Calls of the period the call-time guard refused / downgraded for this budget."""
    days = [counts for (budget_id, day), counts in actions.items()
            if budget_id == status.budget.id and status.period.start.date() <= day < status.period.end.date()]
    return sum(b for b, _ in days), sum(d for _, d in days)


def _projection(status: BudgetStatus) -> str:
    """p50 (percent), with the p10 - p90 interval when the forecast has one."""
    forecast = status.forecast
    interval = f", p10-p90 {usd(forecast.p10_usd)}-{usd(forecast.p90_usd)}" if forecast.method == "seasonal" else ""
    return f"{usd(status.projected_usd)} ({percent(status.projected_percent)}{interval})"


@asset(
    group_name="budgets",
    kinds={"clickhouse"},
    deps=[AssetKey("spend_hourly")],
    automation_condition=AutomationCondition.eager(),
    description="Each budget in LEDGER_CONFIG for its current period (and the previous one shortly after it "
    "ended): spend, percent, thresholds crossed, projected period-end spend (p50, with p10 / p90: weekday-seasonal "
    "forecast from four weeks of history, the run rate without two weeks of it; docs/forecast.md).",
)
def budget_status(context: AssetExecutionContext, clickhouse: ClickHouseResource, clock: Clock,
                  ledger_config: LedgerConfig) -> MaterializeResult:
    now = clock.now()
    statuses = budget_statuses(clickhouse, ledger_config.section(BudgetsConfig).budgets, now)
    with clickhouse.connect() as client:
        actions = guard_actions(client, min((s.period.start for s in statuses), default=now))
        guarded = [_guarded(s, actions) for s in statuses]
        with rebuilt(client, "budget_status") as build:  # swapped in whole: the alert sensor reads it meanwhile
            if statuses:
                client.insert(build, [_status_row(s, now, g) for s, g in zip(statuses, guarded, strict=True)],
                              column_names=STATUS_COLUMNS)
    context.log.info("%d budget periods evaluated", len(statuses))
    table = markdown_table(
        ["budget", "period", "scope", "spend", "amount", "percent", "crossed", "period end", "unpriced usage",
         "guard blocked / downgraded"],
        [(s.budget.id, s.period.label, s.budget.describe_scope(), usd(s.spend_usd), usd(s.budget.amount_usd),
          percent(s.percent), " / ".join(format(t.normalize(), "f") for t in s.crossed) or "-",
          f"projected {_projection(s)}" if s.is_current else "final",
          f"{s.unpriced_units:,}" if s.unpriced_units else "-", f"{g[0]:,} / {g[1]:,}")
         for s, g in zip(statuses, guarded, strict=True)],
    )
    return MaterializeResult(metadata={
        "budgets": len({s.budget.id for s in statuses}),
        "over_budget": sum(1 for s in statuses if s.percent >= 100),
        "projected_over_budget": sum(1 for s in statuses if s.projected_to_exceed),
        "guard_blocked": sum(b for b, _ in guarded),
        "guard_downgraded": sum(d for _, d in guarded),
        "data_until": str(statuses[0].data_until) if statuses and statuses[0].data_until else "no data",
        "status": MetadataValue.md(table if statuses else "no budgets configured"),
    })


@dataclass(frozen=True)
class BudgetCheck:
    budgets: int
    budget_periods: int
    report: DeliveryReport

    def summary(self) -> str:
        return f"{self.budgets} budgets, {self.budget_periods} budget periods checked; alerts: {self.report.summary()}"


def check_budgets(
    clickhouse: ClickHouseResource, slack: SlackResource, budgets: list[Budget], now: datetime, log: Any,
    retry_not_before: datetime | None = None,
) -> BudgetCheck:
    """One round of budget alerting: statuses from the rollup, due alerts, delivery (what a tick does)."""
    if not budgets:
        return BudgetCheck(0, 0, DeliveryReport())
    ledger = AlertLedger(clickhouse)
    with clickhouse.connect() as client:  # one short session for both reads; none is held while sending
        statuses = read_budget_statuses(client, budgets, now)
        settled = ledger.sent(candidate_keys(statuses), client)
    alerts = due_alerts(statuses, settled, slack.dagster_ui_url)
    report = deliver(alerts, ledger, slack.sender(log), now, retry_not_before, log, settled)
    return BudgetCheck(len(budgets), len(statuses), report)


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Sends each budget threshold crossing (and a projected-to-exceed warning) to Slack exactly once; "
    "alerts_sent in ClickHouse is the record, so a restart or a reset cursor sends nothing twice.",
)
def budget_alerts(
    context: SensorEvaluationContext, clickhouse: ClickHouseResource, slack: SlackResource, clock: Clock,
    ledger_config: LedgerConfig,
):
    # The cursor only remembers a 429's Retry-After; what was sent lives in alerts_sent.
    waiting = json.loads(context.cursor).get("retry_not_before") if context.cursor else None
    check = check_budgets(clickhouse, slack, ledger_config.section(BudgetsConfig).budgets, clock.now(), context.log,
                          datetime.fromisoformat(waiting) if waiting else None)
    retry = check.report.retry_not_before
    context.update_cursor(json.dumps({"retry_not_before": retry.isoformat() if retry else None}))
    check.report.raise_for_rejected()
    return SkipReason(check.summary() if check.budgets else "no budgets configured in LEDGER_CONFIG")
