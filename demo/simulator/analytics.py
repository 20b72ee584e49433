"""The Usage and Cost Analytics API (beta) of the simulator: ``/v1/organizations/analytics/{usage_report,
cost_report}`` for the demo organisation, from the same calls as the Admin API reports.

Source: the Claude Enterprise Analytics API reference guide
(https://support.claude.com/en/articles/13703965-claude-enterprise-analytics-api-reference-guide): base URL
``https://api.anthropic.com/v1/organizations/analytics/``, ``x-api-key`` with the ``read:analytics`` scope, cursor
pagination (``limit``, ``page`` = the previous answer's ``next_page``). The cost and usage endpoints' field list could
not be read from the public reference at the time of writing; the fields below follow the issue text (issue 14):
``amount`` (after discounts) and ``list_amount``, both decimal strings in cents like the cost report, a
``currency``, a ``data_refreshed_at`` watermark, at most the top 100 groups per bucket, rows that overlap.

Shape of one bucket's ``results`` (``row_type`` says which rows overlap):

- one ``total`` row: the whole bucket, every grouped dimension null;
- up to ``top_groups`` (100) ``group`` rows, the largest by ``list_amount`` first;
- when more groups exist, one ``other`` row: the remainder, dimensions null, ``groups`` = how many it holds.

``total`` = the sum of the ``group`` rows plus ``other``: a client summing every row counts the bucket twice.
The discount is ``state.analytics_discount`` of list (``amount`` = list x (1 - discount)). ``data_refreshed_at``
is ``now - state.analytics_lag``; buckets after it are empty. Validation, error bodies and fault injection are
the server's (``demo/simulator/server.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from demo.organisation import Call
from demo.simulator.reports import cents, cost_lines

if TYPE_CHECKING:
    from demo.simulator.server import AdminApi

ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost_report"
ANALYTICS_USAGE_PATH = "/v1/organizations/analytics/usage_report"
ANALYTICS_DIMENSIONS = ("workspace_id", "model")
ANALYTICS_BUCKET_LIMITS = (7, 31)  # daily buckets per page: (default, maximum)
DAY = timedelta(days=1)
USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")


def _key(workspace: str | None, model: str | None, group_by: list[str]) -> tuple[str | None, str | None]:
    return (workspace if "workspace_id" in group_by else None, model if "model" in group_by else None)


def _rows(sums: dict[tuple[str | None, str | None], dict[str, Decimal]], top_groups: int,
          render: Callable[[dict[str, Decimal]], dict]) -> list[dict]:
    """total row, the top groups by their first measure, and the remainder as one ``other`` row."""
    measures = next(iter(sums.values())).keys() if sums else ()
    total = {m: sum((s[m] for s in sums.values()), Decimal(0)) for m in measures}
    ranked = sorted(sums.items(), key=lambda kv: (-next(iter(kv[1].values())), tuple(v or "" for v in kv[0])))
    top, rest = ranked[:top_groups], ranked[top_groups:]
    rows = [{"row_type": "total", "workspace_id": None, "model": None, **render(total)}] if sums else []
    rows += [{"row_type": "group", "workspace_id": ws, "model": model, **render(values)}
             for (ws, model), values in top]
    if rest:
        other = {m: sum((values[m] for _k, values in rest), Decimal(0)) for m in measures}
        rows.append({"row_type": "other", "workspace_id": None, "model": None, "groups": len(rest), **render(other)})
    return rows


def cost_rows(calls: Iterable[Call], day: date, group_by: list[str], discount: Decimal, top_groups: int
              ) -> list[dict]:
    """The day's analytics cost rows: list = the cost report's amount, net = list x (1 - discount)."""
    sums: dict[tuple[str | None, str | None], dict[str, Decimal]] = defaultdict(
        lambda: {"list": Decimal(0), "net": Decimal(0)})
    for line, usd in cost_lines(calls, day).items():
        group = sums[_key(line.workspace, line.model, group_by)]
        group["list"] += usd
        group["net"] += usd * (1 - discount)
    return _rows(sums, top_groups, lambda v: {"currency": "USD", "list_amount": cents(v["list"]),
                                              "amount": cents(v["net"])})


def usage_rows(calls: Iterable[Call], group_by: list[str], top_groups: int) -> list[dict]:
    sums: dict[tuple[str | None, str | None], dict[str, Decimal]] = defaultdict(
        lambda: {name: Decimal(0) for name in USAGE_FIELDS})
    for call in calls:
        group = sums[_key(call.feature.workspace_id, call.feature.model, group_by)]
        group["input_tokens"] += call.input_tokens
        group["output_tokens"] += call.output_tokens
        group["cache_read_input_tokens"] += call.cache_read
        group["cache_creation_input_tokens"] += call.cache_write_5m + call.cache_write_1h
    # ranked by input tokens (the first measure)
    return _rows(sums, top_groups, lambda v: {name: int(v[name]) for name in USAGE_FIELDS})


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def report(api: AdminApi, query: dict[str, list[str]], kind: str) -> dict:
    """One page of daily buckets of the analytics ``kind`` ("cost" or "usage") report."""
    from demo.simulator.server import ApiError, _group_by, _one  # the server's parameter rules

    width = _one(query, "bucket_width") or "1d"
    if width != "1d":
        raise ApiError(400, f"bucket_width: the analytics reports support only '1d', got {width!r}")
    group_by = _group_by(query, ANALYTICS_DIMENSIONS)
    state = api.state
    refreshed = (state.now() - state.analytics_lag).replace(minute=0, second=0, microsecond=0)
    starts, next_page = api._buckets(query, width, ANALYTICS_BUCKET_LIMITS)
    data = []
    for start in starts:
        calls = api.calls(start, min(start + DAY, refreshed))  # nothing after the watermark yet
        results = (cost_rows(calls, start.date(), group_by, state.analytics_discount, state.analytics_top_groups)
                   if kind == "cost" else usage_rows(calls, group_by, state.analytics_top_groups))
        data.append({"starting_at": _rfc3339(start), "ending_at": _rfc3339(start + DAY), "results": results})
    return {"data": data, "has_more": next_page is not None, "next_page": next_page,
            "data_refreshed_at": _rfc3339(refreshed)}
