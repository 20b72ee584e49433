"""Builders of usage-event lines (schema v1) for the ingest, Kafka and rate-limit tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def event(event_id: str, **overrides: Any) -> dict[str, Any]:
    """A valid schema-v1 usage event; ``overrides`` replace top-level fields (None removes one)."""
    base: dict[str, Any] = {
        "schema_version": 1,
        "event_id": event_id,
        "ts": "2026-10-05T10:15:00Z",
        "team": "search",
        "feature": "query-rewrite",
        "env": "prod",
        "workspace_id": "wrkspc_1",
        "api_key_id": "apikey_1",
        "model": "claude-haiku-4-5-20251001",
        "usage": {"input_tokens": 100, "output_tokens": 10},
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def line(payload: dict[str, Any] | str) -> str:
    return (payload if isinstance(payload, str) else json.dumps(payload)) + "\n"


def write_lines(path: Path, *payloads: dict[str, Any] | str) -> Path:
    path.write_text("".join(line(p) for p in payloads))
    return path
