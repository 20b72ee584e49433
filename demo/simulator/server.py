"""A local Anthropic Admin API for the demo and the tests: a real HTTP server on 127.0.0.1.

It serves ``usage_report/messages``, ``cost_report``, ``workspaces``, ``api_keys``, ``usage_report/claude_code``
(``demo/simulator/claude_code.py``), the configured ``rate_limits`` of the organisation and of each workspace
(``demo/simulator/rate_limits.py``) and the Analytics API's ``analytics/cost_report``
(``demo/simulator/analytics.py``) for the demo
organisation (``demo/organisation.py``): every call of every feature, including the traffic
that emits no application events. Like the real API it checks ``x-api-key`` and ``anthropic-version``,
validates parameters (bucket widths and their page limits, ``group_by[]`` values, the fast-mode beta
header for speed), answers errors as
``{"type": "error", "error": {"type", "message"}}``, leaves ungrouped dimensions null and paginates
(``next_page`` for reports, ``after_id`` / ``last_id`` for lists).

Fault injection, per server instance: ``inject("429", "529", "malformed", ...)`` queues faults that the
next API requests receive one each (``429`` with ``retry-after``; ``500`` ``502`` ``503`` ``529``;
``malformed``: a 200 with a torn JSON body; ``drop``: the connection closes without an answer; ``slow``:
the answer comes after ``slow_s``). ``late_data=True``: the first time a bucket is served it holds only
the calls of its first half; later fetches see all of it, as when data arrives late.

    python -m demo.simulator.server --port 8765      # or: make simulator
"""

from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlsplit

from demo.organisation import (
    API_CLAUDE_CODE_ACTORS,
    API_KEYS,
    RATE_LIMIT_GROUPS,
    SUBSCRIPTION_CLAUDE_CODE_ACTORS,
    WORKSPACE_RATE_LIMITS,
    WORKSPACES,
    ApiKey,
    Call,
    ClaudeCodeActor,
    RateLimitGroup,
    Workspace,
    calls_in_hour,
)
from demo.simulator import analytics
from demo.simulator.claude_code import CLAUDE_CODE_PATH, ClaudeCodeRequestError, claude_code_page
from demo.simulator.rate_limits import (
    PAGE_LIMITS,
    RateLimitQueryError,
    organization_rate_limits,
    workspace_rate_limits,
)
from demo.simulator.reports import (
    COST_DIMENSIONS,
    USAGE_DIMENSIONS,
    container_hours_of,
    cost_lines,
    cost_results,
    days_before,
    usage_results,
)

DEMO_ADMIN_KEY = "sk-ant-admin01-simulator-0000000000000000"  # the simulator's own key, not a secret
API_VERSION = "2023-06-01"
BUCKET_WIDTHS = {"1m": timedelta(minutes=1), "1h": timedelta(hours=1), "1d": timedelta(days=1)}
BUCKET_LIMITS = {"1m": (60, 1440), "1h": (24, 168), "1d": (7, 31)}  # (default, maximum) buckets per page
FAST_MODE_BETA = "fast-mode-2026-02-01"  # grouping or filtering by speed, and the cost report's speed, need it
LIST_LIMITS = (20, 1000)
FAULTS = {"429", "500", "502", "503", "529", "malformed", "drop", "slow"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               405: "invalid_request_error", 429: "rate_limit_error", 500: "api_error", 502: "api_error",
               503: "api_error", 529: "overloaded_error"}
WORKSPACE_COLORS = ("#6C5BB9", "#2E86AB", "#D1495B", "#EDAE49")


@dataclass(frozen=True)
class SimRequest:
    """An API request as the simulator saw it (headers without ``x-api-key``)."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass
class SimulatorState:
    """Everything one server instance serves and remembers; safe to change from a test while it runs."""

    api_key: str = DEMO_ADMIN_KEY
    calls_in_hour: Callable[[datetime], Sequence[Call]] = calls_in_hour
    workspaces: Sequence[Workspace] = WORKSPACES
    api_keys: Sequence[ApiKey] = API_KEYS
    rate_limit_groups: Sequence[RateLimitGroup] = RATE_LIMIT_GROUPS
    workspace_rate_limits: dict[str, dict[str, tuple[tuple[str, int], ...]]] = field(
        default_factory=lambda: dict(WORKSPACE_RATE_LIMITS))
    claude_code_workspace: str = "wrkspc_01ClaudeCode"  # its calls are the API actors' Claude Code usage
    claude_code_api_actors: Sequence[ClaudeCodeActor] = API_CLAUDE_CODE_ACTORS
    claude_code_subscription_actors: Sequence[ClaudeCodeActor] = SUBSCRIPTION_CLAUDE_CODE_ACTORS
    late_data: bool = False
    retry_after_s: int = 1
    slow_s: float = 2.0
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    faults: deque[str] = field(default_factory=deque)
    requests: list[SimRequest] = field(default_factory=list)  # every request to an API path
    served: Counter[tuple[str, datetime]] = field(default_factory=Counter)  # (endpoint, bucket start) -> times
    restated: dict[datetime, list[Call]] = field(default_factory=dict)  # hour -> calls reported after the fact
    lock: threading.Lock = field(default_factory=threading.Lock)
    analytics_discount: Decimal = Decimal("0.10")  # Analytics API: amount = list_amount x (1 - discount)
    analytics_lag: timedelta = timedelta(hours=6)  # Analytics API: a bucket holds the calls before now - lag
    analytics_top_groups: int = 100  # Analytics API: group rows per bucket (no remainder row)

    def restate(self, *calls: Call) -> None:
        """From now on the reports show ``calls`` too (Anthropic restating past days: usage and cost change)."""
        with self.lock:
            for call in calls:
                self.restated.setdefault(call.ts.replace(minute=0, second=0, microsecond=0), []).append(call)

    def hour_calls(self, hour: datetime) -> list[Call]:
        with self.lock:
            late = list(self.restated.get(hour, ()))
        return [*self.calls_in_hour(hour), *late]

    def inject(self, *faults: str) -> None:
        unknown = set(faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown faults {sorted(unknown)}; known: {sorted(FAULTS)}")
        with self.lock:
            self.faults.extend(faults)

    def next_fault(self) -> str | None:
        with self.lock:
            return self.faults.popleft() if self.faults else None

    def requests_to(self, path: str) -> list[SimRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


# ---------------------------------------------------------------- parameters


def _one(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _many(query: dict[str, list[str]], name: str) -> list[str]:
    return query.get(f"{name}[]", []) + query.get(name, [])


def _time(query: dict[str, list[str]], name: str, required: bool) -> datetime | None:
    value = _one(query, name)
    if value is None:
        if required:
            raise ApiError(400, f"{name}: Field required")
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, f"{name}: Input should be a valid RFC 3339 datetime, got {value!r}") from None
    if moment.tzinfo is None:
        raise ApiError(400, f"{name}: a timezone offset is required (RFC 3339)")
    return moment.astimezone(UTC)


def _int(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    value = _one(query, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ApiError(400, f"{name}: Input should be a valid integer, got {value!r}") from None
    if not low <= number <= high:
        raise ApiError(400, f"{name}: must be between {low} and {high}, got {number}")
    return number


def _snap(moment: datetime, width: str) -> datetime:
    if width == "1m":
        return moment.replace(second=0, microsecond=0)
    if width == "1h":
        return moment.replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _page_token(bucket_start: datetime) -> str:
    return "page_" + base64.urlsafe_b64encode(bucket_start.isoformat().encode()).decode()


def _page_start(token: str) -> datetime:
    try:
        return datetime.fromisoformat(base64.urlsafe_b64decode(token.removeprefix("page_").encode()).decode())
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "page: invalid page token") from None


def _group_by(query: dict[str, list[str]], allowed: Sequence[str]) -> list[str]:
    """The requested ``group_by[]`` ("any subset" of the allowed dimensions, as the reference says)."""
    group_by = _many(query, "group_by")
    for dimension in group_by:
        if dimension not in allowed:
            raise ApiError(400, f"group_by: {dimension!r} is not one of {', '.join(allowed)}")
    return group_by


def _betas(headers: dict[str, str]) -> set[str]:
    return {beta.strip() for beta in headers.get("anthropic-beta", "").split(",") if beta.strip()}


# ---------------------------------------------------------------- endpoints


class AdminApi:
    """The endpoints over a ``SimulatorState``; each returns the JSON body of a 200 answer."""

    def __init__(self, state: SimulatorState) -> None:
        self.state = state

    def calls(self, start: datetime, end: datetime) -> list[Call]:
        """Successful calls in [start, end) that have happened by now."""
        now = self.state.now()
        hour = start.replace(minute=0, second=0, microsecond=0)
        found: list[Call] = []
        while hour < end:
            found += [c for c in self.state.hour_calls(hour)
                      if start <= c.ts < end and c.ts < now and c.status == 200]
            hour += timedelta(hours=1)
        return found

    def _visible_calls(self, endpoint: str, start: datetime, end: datetime, filters: Callable[[Call], bool]
                       ) -> list[Call]:
        with self.state.lock:
            self.state.served[(endpoint, start)] += 1
            first_serve = self.state.served[(endpoint, start)] == 1
        if self.state.late_data and first_serve:
            end = start + (end - start) / 2
        return [c for c in self.calls(start, end) if filters(c)]

    def _buckets(self, query: dict[str, list[str]], width: str, limits: tuple[int, int] | None = None
                 ) -> tuple[list[datetime], str | None]:
        """The bucket starts of this page and the next page's token (``limits``: default and maximum per page)."""
        start = _snap(_time(query, "starting_at", required=True), width)
        step = BUCKET_WIDTHS[width]
        now_edge = _snap(self.state.now(), width) + step  # the current, still filling bucket is the last one
        requested_end = _time(query, "ending_at", required=False)
        end = min(_snap(requested_end, width) if requested_end else now_edge, now_edge)
        if requested_end and requested_end <= start:
            raise ApiError(400, "ending_at: must be after starting_at")
        default, maximum = limits or BUCKET_LIMITS[width]
        limit = _int(query, "limit", default, 1, maximum)
        page = _one(query, "page")
        first = _page_start(page) if page else start
        if not start <= first:
            raise ApiError(400, "page: the page token does not belong to this query")
        starts: list[datetime] = []
        cursor = first
        while cursor < end and len(starts) < limit:
            starts.append(cursor)
            cursor += step
        return starts, (_page_token(cursor) if cursor < end else None)

    def usage_report(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        width = _one(query, "bucket_width") or "1d"
        if width not in BUCKET_WIDTHS:
            raise ApiError(400, f"bucket_width: Input should be '1d', '1h' or '1m', got {width!r}")
        group_by = _group_by(query, USAGE_DIMENSIONS)
        models, workspaces, keys = (set(_many(query, n)) for n in ("models", "workspace_ids", "api_key_ids"))
        tiers, windows = set(_many(query, "service_tiers")), set(_many(query, "context_window"))
        geos, speeds = set(_many(query, "inference_geos")), set(_many(query, "speeds"))
        if ("speed" in group_by or speeds) and FAST_MODE_BETA not in _betas(headers):
            raise ApiError(400, f"speed: grouping or filtering by speed requires the {FAST_MODE_BETA} beta header")

        def wanted(call: Call) -> bool:
            f = call.feature
            return ((not models or f.model in models) and (not workspaces or f.workspace_id in workspaces)
                    and (not keys or f.api_key_id in keys) and (not tiers or f.service_tier in tiers)
                    and (not windows or call.context_window in windows)
                    and (not geos or f.inference_geo in geos) and (not speeds or f.speed in speeds))

        starts, next_page = self._buckets(query, width)
        step = BUCKET_WIDTHS[width]
        data = [{"starting_at": _rfc3339(s), "ending_at": _rfc3339(s + step),
                 "results": usage_results(self._visible_calls("usage", s, s + step, wanted), group_by)}
                for s in starts]
        return {"data": data, "has_more": next_page is not None, "next_page": next_page}

    def cost_report(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        width = _one(query, "bucket_width") or "1d"
        if width != "1d":
            raise ApiError(400, f"bucket_width: the cost report supports only '1d', got {width!r}")
        group_by = _group_by(query, COST_DIMENSIONS)
        with_speed = FAST_MODE_BETA in _betas(headers)
        starts, next_page = self._buckets(query, width)
        step = BUCKET_WIDTHS[width]

        def container_hours_before(day: date) -> Decimal:
            """Container-hours of the month's earlier days (the free hours are the month's)."""
            return sum((container_hours_of(self.calls(_day_start(d), _day_start(d) + step)) for d in days_before(day)),
                       Decimal(0))

        data = [{"starting_at": _rfc3339(s), "ending_at": _rfc3339(s + step),
                 "results": cost_results(cost_lines(self._visible_calls("cost", s, s + step, lambda c: True),
                                                    s.date(), container_hours_before), group_by, with_speed)}
                for s in starts]
        return {"data": data, "has_more": next_page is not None, "next_page": next_page}

    def analytics_cost_report(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        return analytics.cost_report(self, query, headers)

    def workspaces(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        objects = [{"type": "workspace", "id": w.id, "name": w.name, "created_at": "2025-03-03T09:00:00Z",
                    "archived_at": None, "display_color": WORKSPACE_COLORS[i % len(WORKSPACE_COLORS)],
                    "tags": w.tags}
                   for i, w in enumerate(self.state.workspaces) if w.id is not None]
        return _list_page(objects, query)

    def api_keys(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        status, workspace = _one(query, "status"), _one(query, "workspace_id")
        objects = [{"type": "api_key", "id": k.id, "name": k.name, "workspace_id": k.workspace_id,
                    "created_at": k.created_at, "created_by": {"id": "user_01SimulatedAdmin", "type": "user"},
                    "partial_key_hint": f"sk-ant-api03-{k.id[-3:]}...{k.name[:4]}", "status": "active"}
                   for k in self.state.api_keys]
        objects = [o for o in objects if (not status or o["status"] == status)
                   and (not workspace or o["workspace_id"] == workspace)]
        return _list_page(objects, query)

    def rate_limits(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        return organization_rate_limits(self.state.rate_limit_groups, _one(query, "group_type"), _one(query, "model"),
                                        _page_size(query), _one(query, "page"))

    def workspace_rate_limits(self, workspace_id: str, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        if workspace_id not in {w.id for w in self.state.workspaces if w.id is not None}:
            raise ApiError(404, f"workspace {workspace_id!r} not found")
        inherited = _one(query, "include_inherited") or "false"
        if inherited not in ("true", "false"):
            raise ApiError(400, f"include_inherited: Input should be a valid boolean, got {inherited!r}")
        return workspace_rate_limits(self.state.rate_limit_groups, self.state.workspace_rate_limits, workspace_id,
                                     _one(query, "group_type"), inherited == "true", _page_size(query),
                                     _one(query, "page"))

    def claude_code(self, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
        state = self.state
        try:
            return claude_code_page(query, self.calls, state.claude_code_workspace, state.claude_code_api_actors,
                                    state.claude_code_subscription_actors, state.now().date())
        except ClaudeCodeRequestError as exc:
            raise ApiError(400, str(exc)) from None


def _page_size(query: dict[str, list[str]]) -> int | None:
    """The Rate Limits API's ``limit``: omitted means every entry in one page."""
    return None if _one(query, "limit") is None else _int(query, "limit", 0, *PAGE_LIMITS)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _list_page(objects: list[dict], query: dict[str, list[str]]) -> dict:
    """Cursor pagination of a list: ``after_id`` / ``before_id``, ``limit``, ``first_id`` / ``last_id``."""
    limit = _int(query, "limit", LIST_LIMITS[0], 1, LIST_LIMITS[1])
    ids = [o["id"] for o in objects]
    after, before = _one(query, "after_id"), _one(query, "before_id")
    for cursor in (after, before):
        if cursor is not None and cursor not in ids:
            raise ApiError(400, f"no object with id {cursor!r} to paginate from")
    if before is not None:
        end = ids.index(before)
        page, has_more = objects[max(0, end - limit):end], end - limit > 0
    else:
        begin = ids.index(after) + 1 if after is not None else 0
        page, has_more = objects[begin:begin + limit], begin + limit < len(objects)
    return {"data": page, "has_more": has_more, "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None}


# ---------------------------------------------------------------- HTTP

ROUTES: dict[str, Callable[[AdminApi, dict[str, list[str]], dict[str, str]], dict]] = {
    "/v1/organizations/usage_report/messages": AdminApi.usage_report,
    "/v1/organizations/cost_report": AdminApi.cost_report,
    "/v1/organizations/workspaces": AdminApi.workspaces,
    "/v1/organizations/api_keys": AdminApi.api_keys,
    analytics.ANALYTICS_COST_PATH: AdminApi.analytics_cost_report,
    "/v1/organizations/rate_limits": AdminApi.rate_limits,
    CLAUDE_CODE_PATH: AdminApi.claude_code,
}
WORKSPACE_RATE_LIMITS_PATH = re.compile(r"/v1/organizations/workspaces/([^/]+)/rate_limits")
_request_ids = count(1)


def _path_route(path: str) -> Callable[[AdminApi, dict[str, list[str]], dict[str, str]], dict] | None:
    """The routes with an id in their path: a workspace's rate limits."""
    match = WORKSPACE_RATE_LIMITS_PATH.fullmatch(path)
    if match is None:
        return None
    workspace_id = match.group(1)
    return lambda api, query, headers: api.workspace_rate_limits(workspace_id, query, headers)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: the tests and the demo print their own
        if self.server.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:
        state = self.server.api.state
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        try:
            route = ROUTES.get(parts.path) or _path_route(parts.path)
            if route is None:
                raise ApiError(404, f"Not found: {parts.path}")
            headers = {k.lower(): v for k, v in self.headers.items() if k.lower() != "x-api-key"}
            with state.lock:
                state.requests.append(SimRequest(parts.path, query, headers))
            if self.headers.get("x-api-key") != state.api_key:
                raise ApiError(401, "invalid x-api-key")
            if not self.headers.get("anthropic-version"):
                raise ApiError(400, "anthropic-version: header is required")
            fault = state.next_fault()
            if fault == "drop":
                self.close_connection = True
                return
            if fault == "slow":
                time.sleep(state.slow_s)
            elif fault == "malformed":
                self._send(200, b'{"data": [{"starting_at": "2026-', {})
                return
            elif fault == "429":
                raise ApiError(429, "Number of requests has exceeded your rate limit",
                               {"retry-after": str(state.retry_after_s)})
            elif fault is not None:
                raise ApiError(int(fault), "Overloaded" if fault == "529" else "Internal server error")
            self._send_json(200, route(self.server.api, query, headers), {})
        except ApiError as exc:
            self._send_json(exc.status, _error_body(exc.status, exc.message), exc.headers)
        except RateLimitQueryError as exc:
            self._send_json(exc.status, _error_body(exc.status, exc.message), {})
        except Exception as exc:  # a simulator bug answers like the real API's 500, with the reason
            self._send_json(500, _error_body(500, f"simulator error: {type(exc).__name__}: {exc}"), {})

    def do_POST(self) -> None:
        self._send_json(405, _error_body(405, "Method not allowed: the simulator serves GET only"), {})

    def _send_json(self, status: int, body: dict, headers: dict[str, str]) -> None:
        self._send(status, json.dumps(body).encode(), headers)

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.send_header("request-id", f"req_sim_{next(_request_ids):08d}")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


def _error_body(status: int, message: str) -> dict:
    return {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: AdminApi, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.verbose = verbose


@dataclass
class AdminApiSimulator:
    """A running simulator: where it listens, its key, and its state (faults, request log)."""

    base_url: str
    state: SimulatorState

    @property
    def api_key(self) -> str:
        return self.state.api_key

    def inject(self, *faults: str) -> None:
        self.state.inject(*faults)


@contextmanager
def running_simulator(state: SimulatorState | None = None, port: int = 0, verbose: bool = False
                      ) -> Iterator[AdminApiSimulator]:
    """Serve the simulator on 127.0.0.1 (``port`` 0: an ephemeral port) in a thread for the block's duration."""
    state = state or SimulatorState()
    server = _Server(("127.0.0.1", port), AdminApi(state), verbose)
    thread = threading.Thread(target=server.serve_forever, name="admin-api-simulator", daemon=True)
    thread.start()
    try:
        yield AdminApiSimulator(f"http://127.0.0.1:{server.server_address[1]}", state)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a simulated Anthropic Admin API for the demo organisation.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")
    parser.add_argument("--api-key", default=DEMO_ADMIN_KEY, help="the x-api-key the simulator accepts")
    parser.add_argument("--fault", action="append", default=[], choices=sorted(FAULTS),
                        help="queue a fault for the next API request (repeatable, served in order)")
    parser.add_argument("--late-data", action="store_true", help="first fetch of a bucket sees only its first half")
    parser.add_argument("--retry-after", type=int, default=1, help="retry-after seconds of an injected 429")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    args = parser.parse_args(argv)
    state = SimulatorState(api_key=args.api_key, late_data=args.late_data, retry_after_s=args.retry_after)
    state.inject(*args.fault)
    with running_simulator(state, port=args.port, verbose=not args.quiet) as simulator:
        print(f"Admin API simulator on {simulator.base_url} (demo organisation; Ctrl-C stops it). Point the "
              f"collector at it:\n  export ANTHROPIC_BASE_URL={simulator.base_url}\n"
              f"  export ANTHROPIC_ADMIN_API_KEY={simulator.api_key}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopped")


if __name__ == "__main__":
    main()
