"""Configured rate limits from the Rate Limits API, stored as the ``admin_rate_limits`` dimension (migration 0143).

Contract (https://platform.claude.com/docs/en/manage-claude/rate-limits-api; references
https://platform.claude.com/docs/en/api/admin/rate_limits/list and
https://platform.claude.com/docs/en/api/admin/workspaces/rate_limits/list): ``GET /v1/organizations/rate_limits``
answers one entry per rate-limit group, ``{"group": {"type": "model_group", "id", "display_name"}, "models":
[ids and aliases] | null, "limits": [{"type": "requests_per_minute", "value": 4000}, …]}``; the workspace
endpoint's limits also carry ``org_limit`` (null: the organisation has none of that type) and ``source``
(``{"type": "workspace"}`` for an override, ``{"type": "organization"}`` for an inherited value, listed with
``include_inherited=true``). Both paginate by ``next_page`` until it is null.

One fetch is one request for the organisation plus one per active workspace (names from ``admin_workspaces``),
all written with one ``fetched_at``; the rows of earlier fetches are then deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipelines.admin_api.client import (
    RATE_LIMITS_PATH,
    WORKSPACE_RATE_LIMITS_PATH,
    AdminApiClient,
    AdminApiError,
    Log,
    RequestStats,
)
from pipelines.admin_api.collect import fetch_time
from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.sql_files import Queries

sql = Queries(__file__)

ORGANIZATION = "organization"  # the scope of the organisation's own limits
COLUMNS = ["scope", "group_id", "group_type", "group_name", "models", "limit_type", "value", "org_limit",
           "inherited", "fetched_at"]


@dataclass(frozen=True)
class ConfiguredLimit:
    scope: str  # 'organization' or a workspace id
    group: str  # the group's display name, else its id
    limit_type: str
    value: int
    inherited: bool


@dataclass
class RateLimitsFetch:
    fetched_at: datetime
    workspaces: int
    limits: list[ConfiguredLimit]
    stats: RequestStats

    @property
    def overrides(self) -> list[ConfiguredLimit]:
        """The workspaces' values of their own (not inherited from the organisation)."""
        return [limit for limit in self.limits if limit.scope != ORGANIZATION and not limit.inherited]


def _field(entry: Any, name: str, where: str) -> Any:
    if not isinstance(entry, dict):
        raise AdminApiError(f"Admin API GET {where}: expected an object, got {entry!r}"[:300])
    value = entry.get(name)
    if value is None:
        raise AdminApiError(f"Admin API GET {where}: {name} is missing or null")
    return value


def _count(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise AdminApiError(f"Admin API GET {where}: expected a non-negative integer, got {value!r}")
    return value


def limit_rows(entries: list[dict], scope: str, path: str) -> list[list[Any]]:
    """Rows (without fetched_at) of one scope's entries; a null where the contract has a value is an error
    naming the endpoint, entry and field."""
    rows = []
    for i, entry in enumerate(entries):
        where = f"{path}: data[{i}]"
        group = _field(entry, "group", where)
        group_id = _field(group, "id", f"{where}.group")
        group_type = _field(group, "type", f"{where}.group")
        for j, limit in enumerate(_field(entry, "limits", where)):
            at = f"{where}.limits[{j}]"
            value = _count(_field(limit, "value", at), f"{at}.value")
            if scope == ORGANIZATION:
                org_limit, inherited = value, False
            else:
                raw_org = limit.get("org_limit")
                org_limit = None if raw_org is None else _count(raw_org, f"{at}.org_limit")
                inherited = _field(_field(limit, "source", at), "type", f"{at}.source") == ORGANIZATION
            rows.append([scope, group_id, group_type, group.get("display_name") or "", list(entry.get("models") or []),
                         _field(limit, "type", at), value, org_limit, inherited])
    return rows


def collect_rate_limits(api: AdminApiClient, ch: ClickHouseResource, log: Log | None = None) -> RateLimitsFetch:
    """The organisation's limits and every active workspace's (with what it inherits), replacing the table."""
    fetched_at = fetch_time()
    workspaces = [row[0] for row in ch.query_rows(sql("admin_rate_limits_workspaces"))]
    with api.session(log) as session:
        rows = limit_rows(list(session.rate_limits()), ORGANIZATION, RATE_LIMITS_PATH)
        for workspace_id in workspaces:
            rows += limit_rows(list(session.workspace_rate_limits(workspace_id)), workspace_id,
                               WORKSPACE_RATE_LIMITS_PATH.format(workspace_id=workspace_id))
    ch.replace("admin_rate_limits", COLUMNS, [[*row, fetched_at] for row in rows], sql("admin_rate_limits_clear_stale"),
               {"fetched_at": fetched_at})
    limits = [ConfiguredLimit(scope, name or group_id, limit_type, value, inherited)
              for scope, group_id, _, name, _, limit_type, value, _, inherited in rows]
    return RateLimitsFetch(fetched_at, len(workspaces), limits, session.stats)
