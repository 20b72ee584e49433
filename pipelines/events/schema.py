"""Usage event schema version 1 (docs/events.md) as an Arrow schema, and the per-line type check.

The same schema drives pyarrow's columnar JSON reader (the fast path) and the per-line check that
names the offending field when a block fails to parse (the slow path that isolates bad lines).
"""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

SCHEMA_VERSION = 1

TOKEN_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)
CACHE_CREATION_FIELDS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")

# Header names as sent by the API, without the "anthropic-ratelimit-" prefix.
RATELIMIT_FIELDS = (
    "requests-limit",
    "requests-remaining",
    "tokens-limit",
    "tokens-remaining",
    "input-tokens-limit",
    "input-tokens-remaining",
    "output-tokens-limit",
    "output-tokens-remaining",
)

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
        pa.field("service_tier", pa.string()),
        pa.field("usage", USAGE),
        pa.field("latency_ms", pa.float64()),
        pa.field("status", pa.int64()),
        pa.field("error_type", pa.string()),
        pa.field("request_id", pa.string()),
        pa.field("prompt_prefix_hash", pa.string()),
        pa.field("prompt_prefix_tokens", pa.int64()),
        pa.field("ratelimit", pa.struct([pa.field(n, pa.int64()) for n in RATELIMIT_FIELDS])),
    ]
)

REQUIRED_FIELDS = ("event_id", "ts", "model")

_INT64_MAX = 2**63 - 1


def check_line(line: bytes) -> dict[str, Any] | str:
    """Parse one line: the event as a dict that fits EVENT_SCHEMA, or the reason it does not.

    Only syntax and types are checked here; value rules (required fields, negative tokens,
    timestamps) are applied to every row, fast path or not, by ``validation``.
    """
    try:
        value = json.loads(line)
    except UnicodeDecodeError:
        return "line is not valid UTF-8"
    except json.JSONDecodeError as exc:
        return f"not valid JSON: {exc.msg} at column {exc.colno}"
    if not isinstance(value, dict):
        return f"not a JSON object (a {type(value).__name__})"
    problem = _type_problem(value, EVENT_SCHEMA, "")
    return problem if problem else value


def _type_problem(obj: dict[str, Any], fields: pa.Schema | pa.StructType, prefix: str) -> str | None:
    for field in fields:
        if field.name not in obj or obj[field.name] is None:
            continue
        value, name = obj[field.name], f"{prefix}{field.name}"
        if pa.types.is_struct(field.type):
            if not isinstance(value, dict):
                return f"{name} must be an object"
            problem = _type_problem(value, field.type, f"{name}.")
            if problem:
                return problem
        elif pa.types.is_integer(field.type):
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{name} must be an integer, got {json.dumps(value)[:40]}"
            if not -_INT64_MAX <= value <= _INT64_MAX:
                return f"{name} is out of range: {value}"
        elif pa.types.is_floating(field.type):
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{name} must be a number, got {json.dumps(value)[:40]}"
        elif not isinstance(value, str):
            return f"{name} must be a string, got {json.dumps(value)[:40]}"
    return None
