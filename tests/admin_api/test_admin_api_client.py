"""The Admin API client against the simulator over real HTTP: pagination, retries, and fail-fast errors."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from admin_api_traffic import HOUR, Traffic, simulator_for
from dagster import EnvVar

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.client import USAGE_REPORT_PATH, AdminApiClient, AdminApiError

GROUP_BY = ("api_key_id", "workspace_id", "model", "service_tier", "context_window")
FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}
ADMIN_KEY = EnvVar("ANTHROPIC_ADMIN_API_KEY")  # as the code location passes it; the simulator fixture sets it


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def simulator(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(traffic, monkeypatch) as sim:
        yield sim


def one_hour(client: AdminApiClient) -> tuple[list[dict], object]:
    with client.session() as session:
        buckets = list(session.usage_report(HOUR, HOUR + timedelta(hours=1), "1h", GROUP_BY))
    return buckets, session.stats


def test_report_pages_are_followed_until_has_more_is_false(simulator, traffic):
    traffic.add(HOUR + timedelta(hours=199), input=5)  # in the last of 200 hourly buckets (168 per page at most)
    with AdminApiClient(api_key=ADMIN_KEY, **FAST).session() as session:
        buckets = list(session.usage_report(HOUR, HOUR + timedelta(hours=200), "1h", GROUP_BY))
    assert len(buckets) == 200
    assert [b["starting_at"] for b in buckets[166:170]] == [
        "2026-10-12T08:00:00Z", "2026-10-12T09:00:00Z", "2026-10-12T10:00:00Z", "2026-10-12T11:00:00Z"]
    assert buckets[-1]["results"][0]["uncached_input_tokens"] == 5
    assert (session.stats.pages, session.stats.requests, session.stats.retries) == (2, 2, 0)
    assert [r.query.get("page") is not None for r in simulator.state.requests_to(USAGE_REPORT_PATH)] == [False, True]


def test_lists_are_followed_with_after_id(simulator):
    with AdminApiClient(api_key=ADMIN_KEY, list_page_size=2, **FAST).session() as session:
        keys = [k["id"] for k in session.api_keys()]
    assert keys == ["apikey_01SearchProd", "apikey_01SupportBot", "apikey_01GrowthMail", "apikey_01ResearchBatch",
                    "apikey_01SharedPlatform", "apikey_01ClaudeCode"]
    assert session.stats.pages == 3


def test_requests_carry_the_version_and_a_descriptive_user_agent(simulator):
    one_hour(AdminApiClient(api_key=ADMIN_KEY, **FAST))
    [request] = simulator.state.requests_to(USAGE_REPORT_PATH)
    assert request.headers["anthropic-version"] == "2023-06-01"
    assert request.headers["user-agent"].startswith("claude-ledger/")
    assert request.query["group_by[]"] == list(GROUP_BY)


def test_a_429_is_retried_after_its_retry_after_and_counted(simulator):
    simulator.state.retry_after_s = 1
    simulator.inject("429")
    started = time.monotonic()
    buckets, stats = one_hour(AdminApiClient(api_key=ADMIN_KEY, **FAST))
    assert len(buckets) == 1
    assert time.monotonic() - started >= 1.0  # waited as long as retry-after asked, not the 10 ms backoff
    assert (stats.retries, dict(stats.retry_reasons)) == (1, {"HTTP 429": 1})


def test_5xx_and_overloaded_answers_are_retried_until_success(simulator):
    simulator.inject("500", "502", "503", "529")
    buckets, stats = one_hour(AdminApiClient(api_key=ADMIN_KEY, **FAST))
    assert len(buckets) == 1
    assert stats.retries == 4
    assert dict(stats.retry_reasons) == {"HTTP 500": 1, "HTTP 502": 1, "HTTP 503": 1, "HTTP 529": 1}


def test_dropped_connections_and_torn_json_bodies_are_retried(simulator):
    simulator.inject("drop", "malformed")
    buckets, stats = one_hour(AdminApiClient(api_key=ADMIN_KEY, **FAST))
    assert len(buckets) == 1
    assert dict(stats.retry_reasons) == {"connection error (RemoteProtocolError)": 1, "malformed JSON body": 1}


def test_an_answer_slower_than_the_timeout_is_retried(simulator):
    simulator.inject("slow")  # the simulator answers after 1 s
    buckets, stats = one_hour(AdminApiClient(api_key=ADMIN_KEY, timeout_s=0.3, **FAST))
    assert len(buckets) == 1
    assert dict(stats.retry_reasons) == {"connection error (ReadTimeout)": 1}


def test_retries_are_bounded_in_count(simulator):
    simulator.inject(*["500"] * 5)
    with pytest.raises(AdminApiError, match=r"failed after 3 attempts .*last: HTTP 500"):
        one_hour(AdminApiClient(api_key=ADMIN_KEY, max_retries=2, **FAST))
    assert len(simulator.state.requests_to(USAGE_REPORT_PATH)) == 3


def test_retries_are_bounded_in_time(simulator):
    simulator.state.retry_after_s = 30
    simulator.inject("429")
    started = time.monotonic()
    with pytest.raises(AdminApiError, match="failed after 1 attempts"):
        one_hour(AdminApiClient(api_key=ADMIN_KEY, max_retry_time_s=5, **FAST))
    assert time.monotonic() - started < 2  # gave up instead of sleeping 30 s past the 5 s budget


def test_a_401_fails_at_once_naming_endpoint_and_status_and_never_the_key(simulator, monkeypatch, caplog):
    wrong_key = "sk-ant-admin01-this-key-is-wrong-and-secret"
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", wrong_key)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AdminApiError) as failure:
        one_hour(AdminApiClient(api_key=ADMIN_KEY, **FAST))
    message = str(failure.value)
    assert "GET /v1/organizations/usage_report/messages failed with HTTP 401" in message
    assert "authentication_error: invalid x-api-key" in message and "ANTHROPIC_ADMIN_API_KEY" in message
    assert wrong_key not in message and wrong_key not in repr(failure.value.__cause__)
    assert wrong_key not in caplog.text
    assert len(simulator.state.requests_to(USAGE_REPORT_PATH)) == 1  # not retried


def test_a_400_is_not_retried(simulator):
    unknown = (*GROUP_BY, "region")
    with pytest.raises(AdminApiError, match=r"HTTP 400: invalid_request_error: group_by: 'region' is not one of"), \
            AdminApiClient(api_key=ADMIN_KEY, **FAST).session() as session:
        list(session.usage_report(HOUR, HOUR + timedelta(hours=1), "1h", unknown))
    assert session.stats.retries == 0


def test_a_missing_key_fails_before_any_request(simulator, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY")
    with pytest.raises(AdminApiError, match="ANTHROPIC_ADMIN_API_KEY is not set"):
        one_hour(AdminApiClient(api_key=ADMIN_KEY, **FAST))
