"""The Rate Limits API of the simulator: the organisation's configured limits and each workspace's.

Contract (https://platform.claude.com/docs/en/manage-claude/rate-limits-api, and the references
https://platform.claude.com/docs/en/api/admin/rate_limits/list and
https://platform.claude.com/docs/en/api/admin/workspaces/rate_limits/list):

- ``GET /v1/organizations/rate_limits``: ``{"data": [entry], "next_page": str | null}``, one entry per
  rate-limit group: ``{"type": "rate_limit", "id", "group": {"type": "model_group", "id": "rlg_…",
  "display_name"}, "group_type" (deprecated, equals group.type), "models": [ids and aliases] | null,
  "limits": [{"type": "requests_per_minute" | "input_tokens_per_minute" | …, "value"}]}``. Parameters:
  ``group_type`` (batch, files, model_group, skills, token_count, web_search), ``model`` (the one entry
  containing it, 404 when there is none), ``limit`` 1..1000 (omitted: everything in one page, ``next_page``
  null) and ``page`` (the previous answer's ``next_page``).
- ``GET /v1/organizations/workspaces/{workspace_id}/rate_limits``: entries of type ``workspace_rate_limit``
  whose limits carry ``org_limit`` (null when the organisation has no limit of that type) and ``source``
  (``{"type": "workspace"}`` for an override, ``{"type": "organization"}`` for an inherited value, listed
  only with ``include_inherited=true``; then ``value`` equals ``org_limit``). Without
  ``include_inherited`` only the groups with an override are listed.

A problem with the request raises ``RateLimitQueryError`` with the HTTP status and message the server answers.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence

from demo.organisation import RateLimitGroup

GROUP_TYPES = ("batch", "files", "model_group", "skills", "token_count", "web_search")
PAGE_LIMITS = (1, 1000)


class RateLimitQueryError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _group(group: RateLimitGroup) -> dict:
    return {"type": "model_group", "id": group.id, "display_name": group.display_name}


def _page(entries: list[dict], limit: int | None, page: str | None) -> dict:
    """One page: entries from the ``page`` token's offset on, ``limit`` of them (all when omitted)."""
    first = _offset(page, len(entries)) if page else 0
    last = len(entries) if limit is None else min(len(entries), first + limit)
    return {"data": entries[first:last], "next_page": _token(last) if last < len(entries) else None}


def _token(offset: int) -> str:
    return "rlpage_" + base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset(token: str, size: int) -> int:
    try:
        text = base64.urlsafe_b64decode(token.removeprefix("rlpage_").encode()).decode()
        offset = int(text.removeprefix("offset:"))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise RateLimitQueryError(400, "page: invalid page token") from None
    if not 0 < offset < size:
        raise RateLimitQueryError(400, "page: the page token does not belong to this query")
    return offset


def _check_group_type(group_type: str | None) -> None:
    if group_type is not None and group_type not in GROUP_TYPES:
        raise RateLimitQueryError(400, f"group_type: Input should be one of {', '.join(GROUP_TYPES)}, "
                                       f"got {group_type!r}")


def _wanted(group_type: str | None) -> bool:
    """Every simulated group is a model group."""
    return group_type in (None, "model_group")


def organization_rate_limits(groups: Sequence[RateLimitGroup], group_type: str | None, model: str | None,
                             limit: int | None, page: str | None) -> dict:
    _check_group_type(group_type)
    chosen = [g for g in groups if _wanted(group_type) and (model is None or model in g.models)]
    if model is not None and not chosen:
        raise RateLimitQueryError(404, f"model: {model!r} is not found or has no rate limits for this organization")
    entries = [{"type": "rate_limit", "id": f"rl_org_{g.id}", "group": _group(g), "group_type": "model_group",
                "models": list(g.models), "limits": [{"type": t, "value": v} for t, v in g.limits]}
               for g in chosen]
    return _page(entries, limit, page)


def workspace_rate_limits(groups: Sequence[RateLimitGroup],
                          overrides: Mapping[str, Mapping[str, tuple[tuple[str, int], ...]]],
                          workspace_id: str, group_type: str | None, include_inherited: bool, limit: int | None,
                          page: str | None) -> dict:
    """``overrides``: workspace id -> group id -> (limiter type, value); the caller checks the workspace exists."""
    _check_group_type(group_type)
    own = overrides.get(workspace_id, {})
    entries = []
    for group in groups:
        if not _wanted(group_type):
            continue
        org = dict(group.limits)
        overridden = dict(own.get(group.id, ()))
        values = [{"type": t, "value": v, "org_limit": org.get(t), "source": {"type": "workspace"}}
                  for t, v in overridden.items()]
        if include_inherited:
            values += [{"type": t, "value": v, "org_limit": v, "source": {"type": "organization"}}
                       for t, v in group.limits if t not in overridden]
        if values:
            entries.append({"type": "workspace_rate_limit", "id": f"rl_{workspace_id}_{group.id}",
                            "group": _group(group), "group_type": "model_group", "models": list(group.models),
                            "limits": values})
    return _page(entries, limit, page)
