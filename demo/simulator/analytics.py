"""The Usage and Cost Analytics API (beta) cost report of the simulator,
``GET /v1/organizations/analytics/cost_report``, for the demo organisation, from the same calls as the Admin API
reports.

The contract, as the anthropic Python SDK states it (github.com/anthropics/anthropic-sdk-python:
``resources/beta/organization/analytics/cost_report.py``, ``types/beta/organization/
beta_analytics_cost_report_time_bucket.py`` and ``beta_analytics_cost_bucketed_result.py``; the reference page
https://platform.claude.com/docs/en/api/python/beta/organization/analytics/cost names the beta header
``analytics-usage-cost-2026-08-24``), read 2026-12:

- query: ``starting_at`` (required, no earlier than 2026-01-01), ``ending_at`` (default: the earlier of now and
  ``starting_at`` + 31 days; the range spans at most 31 days), ``bucket_width`` (``1d``, ``1h``, ``1m``),
  ``group_by[]``, ``limit`` (time buckets per page; ``1d``: default 7, max 31) and ``page`` (the previous answer's
  ``next_page``);
- answer: ``data`` (time buckets: ``starting_at``, ``ending_at``, ``results``) and ``next_page`` (null on the last
  page);
- a bucket's ``results``: empty when it has no data; without ``group_by[]`` one combined row; grouped, one row per
  group, at most the top 100 groups and no remainder row (the groups may fall short of the total);
- a row: ``amount`` (after discounts, before credits) and ``list_amount``, strings in fractional cents,
  ``currency`` ("USD"), ``requests``, and each dimension of ``group_by[]`` (null when not grouped by it).

What the simulator serves of it: daily buckets, grouped by ``product`` and ``model`` (the other documented
dimensions answer 400 here). ``product`` is ``claude_code`` for calls in the Claude Code workspace and null for the
rest (usage no known surface produced, as the reference allows). The discount is ``state.analytics_discount`` of
list (``amount`` = list x (1 - discount)); the data lags ``state.analytics_lag`` behind now (a bucket holds only the
calls before ``now - lag``). Error bodies and fault injection are the server's (``demo/simulator/server.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from demo.organisation import Call
from demo.simulator.reports import cents, cost_lines

if TYPE_CHECKING:
    from demo.simulator.server import AdminApi

ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost_report"
ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
DOCUMENTED_DIMENSIONS = ("claude_tag_category", "claude_tag_user_id", "context_window", "cost_type", "inference_geo",
                         "model", "product", "rbac_group_id", "slack_channel_id", "speed", "token_type")
SERVED_DIMENSIONS = ("product", "model")
BUCKET_LIMITS = (7, 31)  # daily buckets per page: (default, maximum)
EARLIEST = datetime(2026, 1, 1, tzinfo=UTC)
MAX_RANGE = timedelta(days=31)
DAY = timedelta(days=1)


def cost_rows(calls: Iterable[Call], day: date, group_by: list[str], discount: Decimal, top_groups: int,
              claude_code_workspace: str) -> list[dict]:
    """The day's rows: one combined row ungrouped, else the top groups by amount; list = the cost report's."""
    list_usd: dict[tuple[str | None, str | None], Decimal] = defaultdict(Decimal)
    requests: dict[tuple[str | None, str | None], int] = defaultdict(int)

    def key(workspace: str | None, model: str | None) -> tuple[str | None, str | None]:
        product = "claude_code" if workspace == claude_code_workspace else None
        return (product if "product" in group_by else None, model if "model" in group_by else None)

    calls = list(calls)
    for line, usd in cost_lines(calls, day).items():
        list_usd[key(line.workspace, line.model)] += usd
    for call in calls:
        requests[key(call.feature.workspace_id, call.feature.model)] += 1
    ranked = sorted(list_usd.items(), key=lambda kv: (-kv[1], tuple(v or "" for v in kv[0])))[:top_groups]
    return [{"amount": cents(usd * (1 - discount)), "list_amount": cents(usd), "currency": "USD",
             "requests": requests.get(group, 0), "product": group[0], "model": group[1]}
            for group, usd in ranked]


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cost_report(api: AdminApi, query: dict[str, list[str]], headers: dict[str, str]) -> dict:
    """One page of daily buckets of the analytics cost report."""
    from demo.simulator.server import ApiError, _betas, _group_by, _one, _time  # the server's parameter rules

    if ANALYTICS_BETA not in _betas(headers):
        raise ApiError(400, f"anthropic-beta: the Analytics API requires the {ANALYTICS_BETA} beta header")
    width = _one(query, "bucket_width") or "1d"
    if width != "1d":
        raise ApiError(400, f"bucket_width: the simulator serves only '1d' buckets, got {width!r}")
    group_by = _group_by(query, DOCUMENTED_DIMENSIONS)
    if unserved := [d for d in group_by if d not in SERVED_DIMENSIONS]:
        raise ApiError(400, f"group_by: the simulator serves only {', '.join(SERVED_DIMENSIONS)}, not "
                       f"{', '.join(unserved)}")
    start = _time(query, "starting_at", required=True)
    end = _time(query, "ending_at", required=False)
    if start < EARLIEST:
        raise ApiError(400, "starting_at: must be no earlier than 2026-01-01T00:00:00Z")
    if end is not None and end - start > MAX_RANGE:
        raise ApiError(400, "ending_at: the range may span at most 31 days")
    state = api.state
    fresh_until = state.now() - state.analytics_lag
    starts, next_page = api._buckets(query, width, BUCKET_LIMITS)
    data = []
    for bucket in starts:
        calls = api.calls(bucket, min(bucket + DAY, fresh_until))  # nothing after the data's lag yet
        results = cost_rows(calls, bucket.date(), group_by, state.analytics_discount, state.analytics_top_groups,
                            state.claude_code_workspace)
        data.append({"starting_at": _rfc3339(bucket), "ending_at": _rfc3339(bucket + DAY), "results": results})
    return {"data": data, "next_page": next_page}
