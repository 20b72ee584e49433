"""The Anthropic Admin API over httpx: authentication, pagination, and bounded retries.

The key is the resource's ``api_key``, an ``EnvVar("ANTHROPIC_ADMIN_API_KEY")`` (the UI shows the name,
never the value); its value lives only in the HTTP client's headers, is never logged, and is scrubbed
from any error text the API sends back.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from importlib import metadata
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from dagster import ConfigurableResource, get_dagster_logger
from pydantic import Field

from pipelines import settings
from pipelines.secrets import reveal, secret

API_VERSION = "2023-06-01"
# Grouping the usage report by speed, and the cost report's speed field, need the fast-mode beta
# (https://platform.claude.com/docs/en/build-with-claude/fast-mode).
BETA_HEADERS = "fast-mode-2026-02-01"
USAGE_REPORT_PATH = "/v1/organizations/usage_report/messages"
COST_REPORT_PATH = "/v1/organizations/cost_report"
WORKSPACES_PATH = "/v1/organizations/workspaces"
API_KEYS_PATH = "/v1/organizations/api_keys"
# The Rate Limits API (https://platform.claude.com/docs/en/manage-claude/rate-limits-api): configured limits of
# the organisation and of one workspace, paginated by ``next_page`` alone (no has_more).
RATE_LIMITS_PATH = "/v1/organizations/rate_limits"
WORKSPACE_RATE_LIMITS_PATH = "/v1/organizations/workspaces/{workspace_id}/rate_limits"
# One UTC day per call, cursor pages of up to 1000 records
# (https://platform.claude.com/docs/en/api/admin/usage_report/retrieve_claude_code).
CLAUDE_CODE_REPORT_PATH = "/v1/organizations/usage_report/claude_code"
# The Usage and Cost Analytics API (beta) cost report, daily buckets of at most 31 days per query, cursor pages by
# ``next_page`` alone, with its own beta header (docs/analytics_api.md; the anthropic Python SDK's
# resources/beta/organization/analytics/cost_report.py and
# https://platform.claude.com/docs/en/api/python/beta/organization/analytics/cost).
ANALYTICS_COST_PATH = "/v1/organizations/analytics/cost_report"
ANALYTICS_BETA = "analytics-usage-cost-2026-08-24"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504, 529})
MAX_BUCKETS_PER_PAGE = {"1m": 1440, "1h": 168, "1d": 31}
ERROR_TEXT_LIMIT = 300


class AdminApiError(RuntimeError):
    """A request that failed for good; the message names the endpoint and status, never the key."""


class Log(Protocol):
    def warning(self, msg: str, *args: Any) -> None: ...


@dataclass
class RequestStats:
    """What a session did, for materialisation metadata."""

    requests: int = 0
    pages: int = 0
    retries: int = 0
    retry_reasons: Counter[str] = field(default_factory=Counter)


def _user_agent() -> str:
    try:
        version = metadata.version("claude-ledger")
    except metadata.PackageNotFoundError:
        version = "dev"
    return f"claude-ledger/{version} (admin-api-collector) httpx/{httpx.__version__}"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class AdminApiClient(ConfigurableResource):
    """Anthropic Admin API client: ``ANTHROPIC_ADMIN_API_KEY`` and ``ANTHROPIC_BASE_URL`` from the environment."""

    api_key: str = Field(default="", description="Admin API key, EnvVar ANTHROPIC_ADMIN_API_KEY; empty: the "
                         "collector fails clearly and its schedules skip.")
    base_url: str = Field(default="", description="Empty: ANTHROPIC_BASE_URL, else https://api.anthropic.com.")
    timeout_s: float = Field(default=60.0, description="Read / write / pool timeout of one request.")
    connect_timeout_s: float = Field(default=10.0, description="Connect timeout of one request.")
    max_retries: int = Field(default=6, ge=0, description="Retries of one request (429, 5xx, 529, connection).")
    max_retry_time_s: float = Field(default=600.0, description="Give a request up once retrying would pass this.")
    backoff_base_s: float = Field(default=1.0, description="First backoff; doubles per retry, with jitter.")
    backoff_max_s: float = Field(default=60.0, description="Longest single backoff (retry-after may ask longer).")
    list_page_size: int = Field(default=100, ge=1, le=1000,
                                description="limit of workspace, API key and rate-limit list pages.")

    @classmethod
    def from_env(cls, **settings: Any) -> AdminApiClient:
        return cls(api_key=secret("ANTHROPIC_ADMIN_API_KEY"), **settings)

    @property
    def configured(self) -> bool:
        return bool(self.api_key)

    def resolved_base_url(self) -> str:
        return (self.base_url or settings.anthropic_base_url()).rstrip("/")

    @contextmanager
    def session(self, log: Log | None = None) -> Iterator[AdminApiSession]:
        """One HTTP connection pool with the key in its headers; fails at once when the key is unset."""
        key = reveal(self.api_key)
        if not key:
            raise AdminApiError(
                "ANTHROPIC_ADMIN_API_KEY is not set: the Admin API collector needs an Admin API key "
                "(sk-ant-admin…, created by an organisation admin in the Claude Console)."
            )
        headers = {"x-api-key": key, "anthropic-version": API_VERSION, "anthropic-beta": BETA_HEADERS,
                   "user-agent": _user_agent(), "accept": "application/json"}
        timeout = httpx.Timeout(self.timeout_s, connect=self.connect_timeout_s)
        with httpx.Client(base_url=self.resolved_base_url(), headers=headers, timeout=timeout) as http:
            yield AdminApiSession(http, self, key, log or get_dagster_logger())


class AdminApiSession:
    """Paginated reads of the endpoints the collectors use; ``stats`` counts requests, pages, retries."""

    def __init__(self, http: httpx.Client, config: AdminApiClient, key: str, log: Log) -> None:
        self._http = http
        self._config = config
        self._scrub = key
        self._log = log
        self.stats = RequestStats()

    def __repr__(self) -> str:
        return f"AdminApiSession({self._config.resolved_base_url()})"

    def usage_report(self, start: datetime, end: datetime, bucket_width: str, group_by: tuple[str, ...]
                     ) -> Iterator[dict]:
        """Buckets of ``/usage_report/messages`` in [start, end), every page."""
        params = {"starting_at": rfc3339(start), "ending_at": rfc3339(end), "bucket_width": bucket_width,
                  "group_by[]": list(group_by), "limit": MAX_BUCKETS_PER_PAGE[bucket_width]}
        return self._report(USAGE_REPORT_PATH, params)

    def cost_report(self, start: datetime, end: datetime, group_by: tuple[str, ...]) -> Iterator[dict]:
        """Daily buckets of ``/cost_report`` in [start, end), every page."""
        params = {"starting_at": rfc3339(start), "ending_at": rfc3339(end), "bucket_width": "1d",
                  "group_by[]": list(group_by), "limit": MAX_BUCKETS_PER_PAGE["1d"]}
        return self._report(COST_REPORT_PATH, params)

    def claude_code_report(self, day: date, limit: int) -> Iterator[dict]:
        """Records of ``/usage_report/claude_code`` for the UTC ``day``, every page."""
        return self._report(CLAUDE_CODE_REPORT_PATH, {"starting_at": day.isoformat(), "limit": limit})

    def workspaces(self) -> Iterator[dict]:
        return self._list(WORKSPACES_PATH, {"include_archived": "true"})

    def api_keys(self) -> Iterator[dict]:
        return self._list(API_KEYS_PATH, {})

    def rate_limits(self) -> Iterator[dict]:
        """The organisation's configured rate limits, one entry per rate-limit group."""
        return self._cursor(RATE_LIMITS_PATH, {"limit": self._config.list_page_size})

    def workspace_rate_limits(self, workspace_id: str) -> Iterator[dict]:
        """A workspace's rate limits, its overrides and (``include_inherited``) what it inherits."""
        path = WORKSPACE_RATE_LIMITS_PATH.format(workspace_id=quote(workspace_id, safe=""))
        return self._cursor(path, {"include_inherited": "true", "limit": self._config.list_page_size})

    def analytics_cost_report(self, start: datetime, end: datetime, group_by: tuple[str, ...]) -> Iterator[dict]:
        """Daily buckets of the Analytics API cost report in [start, end) (at most 31 days), every page."""
        params = {"starting_at": rfc3339(start), "ending_at": rfc3339(end), "bucket_width": "1d",
                  "group_by[]": list(group_by), "limit": MAX_BUCKETS_PER_PAGE["1d"]}
        return self._cursor(ANALYTICS_COST_PATH, params, {"anthropic-beta": ANALYTICS_BETA})

    def _report(self, path: str, params: dict[str, Any]) -> Iterator[dict]:
        """Report pagination: ``page`` = the previous answer's ``next_page`` while ``has_more``."""
        page: str | None = None
        seen: set[str] = set()
        while True:
            body = self._page(path, {**params, "page": page} if page else params)
            yield from body["data"]
            if not body["has_more"]:
                return
            page = body.get("next_page")
            if not page or page in seen:
                raise AdminApiError(f"Admin API GET {path}: has_more without a new next_page; stopped paginating")
            seen.add(page)

    def _list(self, path: str, params: dict[str, Any]) -> Iterator[dict]:
        """List pagination: ``after_id`` = the previous answer's ``last_id`` while ``has_more``."""
        after: str | None = None
        while True:
            query = {**params, "limit": self._config.list_page_size}
            body = self._page(path, {**query, "after_id": after} if after else query)
            yield from body["data"]
            if not body["has_more"]:
                return
            if not body.get("last_id") or body["last_id"] == after:
                raise AdminApiError(f"Admin API GET {path}: has_more without a new last_id; stopped paginating")
            after = body["last_id"]

    def _cursor(self, path: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> Iterator[dict]:
        """Cursor pagination without ``has_more``: ``page`` = the previous answer's ``next_page`` until it is null."""
        page: str | None = None
        seen: set[str] = set()
        while True:
            body = self._get(path, {**params, "page": page} if page else params, headers)
            if not isinstance(body, dict) or not isinstance(body.get("data"), list):
                raise AdminApiError(f"Admin API GET {path}: the answer is not a page (no data[])")
            self.stats.pages += 1
            yield from body["data"]
            page = body.get("next_page")
            if not page:
                return
            if page in seen:
                raise AdminApiError(f"Admin API GET {path}: next_page repeats; stopped paginating")
            seen.add(page)

    def _page(self, path: str, params: dict[str, Any]) -> dict:
        body = self._get(path, params)
        if not isinstance(body, dict) or not isinstance(body.get("data"), list) or "has_more" not in body:
            raise AdminApiError(f"Admin API GET {path}: the answer is not a page (no data[] / has_more)")
        self.stats.pages += 1
        return body

    def _get(self, path: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        """One GET with retries: 429 (after ``retry-after``), 5xx, 529, connection errors and torn JSON bodies
        are retried with exponential backoff and jitter, bounded in count and time; other errors fail at once."""
        started = time.monotonic()
        attempt = 0
        while True:
            self.stats.requests += 1
            try:
                response = self._http.get(path, params=params, headers=headers)
            except httpx.TransportError as exc:
                reason, wait = f"connection error ({type(exc).__name__})", self._backoff(attempt)
            else:
                status = response.status_code
                if status == 200:
                    try:
                        return response.json()
                    except ValueError:
                        reason, wait = "malformed JSON body", self._backoff(attempt)
                elif status in RETRYABLE_STATUSES:
                    retry_after = _retry_after_s(response)
                    reason = f"HTTP {status}"
                    wait = retry_after if retry_after is not None else self._backoff(attempt)
                else:
                    raise AdminApiError(self._failure(path, status, response))
            elapsed = time.monotonic() - started
            if attempt >= self._config.max_retries or elapsed + wait > self._config.max_retry_time_s:
                raise AdminApiError(
                    f"Admin API GET {path} failed after {attempt + 1} attempts in {elapsed:.1f}s; last: {reason}")
            attempt += 1
            self.stats.retries += 1
            self.stats.retry_reasons[reason] += 1
            self._log.warning("Admin API GET %s: %s; retry %d of at most %d in %.2fs",
                              path, reason, attempt, self._config.max_retries, wait)
            time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self._config.backoff_max_s, self._config.backoff_base_s * 2**attempt)
        return ceiling * random.uniform(0.5, 1.0)

    def _failure(self, path: str, status: int, response: httpx.Response) -> str:
        hint = {401: " (check ANTHROPIC_ADMIN_API_KEY: it must be an Admin API key, sk-ant-admin…)",
                403: " (the key lacks permission for this endpoint)"}.get(status, "")
        return f"Admin API GET {path} failed with HTTP {status}: {self._error_text(response)}{hint}; not retried"

    def _error_text(self, response: httpx.Response) -> str:
        """The API's ``{"type":"error","error":{"type","message"}}`` as text, without the key, bounded."""
        try:
            error = response.json().get("error") or {}
            text = f"{error.get('type', 'error')}: {error.get('message', '')}"
        except (ValueError, AttributeError):
            text = response.text
        return text.replace(self._scrub, "[redacted]")[:ERROR_TEXT_LIMIT]


def _retry_after_s(response: httpx.Response) -> float | None:
    """``retry-after`` in seconds (a number or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
