"""Helpers for budget-guard tests: prices and budgets published as the pipeline publishes them (through
pipelines.budgets.guard), the guard's counters read back from Redis, instrumented clients, events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import anthropic

from pipelines.budgets.guard import publish_files, publish_redis
from pipelines.emitter import BudgetGuard, JsonlFileSink, instrument
from pipelines.emitter.guard_state import (
    BudgetsDocument,
    GuardBudget,
    PeriodSpend,
    PriceRow,
    PricesDocument,
    holds_key,
    period_start,
    spend_key,
)

OPUS, SONNET, HAIKU = "claude-opus-4-6", "claude-sonnet-4-6", "claude-haiku-4-5"
PER_MTOK = Decimal("0.000001")


def row(input: str, output: str, write_5m: str, write_1h: str, read: str, window: str = "0-200k",
        from_tokens: int = 0, tier: str = "standard") -> PriceRow:
    """USD per million tokens, as the pricing page lists them, to USD per token."""
    return PriceRow(window, from_tokens, {"service_tier": tier}, {
        "input": Decimal(input) * PER_MTOK, "output": Decimal(output) * PER_MTOK,
        "cache_write_5m": Decimal(write_5m) * PER_MTOK, "cache_write_1h": Decimal(write_1h) * PER_MTOK,
        "cache_read": Decimal(read) * PER_MTOK, "web_search": Decimal("0.01")})


# https://platform.claude.com/docs/en/about-claude/pricing (docs/notes/pricing.md): input / output / 5m write /
# 1h write / cache read per MTok. Opus 4.6 also carries a long-context row (prompts over 200K) for the tests of
# the window choice.
PRICES = {
    OPUS: (row("5", "25", "6.25", "10", "0.50"), row("10", "37.50", "12.50", "20", "1", "200k-1M", 200_001)),
    SONNET: (row("3", "15", "3.75", "6", "0.30"),),
    HAIKU: (row("1", "5", "1.25", "2", "0.10"),),
}
# ASK's input, estimated locally: {"messages":[{"content":"hi","role":"user"}]} is 45 characters, / 4 rounded
# up = 12 tokens.
ASK = {"model": OPUS, "max_tokens": 1000, "messages": [{"role": "user", "content": "hi"}]}
TAGS = {"team": "search", "feature": "answer", "env": "prod", "api_key_id": "apikey_01Search"}


def guarded(id: str = "search-daily", policy: str = "block", amount_usd: str = "0.10", period: str = "day",
            scope: str = "team", target: str | None = "search", **fields: Any) -> GuardBudget:
    return GuardBudget(id, scope, target, fields.pop("env", None), period, Decimal(amount_usd), policy,
                       tuple(fields.pop("downgrade", ())), fields.pop("on_redis_error", "fail_open"))


def key_of(budget: GuardBudget, now: datetime) -> str:
    return spend_key(budget.id, budget.period, period_start(budget.period, now))


def documents(now: datetime, budgets: list[GuardBudget], spent: dict[str, int] | None = None
              ) -> tuple[BudgetsDocument, PricesDocument]:
    """``spent``: micro-USD the rollup already holds for a budget id in its current period (as base)."""
    hour = int(now.timestamp()) // 3600
    spend = {key_of(b, now): PeriodSpend(hour - 3, (spent or {}).get(b.id, 0), {}) for b in budgets}
    return BudgetsDocument(now, tuple(budgets), spend), PricesDocument(now, PRICES)


def publish(target: Any, now: datetime, *budgets: GuardBudget, spent: dict[str, int] | None = None) -> None:
    """To a redis-py client, or to a state directory (a Path) like the sensor does."""
    budgets_doc, prices_doc = documents(now, list(budgets), spent)
    if isinstance(target, Path):
        publish_files(target, budgets_doc, prices_doc)
    else:
        publish_redis(target, budgets_doc, prices_doc, now)


def counters(redis_client: Any, budget: GuardBudget, now: datetime) -> dict[str, int]:
    """The period's hash (micro-USD) plus ``holds``: the number of holds in flight."""
    key = key_of(budget, now)
    values = {k.decode(): int(v) for k, v in redis_client.hgetall(key).items()}
    return {**values, "holds": redis_client.zcard(holds_key(key))}


def frozen(now: datetime) -> Any:
    return lambda: now.timestamp()


def guarded_client(api_url: str, out: Path, guard: BudgetGuard, **tags: Any) -> Any:
    return instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=api_url, max_retries=0),
                      sink=JsonlFileSink(out), guard=guard, **(tags or TAGS))


def events_in(directory: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in sorted(directory.glob("*.jsonl")) for line in path.read_text().splitlines()]


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
