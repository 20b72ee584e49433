"""From one Messages API call's outcome to one schema-v1 usage event, handed to a sink without ever raising.

A ``Call`` is opened when the request starts (tags, request model, prefix fingerprint, start time) and
finished exactly once: with a message's usage, or with an error (a 429 is ``rate_limit_error`` with zero
usage). Building or writing the event may fail; that is logged and counted, never raised to the caller.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from pipelines.emitter.fingerprint import is_given, prompt_prefix
from pipelines.emitter.schema import RATELIMIT_FIELDS, SCHEMA_VERSION

log = logging.getLogger(__name__)

RATELIMIT_PREFIX = "anthropic-ratelimit-"
# error.type of the API's error body by HTTP status, for errors whose body names none.
ERROR_TYPE_OF_STATUS = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}
INCOMPLETE_STREAM = "incomplete_stream"  # the caller closed a stream before message_stop


def zero_usage() -> dict[str, Any]:
    return {
        "input_tokens": 0,
        "output_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "server_tool_use": {"web_search_requests": 0},
    }


class Sink(Protocol):
    def write(self, line: bytes) -> None: ...


@dataclass(frozen=True)
class Tags:
    """Attribution tags of an event; ``workspace_id`` / ``api_key_id`` as the Admin API names them."""

    team: str | None = None
    feature: str | None = None
    env: str | None = None
    user: str | None = None
    workspace_id: str | None = None
    api_key_id: str | None = None

    def merged(self, overrides: Mapping[str, Any] | None) -> Tags:
        """These tags with a call's overrides; unknown names are logged and ignored (never raised)."""
        if not overrides:
            return self
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            log.warning("ignoring unknown usage-event tags %s (known: %s)", unknown, sorted(known))
        return replace(self, **{k: None if v is None else str(v) for k, v in overrides.items() if k in known})


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def usage_of(usage: Any) -> dict[str, Any]:
    """The schema's fields of an SDK ``Usage`` (or dict), values as returned (None stays null)."""
    if usage is None:
        return zero_usage()
    creation = _get(usage, "cache_creation")
    server = _get(usage, "server_tool_use")
    return {
        "input_tokens": _get(usage, "input_tokens"),
        "output_tokens": _get(usage, "output_tokens"),
        "cache_read_input_tokens": _get(usage, "cache_read_input_tokens"),
        "cache_creation_input_tokens": _get(usage, "cache_creation_input_tokens"),
        "cache_creation": None if creation is None else {
            "ephemeral_5m_input_tokens": _get(creation, "ephemeral_5m_input_tokens"),
            "ephemeral_1h_input_tokens": _get(creation, "ephemeral_1h_input_tokens"),
        },
        "server_tool_use": None if server is None else {"web_search_requests": _get(server, "web_search_requests")},
    }


# The price dimensions the response's usage names (``usage.service_tier``, ``usage.inference_geo`` and, with the
# fast-mode beta, ``usage.speed``); a request's ``speed`` / ``inference_geo`` stand in when the response is silent.
BILLING_FIELDS = ("service_tier", "speed", "inference_geo")


def billing_of(usage: Any) -> dict[str, Any]:
    """The billing dimensions a response's usage reports (absent ones are None)."""
    return {name: None if usage is None else _get(usage, name) for name in BILLING_FIELDS}


def merge_delta_usage(usage: dict[str, Any], delta: Any) -> None:
    """Apply a ``message_delta`` usage: its counts are cumulative totals and overwrite; absent ones keep
    the ``message_start`` value (the SDK's own accumulation does the same)."""
    usage["output_tokens"] = _get(delta, "output_tokens")
    for name in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"):
        value = _get(delta, name)
        if value is not None:
            usage[name] = value
    server = _get(delta, "server_tool_use")
    if server is not None:
        usage["server_tool_use"] = {"web_search_requests": _get(server, "web_search_requests")}


def ratelimit_of(headers: Any) -> dict[str, int] | None:
    """The integer ``anthropic-ratelimit-*`` headers, named without that prefix; None when there are none."""
    if headers is None:
        return None
    found = {}
    for name in RATELIMIT_FIELDS:
        value = headers.get(RATELIMIT_PREFIX + name)
        if value is not None and value.strip().isdigit():
            found[name] = int(value)
    return found or None


def error_type_of(exc: BaseException) -> tuple[int | None, str]:
    """(HTTP status or None, the API's error type) of an SDK exception."""
    status = getattr(exc, "status_code", None)
    kind = getattr(exc, "type", None)
    if not isinstance(kind, str):
        error = _get(getattr(exc, "body", None), "error") if isinstance(getattr(exc, "body", None), Mapping) else None
        kind = _get(error, "type") if isinstance(error, Mapping) else None
    if not isinstance(kind, str) or not kind:
        name = type(exc).__name__
        kind = ERROR_TYPE_OF_STATUS.get(status) or ("timeout_error" if "Timeout" in name else
                                                     "api_connection_error" if "Connection" in name else "api_error")
    return status if isinstance(status, int) else None, kind


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Call:
    """One Messages API call in flight; ``finish`` / ``fail`` emit its event, whichever comes first, once."""

    def __init__(self, emitter: Emitter, tags: Tags, request: Mapping[str, Any]) -> None:
        self._emitter = emitter
        self._done = False
        self._lock = threading.Lock()
        self.started = datetime.now(UTC)
        self._t0 = time.perf_counter()
        self.tags = tags
        self.request_model = request.get("model")
        self.sent_model = self.request_model
        self.ticket: Any = None  # the budget guard's Ticket of an admitted call (pipelines.emitter.guard)
        self.guard_action: str | None = None  # "block" (refused) or "downgrade" (sent on a cheaper model)
        self.guard_budget: str | None = None
        self.requested = {name: request.get(name) for name in ("speed", "inference_geo") if is_given(request.get(name))}
        try:
            self.prefix_hash, self.prefix_tokens = prompt_prefix(request.get("system"), request.get("tools"))
        except Exception as exc:  # an unusual parameter type must not break the call
            log.warning("prompt prefix not fingerprinted: %s", type(exc).__name__)
            self.prefix_hash, self.prefix_tokens = None, 0

    def _claim(self) -> bool:
        with self._lock:
            if self._done:
                return False
            self._done = True
            return True

    def finish(self, *, model: Any, usage: dict[str, Any] | None, billing: Mapping[str, Any], status: int | None,
               headers: Any, error_type: str | None = None) -> None:
        """``billing``: the response's ``billing_of(usage)``."""
        if not self._claim():
            return
        latency_ms = (time.perf_counter() - self._t0) * 1000
        if self.ticket is not None:
            self.ticket.settle(usage, billing)
        self._emitter.emit_safely(lambda: self._event(model, usage, billing, status, error_type, headers, latency_ms))

    def admitted(self, ticket: Any) -> None:
        """The guard let the call through (``ticket.model``: the model it is sent on)."""
        self.ticket = ticket
        self.sent_model = ticket.model
        if ticket.action is not None:
            self.guard_action, self.guard_budget = ticket.action, ticket.budget_id

    def refuse(self, refusal: Any) -> None:
        """The guard refused the call (a ``GuardRefusal``): nothing was sent, the event says why."""
        if not self._claim():
            return
        self.guard_action, self.guard_budget = "block", refusal.budget_id
        self._emitter.emit_safely(lambda: self._event(None, None, {}, None, refusal.error_type, None, 0.0))

    def fail(self, exc: BaseException) -> None:
        """The call ended in an SDK error: its status and error type, zero usage, the error response's headers."""
        if not self._claim():
            return
        latency_ms = (time.perf_counter() - self._t0) * 1000
        if self.ticket is not None:
            self.ticket.release()

        def build() -> dict[str, Any]:
            status, kind = error_type_of(exc)
            response = getattr(exc, "response", None)
            return self._event(None, None, {}, status, kind, getattr(response, "headers", None), latency_ms)

        self._emitter.emit_safely(build)

    def _event(self, model: Any, usage: dict[str, Any] | None, billing: Mapping[str, Any], status: int | None,
               error_type: str | None, headers: Any, latency_ms: float) -> dict[str, Any]:
        tags = self.tags
        workspace_id = tags.workspace_id or (headers.get("anthropic-workspace-id") if headers is not None else None)
        return {
            "schema_version": SCHEMA_VERSION,
            "event_id": "evt_" + uuid.uuid4().hex,
            "ts": _rfc3339(self.started),
            "team": tags.team,
            "feature": tags.feature,
            "env": tags.env,
            "user": tags.user,
            "workspace_id": workspace_id,
            "api_key_id": tags.api_key_id,
            "model": str(model or self.sent_model or ""),
            "requested_model": None if self.request_model is None else str(self.request_model),
            "service_tier": str(billing.get("service_tier") or "standard"),
            "speed": str(billing.get("speed") or self.requested.get("speed") or "standard"),
            "inference_geo": billing.get("inference_geo") or self.requested.get("inference_geo"),
            "usage": usage if usage is not None else zero_usage(),
            "latency_ms": round(latency_ms),
            "status": status,
            "error_type": error_type,
            "request_id": headers.get("request-id") if headers is not None else None,
            "prompt_prefix_hash": self.prefix_hash,
            "prompt_prefix_tokens": self.prefix_tokens,
            "ratelimit": ratelimit_of(headers),
            "guard_action": self.guard_action,
            "guard_budget": self.guard_budget,
        }


class Emitter:
    """Tags given at wrap time and the sink events go to; counts what was written and what was lost."""

    def __init__(self, sink: Sink, tags: Tags | None = None) -> None:
        self.sink = sink
        self.tags = tags or Tags()
        self.guard: Any = None  # the BudgetGuard of instrument(..., guard=...)
        self.emitted = 0
        self.failed = 0
        self._count_lock = threading.Lock()

    def start(self, request: Mapping[str, Any], call_tags: Mapping[str, Any] | None) -> Call:
        try:
            tags = self.tags.merged(call_tags)
        except Exception as exc:  # e.g. ledger_tags that is not a mapping: the call goes ahead untagged
            log.warning("ignoring per-call usage-event tags (%s)", type(exc).__name__)
            tags = self.tags
        return Call(self, tags, request)

    def emit_safely(self, build: Any) -> None:
        """Build the event and write it as one JSON line; any failure is logged and counted, not raised."""
        try:
            line = json.dumps(build(), separators=(",", ":"), ensure_ascii=False).encode() + b"\n"
            self.sink.write(line)
        except Exception as exc:
            with self._count_lock:
                self.failed += 1
            log.warning("usage event not written (%s: %s); %d lost so far", type(exc).__name__, exc, self.failed)
            return
        with self._count_lock:
            self.emitted += 1
