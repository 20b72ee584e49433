"""Usage event schema version 1 (docs/events.md) as an Arrow schema, and the per-line type check.

The same schema drives pyarrow's columnar JSON reader (the fast path) and the per-line check that
names the offending field when a block fails to parse (the slow path that isolates bad lines).
"""

from __future__ import annotations

from typing import Any

import orjson
import pyarrow as pa

from pipelines.emitter.schema import RATELIMIT_FIELDS

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
CACHE_CREATION_FIELDS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")

USAGE = pa.struct(
    [
        *[pa.field(name, pa.int64()) for name in TOKEN_FIELDS],
        pa.field("cache_creation", pa.struct([pa.field(n, pa.int64()) for n in CACHE_CREATION_FIELDS])),
        pa.field("server_tool_use", pa.struct([pa.field("web_search_requests", pa.int64())])),
    ]
)

EVENT_SCHEMA = pa.schema(
    [
        pa.field("schema_version", pa.int64()),
        pa.field("event_id", pa.string()),
        pa.field("ts", pa.string()),
        pa.field("team", pa.string()),
        pa.field("feature", pa.string()),
        pa.field("env", pa.string()),
        pa.field("user", pa.string()),
        pa.field("workspace_id", pa.string()),
        pa.field("api_key_id", pa.string()),
        pa.field("model", pa.string()),
        pa.field("requested_model", pa.string()),
        pa.field("service_tier", pa.string()),
        pa.field("speed", pa.string()),
        pa.field("inference_geo", pa.string()),
        pa.field("usage", USAGE),
        pa.field("latency_ms", pa.float64()),
        pa.field("status", pa.int64()),
        pa.field("error_type", pa.string()),
        pa.field("request_id", pa.string()),
        pa.field("prompt_prefix_hash", pa.string()),
        pa.field("prompt_prefix_tokens", pa.int64()),
        pa.field("ratelimit", pa.struct([pa.field(n, pa.int64()) for n in RATELIMIT_FIELDS])),
        pa.field("guard_action", pa.string()),
        pa.field("guard_budget", pa.string()),
    ]
)

_INT64_MAX = 2**63 - 1
Spec = tuple[tuple[str, Any], ...]


def _compile(fields: pa.Schema | pa.StructType) -> Spec:
    """EVENT_SCHEMA as (name, expected Python type or nested spec) pairs, checked per line."""
    spec = []
    for f in fields:
        if pa.types.is_struct(f.type):
            spec.append((f.name, _compile(f.type)))
        elif pa.types.is_integer(f.type):
            spec.append((f.name, int))
        elif pa.types.is_floating(f.type):
            spec.append((f.name, float))
        else:
            spec.append((f.name, str))
    return tuple(spec)


_SPEC = _compile(EVENT_SCHEMA)
_ALLOWED = {int: frozenset({type(None), int}), float: frozenset({type(None), int, float}),
            str: frozenset({type(None), str})}


def _fast(spec: Spec) -> tuple[tuple[str, frozenset[type], Any], ...]:
    """The spec as (name, allowed types, nested) triples for the yes/no check of every line."""
    return tuple(
        (name, frozenset({type(None), dict}), _fast(expected)) if type(expected) is tuple
        else (name, _ALLOWED[expected], None)
        for name, expected in spec
    )


_FAST = _fast(_SPEC)


def _types_ok(obj: dict[str, Any], spec: tuple[tuple[str, frozenset[type], Any], ...]) -> bool:
    get = obj.get
    for name, allowed, nested in spec:
        value = get(name)
        if type(value) not in allowed:
            return False
        if nested is not None and value is not None and not _types_ok(value, nested):
            return False
    return True


def check_line(line: bytes) -> str | None:
    """Why one line cannot be an event (syntax or types), or None when it can.

    Value rules (required fields, negative tokens, timestamps) are applied afterwards to every row,
    fast path or not, by ``validation``.
    """
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if isinstance(exc.__cause__, UnicodeDecodeError) or "utf-8" in str(exc).lower():
            return "line is not valid UTF-8"
        return f"not valid JSON at column {exc.colno}: {exc.msg}"
    if type(value) is not dict:
        return f"not a JSON object (a {type(value).__name__})"
    if _types_ok(value, _FAST):
        return None
    return _type_problem(value, _SPEC, "")


def _type_problem(obj: dict[str, Any], spec: Spec, prefix: str) -> str | None:
    for name, expected in spec:
        value = obj.get(name)
        if value is None:
            continue
        kind = type(value)
        if type(expected) is tuple:
            if kind is not dict:
                return f"{prefix}{name} must be an object"
            problem = _type_problem(value, expected, f"{prefix}{name}.")
            if problem:
                return problem
        elif expected is int:
            if kind is not int:
                return f"{prefix}{name} must be an integer, got {orjson.dumps(value).decode()[:40]}"
            if not -_INT64_MAX <= value <= _INT64_MAX:
                return f"{prefix}{name} is out of range: {value}"
        elif expected is float:
            if kind is not int and kind is not float:
                return f"{prefix}{name} must be a number, got {orjson.dumps(value).decode()[:40]}"
        elif kind is not str:
            return f"{prefix}{name} must be a string, got {orjson.dumps(value).decode()[:40]}"
    return None
