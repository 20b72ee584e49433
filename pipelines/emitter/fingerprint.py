"""The prompt-prefix fingerprint of a request: a hash and a size estimate of system + tools, never the text.

The hash is the SHA-256 of the canonical JSON of ``{"system": ..., "tools": ...}`` (keys sorted, no
whitespace, UTF-8, ``cache_control`` markers left out so that switching caching on does not change the
prefix's identity). The token count is an estimate: characters of that canonical JSON / 4, rounded up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any


def is_given(value: Any) -> bool:
    """False for a missing argument: None or the SDK's ``NOT_GIVEN`` / ``omit`` sentinels."""
    return value is not None and type(value).__name__ not in {"NotGiven", "Omit"}


def _plain(value: Any) -> Any:
    if hasattr(value, "model_dump"):  # a pydantic model, e.g. an SDK type passed as a parameter
        value = value.model_dump(exclude_none=True)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items() if k != "cache_control"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def estimated_tokens(canonical: str) -> int:
    """The size estimate of this module: characters / 4, rounded up."""
    return -(-len(canonical) // 4)


def request_tokens(system: Any, tools: Any, messages: Any) -> int:
    """Estimated input tokens of a request (system + tools + messages, as canonical JSON), for the budget
    guard when the count-tokens endpoint is not used."""
    return estimated_tokens(_canonical({name: _plain(value) for name, value in
                                        (("system", system), ("tools", tools), ("messages", messages))
                                        if is_given(value)}))


def prompt_prefix(system: Any, tools: Any) -> tuple[str | None, int]:
    """(hex SHA-256, estimated tokens) of the stable prefix, or (None, 0) when the request has neither."""
    system = _plain(system) if is_given(system) else None
    tools = _plain(tools) if is_given(tools) else None
    if not system and not tools:
        return None, 0
    canonical = _canonical({"system": system or None, "tools": tools or None})
    return hashlib.sha256(canonical.encode()).hexdigest(), estimated_tokens(canonical)
