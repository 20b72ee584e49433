"""Value rules for usage events, applied column-wise to parsed rows, and the mapping to table columns.

Token semantics (DESIGN.md): ``cache_creation_input_tokens`` is the sum of the 5-minute and 1-hour
breakdown and is counted once; without a breakdown it is all 5-minute writes. A breakdown that does
not add up to the total is rejected rather than guessed at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.emitter.schema import RATELIMIT_FIELDS, SCHEMA_VERSION
from pipelines.events.parsing import LINE_COLUMN
from pipelines.events.schema import TOKEN_FIELDS

TS_TYPE = pa.timestamp("ms", tz="UTC")
TS_MIN = datetime(2000, 1, 1, tzinfo=UTC)
TS_MAX = datetime(2100, 1, 1, tzinfo=UTC)


@dataclass
class Validated:
    events: pa.Table  # columns of usage_events, without source / ingested_at
    rejected_lines: list[int]
    rejected_reasons: list[str]


def _usage(table: pa.Table, *path: str) -> pa.Array:
    return pc.struct_field(table.column("usage").combine_chunks(), list(path))


def _parse_ts(ts: pa.ChunkedArray) -> pa.Array:
    """RFC 3339 strings (any offset) to UTC milliseconds; null where a value does not parse."""
    try:
        return pc.cast(ts, TS_TYPE).combine_chunks()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = []
        for value in ts.to_pylist():
            try:
                parsed.append(pc.cast(pa.scalar(value), TS_TYPE).as_py() if value is not None else None)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                parsed.append(None)
        return pa.array(parsed, TS_TYPE)


def _blank(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return pc.or_(pc.is_null(column), pc.equal(pc.utf8_length(pc.fill_null(column, "")), 0))


def _negative(column: pa.Array) -> pa.Array:
    return pc.less(column, 0)


def validate(table: pa.Table) -> Validated:
    tokens = {name: _usage(table, name) for name in TOKEN_FIELDS}
    write_5m = _usage(table, "cache_creation", "ephemeral_5m_input_tokens")
    write_1h = _usage(table, "cache_creation", "ephemeral_1h_input_tokens")
    web_search = _usage(table, "server_tool_use", "web_search_requests")
    has_breakdown = pc.or_(pc.is_valid(write_5m), pc.is_valid(write_1h))
    breakdown_sum = pc.add(pc.fill_null(write_5m, 0), pc.fill_null(write_1h, 0))
    total_writes = tokens["cache_creation_input_tokens"]
    ts = _parse_ts(table.column("ts"))

    checks: list[tuple[pa.Array, str]] = [
        (pc.not_equal(table.column("schema_version"), SCHEMA_VERSION), "unsupported schema_version"),
        (_blank(table.column("event_id")), "missing required field event_id"),
        (pc.is_null(table.column("ts")), "missing required field ts"),
        (_blank(table.column("model")), "missing required field model"),
        *[(_negative(column), f"usage.{name} is negative") for name, column in tokens.items()],
        (_negative(write_5m), "usage.cache_creation.ephemeral_5m_input_tokens is negative"),
        (_negative(write_1h), "usage.cache_creation.ephemeral_1h_input_tokens is negative"),
        (_negative(web_search), "usage.server_tool_use.web_search_requests is negative"),
        (
            pc.and_(pc.and_(has_breakdown, pc.is_valid(total_writes)), pc.not_equal(breakdown_sum, total_writes)),
            "usage.cache_creation breakdown (5m + 1h) does not sum to cache_creation_input_tokens",
        ),
        (_negative(table.column("prompt_prefix_tokens")), "prompt_prefix_tokens is negative"),
        (pc.or_(_negative(table.column("latency_ms")), pc.greater(table.column("latency_ms"), 2**32 - 1)),
         "latency_ms is out of range"),
        (pc.or_(_negative(table.column("status")), pc.greater(table.column("status"), 999)),
         "status is not an HTTP status code"),
        (pc.is_null(ts), "ts is not an RFC 3339 timestamp with a UTC offset"),
        (pc.or_(pc.less(ts, pa.scalar(TS_MIN, TS_TYPE)), pc.greater_equal(ts, pa.scalar(TS_MAX, TS_TYPE))),
         "ts is outside 2000-01-01 .. 2100-01-01"),
    ]
    reason = pa.nulls(table.num_rows, pa.string())
    for mask, text in reversed(checks):  # the first failing check names the reason
        reason = pc.if_else(pc.fill_null(mask, False), text, reason)
    bad = pc.is_valid(reason)
    rejected = table.filter(bad)
    good = pc.invert(bad)
    return Validated(
        events=_event_columns(table.filter(good), ts.filter(good)),
        rejected_lines=rejected.column(LINE_COLUMN).to_pylist(),
        rejected_reasons=reason.filter(bad).to_pylist(),
    )


def _event_columns(table: pa.Table, ts: pa.Array) -> pa.Table:
    """usage_events columns for rows that passed every rule (so no value is negative)."""
    write_5m = _usage(table, "cache_creation", "ephemeral_5m_input_tokens")
    write_1h = _usage(table, "cache_creation", "ephemeral_1h_input_tokens")
    has_breakdown = pc.or_(pc.is_valid(write_5m), pc.is_valid(write_1h))
    cache_5m = pc.if_else(has_breakdown, pc.fill_null(write_5m, 0),
                          pc.fill_null(_usage(table, "cache_creation_input_tokens"), 0))

    def uint(column: pa.Array | pa.ChunkedArray) -> pa.Array:
        return pc.cast(pc.fill_null(column, 0), pa.uint64())

    def text(name: str, default: str = "") -> pa.Array:
        return pc.fill_null(table.column(name), default)

    return pa.table(
        {
            "event_id": table.column("event_id"),
            "ts": ts,
            "schema_version": pc.cast(pc.fill_null(table.column("schema_version"), SCHEMA_VERSION), pa.uint8()),
            "team": text("team"),
            "feature": text("feature"),
            "env": text("env"),
            "user": text("user"),
            "workspace_id": text("workspace_id"),
            "api_key_id": text("api_key_id"),
            "model": table.column("model"),
            "requested_model": text("requested_model"),
            "service_tier": text("service_tier", "standard"),
            "speed": text("speed", "standard"),
            "inference_geo": text("inference_geo"),
            "input_tokens": uint(_usage(table, "input_tokens")),
            "output_tokens": uint(_usage(table, "output_tokens")),
            "cache_read_input_tokens": uint(_usage(table, "cache_read_input_tokens")),
            "cache_write_5m_tokens": uint(cache_5m),
            "cache_write_1h_tokens": uint(write_1h),
            "web_search_requests": uint(_usage(table, "server_tool_use", "web_search_requests")),
            "latency_ms": pc.cast(pc.round(table.column("latency_ms")), pa.uint32()),
            "status": pc.cast(table.column("status"), pa.uint16()),
            "error_type": text("error_type"),
            "request_id": text("request_id"),
            "prompt_prefix_hash": text("prompt_prefix_hash"),
            "prompt_prefix_tokens": uint(table.column("prompt_prefix_tokens")),
            "ratelimit": _ratelimit_map(table),
            "guard_action": text("guard_action"),
            "guard_budget": text("guard_budget"),
            LINE_COLUMN: table.column(LINE_COLUMN),
        }
    )


def _ratelimit_map(table: pa.Table) -> pa.Array:
    """The ``ratelimit`` object as a Map of the headers that were present (and not negative)."""
    struct = table.column("ratelimit").combine_chunks()
    values = np.column_stack(
        [pc.fill_null(pc.struct_field(struct, [name]), -1).to_numpy(zero_copy_only=False)
         for name in RATELIMIT_FIELDS]
    ) if table.num_rows else np.empty((0, len(RATELIMIT_FIELDS)), dtype=np.int64)
    present = values >= 0
    offsets = np.concatenate([[0], np.cumsum(present.sum(axis=1))]).astype(np.int32)
    keys = np.broadcast_to(np.array(RATELIMIT_FIELDS, dtype=object), values.shape)[present]
    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()),
        pa.array(keys, pa.string()),
        pa.array(values[present], pa.uint64()),
    )
