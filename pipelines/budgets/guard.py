"""The pipeline side of the call-time budget guard (pipelines.emitter.guard, docs/emitter.md "Budget guard").

Every tick the ``budget_guard_publish`` sensor publishes the block / downgrade budgets of LEDGER_CONFIG and
each one's authoritative spend in its current period, from the spend rollup: the hours before ``recent_from``
as the period's base, the later ones hour by hour (the guard counts the larger of the rollup and its own
settlements per hour, so the rollup catching up never counts a call twice, and a tick resets any drift).
Every ``PRICES_EVERY`` (and as soon as a guard asks for a model it has no price of), it publishes the unit
prices the guard needs, computed in ClickHouse by one query (sql/guard_unit_prices.sql).

Where: Redis when ``LEDGER_REDIS_URL`` is set (the documents as keys, each period's counters through the
PUBLISH script of pipelines.emitter.guard_state), and always as files in the landing zone's
``.budget-guard/`` (what a guard without Redis reads, on the same host).
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from clickhouse_connect.driver.client import Client
from dagster import DefaultSensorStatus, SensorEvaluationContext, SkipReason, sensor

from pipelines.alerts.clock import Clock
from pipelines.budgets.guard_resource import GuardRedis
from pipelines.budgets.model import Budget, BudgetsConfig
from pipelines.emitter.guard_state import (
    BUDGETS_FILE,
    BUDGETS_KEY,
    COUNTERS_FILE,
    DOCUMENT_TTL_S,
    PRICES_FILE,
    PRICES_KEY,
    PUBLISH,
    WANTED_KEY,
    BudgetsDocument,
    GuardBudget,
    PeriodSpend,
    PriceRow,
    PricesDocument,
    expire_at,
    holds_key,
    hour_of,
    period_end,
    period_start,
    scope_covers,
    spend_key,
    state_dir,
    to_micros,
)
from pipelines.events.landing_zone_resource import LandingZone
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

RECENT_HOURS = 3  # the rollup's last hours, published hour by hour (events still arriving, allocation pending)
PRICES_EVERY = timedelta(minutes=10)
MODELS_SEEN_FOR = timedelta(days=7)  # model ids used this recently get prices of their own
_PRICE_COLUMNS = {"model", "context_window", "from_prompt_tokens", "token_type", "usd_per_unit"}


def guarded(budgets: list[Budget]) -> tuple[GuardBudget, ...]:
    """The budgets the guard acts on (``alert`` budgets are Slack's only)."""
    return tuple(GuardBudget(b.id, b.scope, b.target, b.env, b.period, b.amount_usd, b.policy, b.downgrade,
                             b.on_redis_error) for b in budgets if b.policy != "alert")


def recent_from(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=RECENT_HOURS)


def period_spend(client: Client, budgets: tuple[GuardBudget, ...], now: datetime) -> dict[str, PeriodSpend]:
    """Each guarded budget's current period from the rollup: base before ``recent_from``, then per hour."""
    if not budgets:
        return {}
    recent = recent_from(now)
    since = min(period_start(b.period, now) for b in budgets)
    rows = client.query(sql("guard_spend_since"), parameters={"since": since, "recent_from": recent}).result_rows
    published = {}
    for budget in budgets:
        start = period_start(budget.period, now)
        end = period_end(budget.period, start)
        base, hours = Decimal(0), dict[int, Decimal]()
        for bucket, hourly, team, feature, env, workspace_id, api_key_id, spend in rows:
            bucket = bucket.replace(tzinfo=start.tzinfo)
            if not start <= bucket < end or not scope_covers(
                    budget.scope, budget.target, budget.env, team=team, feature=feature, env=env,
                    workspace_id=workspace_id, api_key_id=api_key_id):
                continue
            if hourly:
                hours[hour_of(bucket)] = hours.get(hour_of(bucket), Decimal(0)) + spend
            else:
                base += spend
        published[spend_key(budget.id, budget.period, start)] = PeriodSpend(
            hour_of(max(recent, start)), to_micros(base), {h: to_micros(v) for h, v in sorted(hours.items())})
    return published


def read_prices(client: Client, now: datetime, models: list[str]) -> PricesDocument:
    """The guard's price rows per model id (sql/guard_unit_prices.sql)."""
    result = client.query(sql("guard_unit_prices"), parameters={
        "today": now.date(), "seen_since": now - MODELS_SEEN_FOR, "models": sorted(set(models))})
    names = result.column_names
    dimensions = [n for n in names if n not in _PRICE_COLUMNS]
    cells: dict[tuple[Any, ...], dict[str, Decimal]] = {}
    for values in result.result_rows:
        row = dict(zip(names, values, strict=True))
        key = (row["model"], row["context_window"], row["from_prompt_tokens"], *(row[d] for d in dimensions))
        cells.setdefault(key, {})[row["token_type"]] = row["usd_per_unit"]
    prices: dict[str, list[PriceRow]] = {}
    for (model, window, from_tokens, *values), unit_prices in cells.items():
        prices.setdefault(model, []).append(PriceRow(window, int(from_tokens), dict(zip(dimensions, values,
                                                                                       strict=True)), unit_prices))
    return PricesDocument(now, {m: tuple(rows) for m, rows in prices.items()})


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` whole (a reader sees the old or the new document, never a part; survives SIGKILL)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def publish_files(directory: Path, budgets: BudgetsDocument, prices: PricesDocument | None) -> None:
    write_atomically(directory / BUDGETS_FILE, budgets.to_json())
    if prices is not None:
        write_atomically(directory / PRICES_FILE, prices.to_json())


def publish_redis(redis_client: Any, budgets: BudgetsDocument, prices: PricesDocument | None,
                  now: datetime) -> None:
    """Each period's counters (PUBLISH script: atomic per period), then the documents."""
    script = redis_client.register_script(PUBLISH)
    by_key = {spend_key(b.id, b.period, period_start(b.period, now)): b for b in budgets.budgets}
    for key, spend in budgets.spend.items():
        budget = by_key[key]
        pairs = [v for hour, micros in sorted(spend.hours.items()) for v in (hour, micros)]
        script(keys=[key, holds_key(key)], args=[int(now.timestamp() * 1000), spend.from_hour, spend.base,
                                                  expire_at(budget.period, period_start(budget.period, now)),
                                                  *pairs])
    redis_client.set(BUDGETS_KEY, budgets.to_json(), ex=DOCUMENT_TTL_S)
    if prices is not None:
        redis_client.set(PRICES_KEY, prices.to_json(), ex=DOCUMENT_TTL_S)


def wanted_models(redis_client: Any, directory: Path) -> set[str]:
    """Model ids guards met without a price (Redis set, and the one-host counter file)."""
    wanted = {m.decode() for m in redis_client.smembers(WANTED_KEY)} if redis_client is not None else set()
    counters = directory / COUNTERS_FILE
    if counters.exists():  # made by a guard, with its tables
        with closing(sqlite3.connect(counters, timeout=30)) as db:
            wanted |= {m for (m,) in db.execute("SELECT model FROM wanted")}
    return wanted


def guard_actions(client: Client, since: datetime) -> dict[tuple[str, Any], tuple[int, int]]:
    """(blocked, downgraded) calls per (budget id, day) from ``since`` on, from the usage events."""
    return {(budget_id, day): (blocked, downgraded) for budget_id, day, blocked, downgraded in
            client.query(sql("guard_actions_since"), parameters={"since": since}).result_rows}


@dataclass(frozen=True)
class Published:
    budgets: int
    periods: int
    prices: int | None  # models priced in this publication; None: prices not refreshed this time
    destinations: tuple[str, ...]
    cursor: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> str:
        if not self.budgets:
            return "no block / downgrade budgets in LEDGER_CONFIG: published that nothing is guarded"
        prices = f", prices of {self.prices} models" if self.prices is not None else ""
        return (f"published {self.budgets} guarded budgets ({self.periods} current periods){prices} "
                f"to {' and '.join(self.destinations)}")


def publish_guard_state(ch: ClickHouseResource, redis_client: Any, directory: Path, budgets: list[Budget],
                        now: datetime, cursor: dict[str, Any]) -> Published:
    """One tick: spend every time, prices when due (cursor: when last priced and which asked-for ids)."""
    guard_budgets = guarded(budgets)
    wanted = wanted_models(redis_client, directory) if guard_budgets else set()
    priced_at = cursor.get("prices_at")
    due = bool(guard_budgets) and (priced_at is None or now - datetime.fromisoformat(priced_at) >= PRICES_EVERY
                                   or not wanted <= set(cursor.get("wanted", [])))
    with ch.connect() as client:
        document = BudgetsDocument(now, guard_budgets, period_spend(client, guard_budgets, now))
        extra = [m for b in guard_budgets for m in b.downgrade] + sorted(wanted)
        prices = read_prices(client, now, extra) if due else None
    publish_files(directory, document, prices)
    if redis_client is not None:
        publish_redis(redis_client, document, prices, now)
    next_cursor = {"prices_at": now.isoformat(), "wanted": sorted(wanted)} if prices is not None else cursor
    return Published(len(guard_budgets), len(document.spend), len(prices.prices) if prices is not None else None,
                     ("files", "redis") if redis_client is not None else ("files",), next_cursor)


@sensor(
    minimum_interval_seconds=60,
    default_status=DefaultSensorStatus.RUNNING,
    description="Publishes the block / downgrade budgets, their current spend from the spend rollup and the "
    "unit prices to the emitter's call-time budget guard: Redis (LEDGER_REDIS_URL) and files in the landing zone.",
)
def budget_guard_publish(context: SensorEvaluationContext, clickhouse: ClickHouseResource, clock: Clock,
                         ledger_config: LedgerConfig, landing_zone: LandingZone, guard_redis: GuardRedis):
    cursor = json.loads(context.cursor) if context.cursor else {}
    published = publish_guard_state(clickhouse, guard_redis.client(), state_dir(landing_zone.path),
                                    ledger_config.section(BudgetsConfig).budgets, clock.now(), cursor)
    context.update_cursor(json.dumps(published.cursor))
    return SkipReason(published.summary())
