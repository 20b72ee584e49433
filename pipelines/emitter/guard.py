"""The call-time budget guard: before a Messages API call, hold its estimated cost against every budget that
covers it; refuse it, or switch it to a cheaper model, when a budget would pass its limit; after the call,
settle the hold to the real cost (docs/emitter.md, "Budget guard").

    guard = BudgetGuard()                       # LEDGER_REDIS_URL, else the files of the landing zone
    client = instrument(anthropic.Anthropic(), team="search", feature="answer", guard=guard)

The budgets, their policies and the unit prices come from the pipeline (``pipelines.budgets.guard`` publishes
them every tick, from LEDGER_CONFIG, the spend rollup and the shared ``unit_prices`` view); this module never
reads LEDGER_CONFIG or ClickHouse. Standard library only, plus ``redis`` when a Redis URL is given.

The estimate (USD) of a call on model M:

- input: the prompt's tokens, from the Messages API's count-tokens endpoint with ``count_tokens=True``, else
  the canonical JSON of system + tools + messages / 4 (``fingerprint.request_tokens``), at M's input price,
  or its 5-minute / 1-hour cache-write price when the request carries ``cache_control`` (the dearer case);
- output: ``max_tokens`` at M's output price (the most the call can produce, thinking included);
- web search: each web-search tool's ``max_uses`` at the per-request price;
- the price cell: the context window the prompt's size falls in, and the call's service tier, speed and
  inference geo where the request names them (the dearest matching cell where it does not).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from pipelines import settings
from pipelines.emitter.fingerprint import is_given, request_tokens
from pipelines.emitter.guard_state import (
    BUDGETS_FILE,
    BUDGETS_KEY,
    COUNTERS_FILE,
    PRICES_FILE,
    PRICES_KEY,
    RESERVE,
    SETTLE,
    WANTED_KEY,
    BudgetsDocument,
    GuardBudget,
    OnRedisError,
    PeriodSpend,
    PriceRow,
    PricesDocument,
    expire_at,
    from_micros,
    holds_key,
    hour_of,
    period_label,
    period_start,
    scope_covers,
    spend_key,
    state_dir,
    to_micros,
)

log = logging.getLogger(__name__)

# The count-tokens endpoint's parameters (POST /v1/messages/count_tokens,
# https://platform.claude.com/docs/en/api/messages/count_tokens); the rest of a create request is not sent.
COUNT_TOKENS_PARAMS = ("messages", "model", "system", "tools", "tool_choice", "thinking", "cache_control",
                       "output_config", "speed", "extra_headers")
BUDGET_EXCEEDED = "budget_exceeded"  # error_type of the event of a refused call
GUARD_UNAVAILABLE = "budget_guard_unavailable"  # error_type of a call refused because the counters are unreachable


def _usd(value: Decimal) -> str:
    """Cents from a dollar up, else down to the micro-dollar: $12.30, $0.02506, $0.00."""
    if abs(value) >= 1:
        return f"${value:,.2f}"
    return f"${max(value.quantize(Decimal('0.000001')).normalize(), value.quantize(Decimal('0.01')), key=_places):f}"


def _places(value: Decimal) -> int:
    return -int(value.as_tuple().exponent)


class GuardRefusal(Exception):
    """A call the guard did not let through; no request was sent. ``budget_id``: the budget that refused."""

    error_type = BUDGET_EXCEEDED

    def __init__(self, message: str, budget_id: str | None) -> None:
        super().__init__(message)
        self.budget_id = budget_id


class BudgetExceeded(GuardRefusal):
    """The call would take a ``block`` budget (or a ``downgrade`` budget with no cheaper model left) past its
    limit: ``spend_usd`` (settled and held so far in the period), ``limit_usd``, ``estimate_usd`` of the call."""

    def __init__(self, budget: GuardBudget, period: str, spend_usd: Decimal, estimate_usd: Decimal | None,
                 model: str, why: str = "") -> None:
        spent = f"{_usd(spend_usd)} of {_usd(budget.amount_usd)} spent or held"
        where = f"budget {budget.id!r} ({budget.describe()}, {period})"
        super().__init__(
            f"{where} would pass its limit: {spent}, and this call to {model} is estimated at {_usd(estimate_usd)}"
            f"{why}; no request was sent" if estimate_usd is not None else
            f"{where} cannot hold this call: {model} has no published price ({spent}){why}; no request was sent",
            budget.id)
        self.budget = budget
        self.period = period
        self.spend_usd = spend_usd
        self.limit_usd = budget.amount_usd
        self.estimate_usd = estimate_usd
        self.model = model


class BudgetGuardUnavailable(GuardRefusal):
    """The guard's counters cannot be reached and a covering budget (or the guard) says ``fail_closed``."""

    error_type = GUARD_UNAVAILABLE

    def __init__(self, budget_id: str | None, cause: BaseException) -> None:
        who = f"budget {budget_id!r} fails closed" if budget_id else "the guard fails closed"
        super().__init__(f"{who} and the budget counters are unreachable ({type(cause).__name__}); "
                         "no request was sent", budget_id)


class CountersUnavailable(Exception):
    """Redis (or the local counter file) did not answer."""


@dataclass
class GuardStats:
    """What the guard did, counted since it was made (read ``guard.stats``; ``snapshot()`` for a dict)."""

    checked: int = 0  # calls covered by at least one block / downgrade budget
    blocked: int = 0  # refused with BudgetExceeded
    downgraded: int = 0  # sent on a cheaper model than requested
    failed_closed: int = 0  # refused with BudgetGuardUnavailable
    redis_errors: int = 0  # counters unreachable and the call let through unguarded (fail-open): a warning each
    settle_errors: int = 0  # a settlement that did not reach the counters (its hold expires instead)
    unknown_models: int = 0  # a model without a published price
    counted_locally: int = 0  # count-tokens unavailable or failed: the local estimate was used
    internal_errors: int = 0  # an unexpected failure of the guard: the call went ahead unguarded
    settled: int = 0
    released: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self)}


# --- prices and estimates ----------------------------------------------------------------------------------

def _cell(rows: Sequence[PriceRow], prompt_tokens: int, dimensions: Mapping[str, str | None]) -> dict[str, Decimal]:
    """Unit prices for a prompt of this size: the context window it falls in; among the rows of that window
    whose dimensions match the call's (a dimension the call does not name matches any), the dearest."""
    matching = [r for r in rows if r.from_prompt_tokens <= prompt_tokens and all(
        dimensions.get(name) is None or dimensions[name] == value for name, value in r.dimensions.items())]
    if not matching:
        return {}
    window = max(r.from_prompt_tokens for r in matching)
    prices: dict[str, Decimal] = {}
    for row in (r for r in matching if r.from_prompt_tokens == window):
        for token_type, price in row.usd_per_unit.items():
            prices[token_type] = max(price, prices.get(token_type, price))
    return prices


def _cache_marks(value: Any) -> set[str]:
    """The cache TTLs a request asks for ('5m' / '1h') anywhere in it."""
    found: set[str] = set()
    stack = [value]
    while stack:
        item = stack.pop()
        if hasattr(item, "model_dump"):
            item = item.model_dump(exclude_none=True)
        if isinstance(item, Mapping):
            mark = item.get("cache_control")
            if isinstance(mark, Mapping):
                found.add(str(mark.get("ttl") or "5m"))
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found


def _web_search_uses(tools: Any) -> int:
    if not is_given(tools):
        return 0
    return sum(int(t.get("max_uses") or 0) for t in tools
               if isinstance(t, Mapping) and str(t.get("type", "")).startswith("web_search"))


def _quantities(usage: Mapping[str, Any]) -> dict[str, int]:
    """A response usage object as the token types of ``unit_prices``; ``cache_creation_input_tokens`` is the
    5m + 1h breakdown when there is one, else all 5-minute writes (docs/events.md)."""
    def n(value: Any) -> int:
        return int(value or 0)

    creation = usage.get("cache_creation") or {}
    has_breakdown = creation.get("ephemeral_5m_input_tokens") is not None or creation.get(
        "ephemeral_1h_input_tokens") is not None
    return {
        "input": n(usage.get("input_tokens")),
        "output": n(usage.get("output_tokens")),
        "cache_read": n(usage.get("cache_read_input_tokens")),
        "cache_write_5m": n(creation.get("ephemeral_5m_input_tokens")) if has_breakdown else n(
            usage.get("cache_creation_input_tokens")),
        "cache_write_1h": n(creation.get("ephemeral_1h_input_tokens")),
        "web_search": n((usage.get("server_tool_use") or {}).get("web_search_requests")),
    }


def _cost(prices: Mapping[str, Decimal], quantities: Mapping[str, int]) -> Decimal:
    return sum((Decimal(q) * prices.get(t, Decimal(0)) for t, q in quantities.items() if q), Decimal(0))


# --- counters ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Line:
    """One budget period a call is held against."""

    budget: GuardBudget
    key: str
    period: str
    limit: int  # micro-USD
    expire_at: int  # Unix s
    published: PeriodSpend | None  # the file mode's rollup part (Redis keeps its own)


class RedisCounters:
    """The shared counters in Redis (scripts in guard_state); every failure is ``CountersUnavailable``."""

    def __init__(self, url: str, timeout_s: float) -> None:
        try:
            import redis
        except ImportError:
            raise ImportError("the budget guard needs redis-py for LEDGER_REDIS_URL: "
                              "pip install 'claude-ledger-emitter[guard]'") from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        self._reserve = self._client.register_script(RESERVE)
        self._settle = self._client.register_script(SETTLE)

    def _run(self, action: Callable[[], Any]) -> Any:
        try:
            return action()
        except self._errors as exc:
            raise CountersUnavailable(type(exc).__name__) from exc

    def documents(self) -> tuple[bytes | None, bytes | None]:
        return self._run(lambda: tuple(self._client.mget(BUDGETS_KEY, PRICES_KEY)))

    def reserve(self, lines: Sequence[Line], member: str, amount: int, until_ms: int, now_ms: int
                ) -> list[tuple[int, int]]:
        keys = [k for line in lines for k in (line.key, holds_key(line.key))]
        args: list[Any] = [now_ms, member, until_ms, amount]
        for line in lines:
            args += [line.limit, line.expire_at]
        answer = self._run(lambda: self._reserve(keys=keys, args=args))
        return [(int(answer[1 + 2 * i]) - 1, int(answer[2 + 2 * i])) for i in range(int(answer[0]))]

    def settle(self, lines: Sequence[Line], member: str, amount: int, actual: int, hour: int) -> None:
        keys = [k for line in lines for k in (line.key, holds_key(line.key))]
        self._run(lambda: self._settle(keys=keys, args=[member, amount, actual, hour,
                                                        *[line.expire_at for line in lines]]))

    def want(self, model: str) -> None:
        """Ask the pipeline for a model's prices (best effort)."""
        with contextlib.suppress(CountersUnavailable):
            self._run(lambda: self._client.pipeline().sadd(WANTED_KEY, model).expire(WANTED_KEY, 86400).execute())

    def standing(self, line: Line, now_ms: int) -> tuple[int, int]:
        """(spend, held) of a period in micro-USD (holds that expired still count until a script purges them)."""
        base, recent, held = self._run(lambda: self._client.hmget(line.key, "base", "recent", "held"))
        held = int(held or 0)
        return int(base or 0) + int(recent or 0) + held, held


_SCHEMA = """
CREATE TABLE IF NOT EXISTS settled (key TEXT, hour INTEGER, micros INTEGER, expire_at INTEGER,
                                    PRIMARY KEY (key, hour));
CREATE TABLE IF NOT EXISTS holds (key TEXT, member TEXT, micros INTEGER, until_ms INTEGER, PRIMARY KEY (key, member));
CREATE TABLE IF NOT EXISTS wanted (model TEXT PRIMARY KEY);
"""


class FileCounters:
    """The one-host counters: the documents the pipeline published in the landing zone, and this host's
    settlements and holds in a SQLite file beside them (one writer at a time: ``BEGIN IMMEDIATE``). The same
    sums as the Redis scripts; only calls made on this host are counted between two pipeline ticks."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            self.directory.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.directory / COUNTERS_FILE, timeout=60, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")  # no fsync per commit; a killed process loses nothing
            db.executescript(_SCHEMA)
            self._local.db, self._local.pid = db, os.getpid()
        return db

    def _transaction(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        try:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result
        except (sqlite3.Error, OSError) as exc:
            raise CountersUnavailable(type(exc).__name__) from exc

    def documents(self) -> tuple[bytes | None, bytes | None]:
        def read(name: str) -> bytes | None:
            try:
                return (self.directory / name).read_bytes()
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise CountersUnavailable(type(exc).__name__) from exc

        return read(BUDGETS_FILE), read(PRICES_FILE)

    @staticmethod
    def _spend(db: sqlite3.Connection, line: Line) -> tuple[int, int]:
        published = line.published or PeriodSpend()
        settled = dict(db.execute("SELECT hour, micros FROM settled WHERE key = ? AND hour >= ?",
                                  (line.key, published.from_hour)).fetchall())
        recent = sum(max(published.hours.get(h, 0), settled.get(h, 0)) for h in {*published.hours, *settled})
        [[held]] = db.execute("SELECT coalesce(sum(micros), 0) FROM holds WHERE key = ?", (line.key,)).fetchall()
        return published.base + recent + held, held

    def reserve(self, lines: Sequence[Line], member: str, amount: int, until_ms: int, now_ms: int
                ) -> list[tuple[int, int]]:
        def work(db: sqlite3.Connection) -> list[tuple[int, int]]:
            db.execute("DELETE FROM holds WHERE until_ms <= ?", (now_ms,))
            db.execute("DELETE FROM settled WHERE expire_at * 1000 <= ?", (now_ms,))
            refused = []
            for i, line in enumerate(lines):
                spend, _ = self._spend(db, line)
                if spend + amount > line.limit:
                    refused.append((i, spend))
            if not refused:
                db.executemany("INSERT INTO holds VALUES (?, ?, ?, ?)",
                               [(line.key, member, amount, until_ms) for line in lines])
            return refused

        return self._transaction(work)

    def settle(self, lines: Sequence[Line], member: str, amount: int, actual: int, hour: int) -> None:
        def work(db: sqlite3.Connection) -> None:
            for line in lines:
                db.execute("DELETE FROM holds WHERE key = ? AND member = ?", (line.key, member))
                if actual > 0:
                    db.execute("INSERT INTO settled VALUES (?, ?, ?, ?) ON CONFLICT (key, hour) "
                               "DO UPDATE SET micros = micros + excluded.micros", (line.key, hour, actual,
                                                                                  line.expire_at))

        self._transaction(work)

    def want(self, model: str) -> None:
        """Ask the pipeline for a model's prices (best effort; it reads this table)."""
        with contextlib.suppress(CountersUnavailable):
            self._transaction(lambda db: db.execute("INSERT OR IGNORE INTO wanted VALUES (?)", (model,)))

    def standing(self, line: Line, now_ms: int) -> tuple[int, int]:
        return self._transaction(lambda db: self._spend(db, line))


# --- the guard ---------------------------------------------------------------------------------------------

@dataclass
class Plan:
    """A call covered by guarded budgets, before it is admitted; ``input_tokens`` may be set from count-tokens."""

    request: Mapping[str, Any]
    lines: list[Line]
    count_tokens: bool
    input_tokens: int | None = None

    def count_params(self) -> dict[str, Any]:
        return {name: self.request[name] for name in COUNT_TOKENS_PARAMS if is_given(self.request.get(name))}


@dataclass
class Ticket:
    """An admitted call: its hold, and the model it goes out on (``action`` "downgrade" when switched)."""

    guard: BudgetGuard
    lines: list[Line]
    member: str
    amount: int  # micro-USD held on every line
    hour: int
    model: str
    requested_model: str
    rows: tuple[PriceRow, ...]  # the sent model's prices
    dimensions: dict[str, str | None]
    action: str | None = None
    budget_id: str | None = None  # the budget whose policy switched the model
    _done: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _claim(self) -> bool:
        with self._lock:
            done, self._done = self._done, True
            return not done

    def settle(self, usage: Mapping[str, Any] | None, billing: Mapping[str, Any]) -> None:
        """Replace the hold with the call's real cost: its usage at the sent model's prices, in the cell its
        prompt size and the response's billing dimensions name. Never raises."""
        if not self._claim():
            return
        quantities = _quantities(usage or {})
        prompt = sum(quantities[t] for t in ("input", "cache_read", "cache_write_5m", "cache_write_1h"))
        dimensions = {**self.dimensions, **{k: str(v) for k, v in billing.items() if v is not None}}
        prices = _cell(self.rows, prompt, dimensions)
        if "input" in prices and "output" in prices:
            actual = to_micros(_cost(prices, quantities))
        else:  # the response's cell has no price (e.g. a longer prompt than estimated): keep the estimate
            self.guard.stats.add("unknown_models")
            actual = self.amount
        self.guard._settle(self, actual, "settled")

    def release(self) -> None:
        """Drop the hold of a call that failed (the API bills no usage for it). Never raises."""
        if self._claim():
            self.guard._settle(self, 0, "released")


class BudgetGuard:
    """Holds each call's estimate against the published block / downgrade budgets that cover it.

    ``redis_url``: the shared counters (default ``LEDGER_REDIS_URL``); without one, the files the pipeline
    publishes in ``state_dir`` (default ``$LEDGER_EVENTS_DIR/.budget-guard``) and a counter file there, for
    the processes of one host. ``count_tokens``: ask the count-tokens endpoint for the input size (one more
    request per guarded call, free of charge and rate-limited on its own), else estimate it locally.
    ``on_redis_error``: what to do when the counters are unreachable and the published budgets are not known
    (each budget's own ``on_redis_error`` applies otherwise). ``hold_seconds``: how long a hold of a process
    that died keeps its budget reserved.
    """

    def __init__(self, *, redis_url: str | None = None, state_dir_path: Path | str | None = None,
                 count_tokens: bool = False, on_redis_error: OnRedisError = "fail_open",
                 hold_seconds: float = 3600, refresh_seconds: float = 5, timeout_s: float = 0.5,
                 clock: Callable[[], float] = time.time) -> None:
        url = redis_url if redis_url is not None else settings.redis_url()
        self.counters: RedisCounters | FileCounters = (
            RedisCounters(url, timeout_s) if url else
            FileCounters(Path(state_dir_path) if state_dir_path is not None else state_dir(settings.events_dir())))
        self.count_tokens = count_tokens
        self.on_redis_error = on_redis_error
        self.hold_seconds = hold_seconds
        self.refresh_seconds = refresh_seconds
        self.stats = GuardStats()
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded_at = float("-inf")
        self._budgets: BudgetsDocument | None = None
        self._prices: PricesDocument | None = None
        self._raw: tuple[bytes | None, bytes | None] = (None, None)

    # documents ------------------------------------------------------------------------------------------
    def _documents(self) -> tuple[BudgetsDocument | None, PricesDocument | None]:
        """The published documents, re-read every ``refresh_seconds``; a failed re-read keeps the last ones."""
        now = self._clock()
        with self._lock:
            if now - self._loaded_at < self.refresh_seconds:
                return self._budgets, self._prices
        try:
            raw = self.counters.documents()
        except CountersUnavailable:
            with self._lock:
                if self._budgets is None:
                    raise
                return self._budgets, self._prices
        with self._lock:
            if raw != self._raw:
                self._budgets = BudgetsDocument.from_json(raw[0]) if raw[0] else None
                self._prices = PricesDocument.from_json(raw[1]) if raw[1] else None
                self._raw = raw
            self._loaded_at = now
            return self._budgets, self._prices

    def _lines(self, budgets: BudgetsDocument, tags: Any, now: datetime) -> list[Line]:
        lines = []
        for budget in budgets.budgets:
            if budget.policy == "alert" or not scope_covers(
                    budget.scope, budget.target, budget.env, team=tags.team or "", feature=tags.feature or "",
                    env=tags.env or "", workspace_id=tags.workspace_id or "", api_key_id=tags.api_key_id or ""):
                continue
            start = period_start(budget.period, now)
            key = spend_key(budget.id, budget.period, start)
            lines.append(Line(budget, key, period_label(budget.period, start), to_micros(budget.amount_usd),
                              expire_at(budget.period, start), budgets.spend.get(key)))
        return lines

    # admission ------------------------------------------------------------------------------------------
    def plan(self, request: Mapping[str, Any], tags: Any) -> Plan | None:
        """The guarded budgets covering a call (None: nothing to guard, the call goes ahead as it is).
        Raises ``BudgetGuardUnavailable`` when the counters cannot be read and the guard fails closed."""
        try:
            budgets, _ = self._documents()
        except CountersUnavailable as exc:
            return self._unavailable(None, exc)
        if budgets is None:
            return None
        lines = self._lines(budgets, tags, datetime.fromtimestamp(self._clock(), UTC))
        return Plan(request, lines, self.count_tokens) if lines else None

    def _unavailable(self, lines: Sequence[Line] | None, exc: BaseException) -> None:
        closed = ([line.budget.id for line in lines if line.budget.on_redis_error == "fail_closed"]
                  if lines is not None else ([None] if self.on_redis_error == "fail_closed" else []))
        if closed:
            self.stats.add("failed_closed")
            raise BudgetGuardUnavailable(closed[0], exc) from exc
        self.stats.add("redis_errors")
        log.warning("budget guard: counters unreachable (%s); call let through unguarded (fail-open), "
                    "%d so far", exc, self.stats.redis_errors)
        return None

    @staticmethod
    def _dimensions(request: Mapping[str, Any]) -> dict[str, str | None]:
        """The price dimensions a request names (None: it does not, e.g. service_tier "auto")."""
        speed, geo = request.get("speed"), request.get("inference_geo")
        return {"service_tier": "standard" if request.get("service_tier") == "standard_only" else None,
                "speed": str(speed) if is_given(speed) else "standard",
                "inference_geo": str(geo) if is_given(geo) else None}

    def _estimate(self, rows: Sequence[PriceRow], plan: Plan, input_tokens: int) -> Decimal | None:
        request = plan.request
        cell = _cell(rows, input_tokens, self._dimensions(request))
        if "input" not in cell or "output" not in cell:
            return None
        marks = _cache_marks([request.get(name) for name in ("system", "tools", "messages", "cache_control")])
        input_type = "cache_write_1h" if "1h" in marks else "cache_write_5m" if marks else "input"
        estimate = (Decimal(input_tokens) * cell.get(input_type, cell["input"])
                    + Decimal(int(request.get("max_tokens") or 0)) * cell["output"]
                    + Decimal(_web_search_uses(request.get("tools"))) * cell.get("web_search", Decimal(0)))
        return estimate

    def admit(self, plan: Plan) -> Ticket | None:
        """Hold the call's estimate, downgrading its model as the budgets' policies say. Returns the ticket
        (None: let through unguarded after a fail-open error); raises ``BudgetExceeded`` /
        ``BudgetGuardUnavailable`` when it must not be sent."""
        self.stats.add("checked")
        request = plan.request
        requested = str(request.get("model"))
        if plan.input_tokens is None:
            plan.input_tokens = request_tokens(request.get("system"), request.get("tools"), request.get("messages"))
        try:
            _, prices = self._documents()
        except CountersUnavailable as exc:
            return self._unavailable(plan.lines, exc)
        model, trigger, tried = requested, None, {requested}
        first_estimate: Decimal | None = None
        now = self._clock()
        hold_id = uuid.uuid4().hex
        while True:
            rows = prices.prices.get(model, ()) if prices is not None else ()
            estimated = self._estimate(rows, plan, plan.input_tokens)
            if estimated is None:
                self.stats.add("unknown_models")
                self.counters.want(model)
                refused = [(i, None) for i in range(len(plan.lines))]
            else:
                estimate = estimated
                if first_estimate is not None and estimate >= first_estimate:
                    refused = [(i, None) for i, line in enumerate(plan.lines) if line.budget is trigger]
                else:
                    first_estimate = first_estimate if first_estimate is not None else estimate
                    amount = to_micros(estimate, up=True)
                    member = f"{hold_id}:{amount}"  # the amount in the member: an expired hold says what it held
                    try:
                        refused = self.counters.reserve(plan.lines, member, amount,
                                                        int((now + self.hold_seconds) * 1000), int(now * 1000))
                    except CountersUnavailable as exc:
                        return self._unavailable(plan.lines, exc)
                    if not refused:
                        return self._admitted(plan, member, amount, now, model, requested, rows, trigger)
            downgraders = [plan.lines[i].budget for i, _ in refused if plan.lines[i].budget.policy == "downgrade"]
            following = next((m for m in self._following(downgraders[0].downgrade, model) if m not in tried),
                             None) if downgraders else None
            if following is not None:
                model, trigger = following, downgraders[0]
                tried.add(model)
                continue
            self.stats.add("blocked")
            i, spend = next(((i, s) for i, s in refused if s is not None), refused[0])
            line = plan.lines[i]
            if spend is None:
                try:
                    spend = self.counters.standing(line, int(now * 1000))[0]
                except CountersUnavailable:
                    spend = 0
            why = "; no cheaper model is left in its downgrade list" if line.budget.policy == "downgrade" else ""
            raise BudgetExceeded(line.budget, line.period, from_micros(spend), estimated, model, why)

    @staticmethod
    def _following(models: Sequence[str], model: str) -> Sequence[str]:
        """The models after ``model`` in a downgrade list (the whole list when it is not in it)."""
        return models[models.index(model) + 1:] if model in models else models

    def _admitted(self, plan: Plan, member: str, amount: int, now: float, model: str, requested: str,
                  rows: Sequence[PriceRow], trigger: GuardBudget | None) -> Ticket:
        ticket = Ticket(self, plan.lines, member, amount, hour_of(datetime.fromtimestamp(now, UTC)), model,
                        requested, tuple(rows), self._dimensions(plan.request))
        if model != requested:
            ticket.action, ticket.budget_id = "downgrade", trigger.id if trigger else None
            self.stats.add("downgraded")
        return ticket

    def _settle(self, ticket: Ticket, actual: int, outcome: str) -> None:
        try:
            self.counters.settle(ticket.lines, ticket.member, ticket.amount, actual, ticket.hour)
        except Exception as exc:
            self.stats.add("settle_errors")
            log.warning("budget guard: a hold was not %s (%s); it expires in %ss", outcome, type(exc).__name__,
                        self.hold_seconds)
            return
        self.stats.add(outcome)

    # inspection -----------------------------------------------------------------------------------------
    def standing(self, budget_id: str) -> tuple[Decimal, Decimal]:
        """(spend, held) in USD of a published budget's current period, as the guard counts it."""
        budgets, _ = self._documents()
        budget = next(b for b in (budgets.budgets if budgets else ()) if b.id == budget_id)
        now = self._clock()
        start = period_start(budget.period, datetime.fromtimestamp(now, UTC))
        key = spend_key(budget.id, budget.period, start)
        line = Line(budget, key, period_label(budget.period, start), to_micros(budget.amount_usd),
                    expire_at(budget.period, start), budgets.spend.get(key) if budgets else None)
        spend, held = self.counters.standing(line, int(now * 1000))
        return from_micros(spend), from_micros(held)
