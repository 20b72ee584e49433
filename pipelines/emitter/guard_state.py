"""What the call-time budget guard (``pipelines.emitter.guard``) and the pipeline that feeds it
(``pipelines.budgets.guard``) agree on: the published documents, the budget periods, the Redis keys and the
Lua scripts that change them (docs/emitter.md, "Budget guard"). Standard library only.

Money in counters is integer micro-USD (1e-6 USD): Redis increments integers exactly and Lua compares them
exactly below 2**53 (9 billion USD). Estimates are rounded up to the next micro-dollar, actual costs to the
nearest.

One budget period is one Redis hash, ``ledger:{guard}:spend:<budget id>:<period label>``:

- ``base``: the authoritative spend (the spend rollup) of the period's hours before ``from``;
- ``r:<hour>``: the rollup's spend of each later hour (hours since the Unix epoch), as last published;
- ``g:<hour>``: what the guard settled for calls that started in that hour;
- ``recent``: the sum over hours >= ``from`` of ``max(r:<hour>, g:<hour>)``: the rollup where it has caught
  up with the guard's own calls, the guard's settlements where the rollup lags (never both);
- ``held``: the holds in flight, each also a member ``<hold id>:<micro-USD>`` of the sorted set
  ``<hash key>:holds`` scored by its expiry (ms). An expired hold (its process died) is dropped, and ``held``
  lowered, by the next script that touches the period.

The period's spend is ``base + recent + held``. Each pipeline tick replaces ``base``, ``from`` and every
``r:`` field and drops the ``g:`` fields before ``from``: the rollup is the authority, so estimate errors and
calls made without the guard never accumulate. Keys expire an hour after their period ends.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

KEY_PREFIX = "ledger:{guard}"  # one hash tag: every key in one slot, so the scripts also run on a Redis Cluster
BUDGETS_KEY = f"{KEY_PREFIX}:budgets"
PRICES_KEY = f"{KEY_PREFIX}:prices"
WANTED_KEY = f"{KEY_PREFIX}:wanted"  # model ids a guard met without a price: the next price refresh resolves them
DOCUMENT_TTL_S = 24 * 3600  # a document the pipeline stopped refreshing a day ago is gone: nothing is guarded
KEY_GRACE_S = 3600  # a period's counters outlive its end by this much (a long call settles after midnight)

STATE_DIR = ".budget-guard"  # in the landing zone (hidden: the ingest skips it)
BUDGETS_FILE = "budgets.json"
PRICES_FILE = "prices.json"
COUNTERS_FILE = "counters.sqlite"

MICRO = Decimal("0.000001")
Policy = Literal["alert", "block", "downgrade"]
OnRedisError = Literal["fail_open", "fail_closed"]
PeriodKind = Literal["day", "month"]

# The tag a budget's scope compares with its target (the spend rollup's columns have the same names).
SCOPE_COLUMN = {"workspace": "workspace_id", "team": "team", "feature": "feature", "api_key": "api_key_id"}


def to_micros(usd: Decimal, *, up: bool = False) -> int:
    return int((usd / MICRO).quantize(Decimal(1), ROUND_CEILING if up else ROUND_HALF_UP))


def from_micros(micros: int) -> Decimal:
    return Decimal(micros) * MICRO


def period_start(kind: PeriodKind, moment: datetime) -> datetime:
    """Start of the UTC calendar day or month containing ``moment`` (as pipelines.budgets.periods)."""
    moment = moment.astimezone(UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day if kind == "day" else day.replace(day=1)


def period_end(kind: PeriodKind, start: datetime) -> datetime:
    if kind == "day":
        return start + timedelta(days=1)
    return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)


def period_label(kind: PeriodKind, start: datetime) -> str:
    return f"{start:%Y-%m-%d}" if kind == "day" else f"{start:%Y-%m}"


def spend_key(budget_id: str, kind: PeriodKind, start: datetime) -> str:
    return f"{KEY_PREFIX}:spend:{budget_id}:{period_label(kind, start)}"


def holds_key(key: str) -> str:
    return f"{key}:holds"


def hour_of(moment: datetime) -> int:
    """Hours since the Unix epoch: the name of an hour's counter fields."""
    return int(moment.timestamp()) // 3600


def scope_covers(scope: str, target: str | None, env_filter: str | None, *, team: str, feature: str, env: str,
                 workspace_id: str, api_key_id: str) -> bool:
    """Whether spend with these tags ('' for none) counts against a budget of ``scope`` / ``target``."""
    if env_filter is not None and env != env_filter:
        return False
    if scope == "org":
        return True
    values = {"team": team, "feature": feature, "workspace_id": workspace_id, "api_key_id": api_key_id}
    return values[SCOPE_COLUMN[scope]] == target


@dataclass(frozen=True)
class GuardBudget:
    """A budget as the guard needs it (published from LEDGER_CONFIG by the pipeline)."""

    id: str
    scope: str
    target: str | None
    env: str | None
    period: PeriodKind
    amount_usd: Decimal
    policy: Policy = "alert"
    downgrade: tuple[str, ...] = ()
    on_redis_error: OnRedisError = "fail_open"

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "scope": self.scope, "target": self.target, "env": self.env, "period": self.period,
                "amount_usd": str(self.amount_usd), "policy": self.policy, "downgrade": list(self.downgrade),
                "on_redis_error": self.on_redis_error}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> GuardBudget:
        return cls(str(value["id"]), str(value["scope"]), value.get("target"), value.get("env"), value["period"],
                   Decimal(str(value["amount_usd"])), value.get("policy", "alert"),
                   tuple(value.get("downgrade") or ()), value.get("on_redis_error", "fail_open"))

    def describe(self) -> str:
        what = "whole organisation" if self.scope == "org" else f"{self.scope} {self.target or '(default)'}"
        return f"{what}, env {self.env}" if self.env else what


@dataclass(frozen=True)
class PeriodSpend:
    """What the pipeline published for one budget period: ``base`` before hour ``from_hour``, then per hour."""

    from_hour: int = 0
    base: int = 0  # micro-USD
    hours: dict[int, int] = field(default_factory=dict)  # hour -> micro-USD of the rollup

    def to_json(self) -> dict[str, Any]:
        return {"from_hour": self.from_hour, "base": self.base, "hours": {str(h): v for h, v in self.hours.items()}}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PeriodSpend:
        return cls(int(value["from_hour"]), int(value["base"]), {int(h): int(v) for h, v in value["hours"].items()})


@dataclass(frozen=True)
class BudgetsDocument:
    """Published every tick: the guarded budgets and (for the file mode) each current period's spend."""

    published_at: datetime
    budgets: tuple[GuardBudget, ...]
    spend: dict[str, PeriodSpend] = field(default_factory=dict)  # by spend_key

    def to_json(self) -> str:
        return json.dumps({"published_at": self.published_at.isoformat(),
                           "budgets": [b.to_json() for b in self.budgets],
                           "spend": {k: s.to_json() for k, s in self.spend.items()}}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> BudgetsDocument:
        value = json.loads(text)
        return cls(datetime.fromisoformat(value["published_at"]),
                   tuple(GuardBudget.from_json(b) for b in value["budgets"]),
                   {k: PeriodSpend.from_json(s) for k, s in value.get("spend", {}).items()})


@dataclass(frozen=True)
class PriceRow:
    """The unit prices (USD per token; per request for web_search) of one model in one price cell.

    ``from_prompt_tokens``: the smallest prompt (input + cache reads + cache writes) that falls in this
    ``context_window``, found by the pipeline with the shared SQL rule (ledger_context_window).
    ``dimensions``: the other price dimensions of the cell (service_tier, and whatever else the shared
    ``unit_prices`` view is keyed by), matched against the call's."""

    context_window: str
    from_prompt_tokens: int
    dimensions: dict[str, str]
    usd_per_unit: dict[str, Decimal]

    def to_json(self) -> dict[str, Any]:
        return {"context_window": self.context_window, "from_prompt_tokens": self.from_prompt_tokens,
                "dimensions": self.dimensions, "usd_per_unit": {t: str(p) for t, p in self.usd_per_unit.items()}}

    @classmethod
    def from_json(cls, value: Mapping[str, Any]) -> PriceRow:
        return cls(value["context_window"], int(value["from_prompt_tokens"]), dict(value["dimensions"]),
                   {t: Decimal(p) for t, p in value["usd_per_unit"].items()})


@dataclass(frozen=True)
class PricesDocument:
    """Published every few minutes: per model id (dated ids and families alike) its price rows."""

    published_at: datetime
    prices: dict[str, tuple[PriceRow, ...]]

    def to_json(self) -> str:
        return json.dumps({"published_at": self.published_at.isoformat(),
                           "prices": {m: [r.to_json() for r in rows] for m, rows in self.prices.items()}},
                          separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> PricesDocument:
        value = json.loads(text)
        return cls(datetime.fromisoformat(value["published_at"]),
                   {m: tuple(PriceRow.from_json(r) for r in rows) for m, rows in value["prices"].items()})


def state_dir(events_dir: Path) -> Path:
    """Where the pipeline publishes the documents for a guard without Redis (inside the landing zone)."""
    return events_dir / STATE_DIR


def expire_at(kind: PeriodKind, start: datetime) -> int:
    """Unix time at which a period's keys expire."""
    return math.ceil(period_end(kind, start).timestamp()) + KEY_GRACE_S


# --- Lua scripts (Redis runs each atomically) -------------------------------------------------------------
# Integers are formatted with %d: Lua 5.1 would print a large number in exponent notation, which HINCRBY
# refuses.

_PURGE = """
local function purge(key, holds, now)
  local expired = redis.call('ZRANGEBYSCORE', holds, '-inf', now)
  if #expired > 0 then
    local freed = 0
    for _, member in ipairs(expired) do freed = freed + tonumber(string.match(member, ':(%d+)$')) end
    redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
    redis.call('HINCRBY', key, 'held', string.format('%d', -freed))
  end
end
local function spend_of(key)
  local v = redis.call('HMGET', key, 'base', 'recent', 'held')
  return (tonumber(v[1]) or 0) + (tonumber(v[2]) or 0) + (tonumber(v[3]) or 0)
end
"""

# KEYS: hash, holds of each period. ARGV: now (ms), member, hold expiry (ms), amount, then per period its
# limit and key expiry (Unix s). Either every period takes the hold or none does; returns the refusals as
# {count, index, spend, index, spend, ...} (spend before this call, holds included).
RESERVE = _PURGE + """
local now, member, until_ms, amount = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local n = #KEYS / 2
local refused = {0}
for i = 1, n do
  local key, holds = KEYS[2 * i - 1], KEYS[2 * i]
  purge(key, holds, now)
  local spend = spend_of(key)
  if spend + amount > tonumber(ARGV[3 + 2 * i]) then
    refused[1] = refused[1] + 1
    table.insert(refused, i)
    table.insert(refused, string.format('%d', spend))
  end
end
if refused[1] > 0 then return refused end
for i = 1, n do
  local key, holds, expiry = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[4 + 2 * i])
  redis.call('ZADD', holds, until_ms, member)
  redis.call('HINCRBY', key, 'held', string.format('%d', amount))
  redis.call('EXPIREAT', key, expiry)
  redis.call('EXPIREAT', holds, expiry)
end
return refused
"""

# KEYS: hash, holds of each period. ARGV: member, held amount, actual cost, hour the call started, then per
# period its key expiry. Removes the hold (unless it already expired) and books the actual cost on the hour.
SETTLE = """
local member, amount, actual, hour = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, #KEYS / 2 do
  local key, holds = KEYS[2 * i - 1], KEYS[2 * i]
  if redis.call('ZREM', holds, member) == 1 then
    redis.call('HINCRBY', key, 'held', string.format('%d', -amount))
  end
  if actual > 0 and hour >= (tonumber(redis.call('HGET', key, 'from')) or 0) then
    local settled = redis.call('HINCRBY', key, 'g:' .. hour, string.format('%d', actual))
    local rollup = tonumber(redis.call('HGET', key, 'r:' .. hour)) or 0
    local grown = math.max(rollup, settled) - math.max(rollup, settled - actual)
    redis.call('HINCRBY', key, 'recent', string.format('%d', grown))
  end
  redis.call('EXPIREAT', key, tonumber(ARGV[4 + i]))
end
return 1
"""

# KEYS: hash, holds of one period. ARGV: now (ms), from hour, base, key expiry, then hour, rollup pairs.
# Replaces the rollup's part, drops the guard's settlements before ``from`` and recomputes ``recent``.
PUBLISH = _PURGE + """
local key, holds = KEYS[1], KEYS[2]
local from = tonumber(ARGV[2])
purge(key, holds, tonumber(ARGV[1]))
local settled = {}
for _, name in ipairs(redis.call('HKEYS', key)) do
  local kind, hour = string.match(name, '^([gr]):(%d+)$')
  if kind == 'r' or (kind == 'g' and tonumber(hour) < from) then
    redis.call('HDEL', key, name)
  elseif kind == 'g' then
    settled[hour] = tonumber(redis.call('HGET', key, name))
  end
end
local recent = 0
for i = 5, #ARGV, 2 do
  local hour, rollup = ARGV[i], tonumber(ARGV[i + 1])
  redis.call('HSET', key, 'r:' .. hour, string.format('%d', rollup))
  recent = recent + math.max(rollup, settled[hour] or 0)
  settled[hour] = nil
end
for _, amount in pairs(settled) do recent = recent + amount end
redis.call('HSET', key, 'base', ARGV[3], 'from', ARGV[2], 'recent', string.format('%d', recent))
redis.call('HSETNX', key, 'held', '0')
redis.call('EXPIREAT', key, tonumber(ARGV[4]))
if redis.call('EXISTS', holds) == 1 then redis.call('EXPIREAT', holds, tonumber(ARGV[4])) end
return recent
"""
