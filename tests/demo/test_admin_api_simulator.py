"""The Admin API simulator answers like the documented API: shapes, nulls, limits, errors, pagination, prices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from admin_api_traffic import HAIKU, HOUR, SONNET, Traffic, simulator_for

from demo.organisation import calls_in_hour
from demo.simulator.server import AdminApiSimulator, SimulatorState, running_simulator

USAGE = "/v1/organizations/usage_report/messages"
COST = "/v1/organizations/cost_report"


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def simulator(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(traffic, monkeypatch) as sim:
        yield sim


def get(sim: AdminApiSimulator, path: str, key: str | None = None, **params: object) -> httpx.Response:
    headers = {"x-api-key": key or sim.api_key, "anthropic-version": "2023-06-01"}
    return httpx.get(sim.base_url + path, params=params, headers=headers)


def hour_query(**extra: object) -> dict:
    return {"starting_at": "2026-10-05T10:00:00Z", "ending_at": "2026-10-05T11:00:00Z", "bucket_width": "1h",
            **extra}


def test_usage_results_sum_tokens_per_group_and_leave_ungrouped_dimensions_null(simulator, traffic):
    traffic.add(HOUR + timedelta(minutes=5), key="k1", input=100, output=10, cache_read=7, write_5m=3, write_1h=2,
                web_searches=1)
    traffic.add(HOUR + timedelta(minutes=9), key="k1", model=SONNET, input=50, output=5)
    traffic.add(HOUR + timedelta(minutes=20), key="k2", input=1000)

    body = get(simulator, USAGE, **hour_query(**{"group_by[]": ["api_key_id"]})).json()

    [bucket] = body["data"]
    assert (bucket["starting_at"], bucket["ending_at"]) == ("2026-10-05T10:00:00Z", "2026-10-05T11:00:00Z")
    k1, k2 = bucket["results"]
    assert k1 == {"api_key_id": "k1", "workspace_id": None, "model": None, "service_tier": None,
                  "context_window": None, "inference_geo": None, "speed": None, "account_id": None,
                  "service_account_id": None, "uncached_input_tokens": 150,
                  "cache_read_input_tokens": 7,
                  "cache_creation": {"ephemeral_5m_input_tokens": 3, "ephemeral_1h_input_tokens": 2},
                  "output_tokens": 15, "server_tool_use": {"web_search_requests": 1}}
    assert (k2["api_key_id"], k2["uncached_input_tokens"]) == ("k2", 1000)
    assert body["has_more"] is False and body["next_page"] is None


def test_console_and_default_workspace_are_null_ids(simulator, traffic):
    traffic.add(HOUR, key=None, workspace=None, input=42)
    body = get(simulator, USAGE, **hour_query(**{"group_by[]": ["api_key_id", "workspace_id"]})).json()
    [result] = body["data"][0]["results"]
    assert (result["api_key_id"], result["workspace_id"], result["uncached_input_tokens"]) == (None, None, 42)


def test_hourly_pages_hold_24_buckets_by_default_and_chain_with_next_page(simulator):
    query = {"starting_at": "2026-10-05T00:00:00Z", "ending_at": "2026-10-07T00:00:00Z", "bucket_width": "1h"}
    first = get(simulator, USAGE, **query).json()
    second = get(simulator, USAGE, **query, page=first["next_page"]).json()
    assert (len(first["data"]), first["has_more"]) == (24, True)
    assert (len(second["data"]), second["has_more"], second["next_page"]) == (24, False, None)
    assert second["data"][0]["starting_at"] == "2026-10-06T00:00:00Z"


@pytest.mark.parametrize(("width", "too_many"), [("1m", 1441), ("1h", 169), ("1d", 32)])
def test_bucket_limits_per_width_are_enforced(simulator, width, too_many):
    response = get(simulator, USAGE, starting_at="2026-10-01T00:00:00Z", bucket_width=width, limit=too_many)
    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "limit" in response.json()["error"]["message"]


def test_any_subset_of_the_group_by_dimensions_is_accepted_but_speed_needs_the_fast_mode_beta(simulator, traffic):
    traffic.add(HOUR, input=10, speed="fast", inference_geo="us")
    every = ["api_key_id", "workspace_id", "model", "service_tier", "context_window", "inference_geo", "speed",
             "account_id", "service_account_id"]
    refused = get(simulator, USAGE, **hour_query(**{"group_by[]": every}))
    assert refused.status_code == 400
    assert "fast-mode-2026-02-01" in refused.json()["error"]["message"]
    headers = {"x-api-key": simulator.api_key, "anthropic-version": "2023-06-01",
               "anthropic-beta": "fast-mode-2026-02-01"}
    body = httpx.get(simulator.base_url + USAGE, params=hour_query(**{"group_by[]": every}), headers=headers).json()
    [result] = body["data"][0]["results"]
    assert (result["speed"], result["inference_geo"], result["account_id"]) == ("fast", "us", None)


def test_cost_report_accepts_only_daily_buckets(simulator):
    response = get(simulator, COST, starting_at="2026-10-05T00:00:00Z", bucket_width="1h")
    assert (response.status_code, response.json()["error"]["type"]) == (400, "invalid_request_error")


def test_wrong_key_is_an_authentication_error(simulator):
    response = get(simulator, USAGE, key="sk-ant-admin01-wrong", **hour_query())
    assert response.status_code == 401
    assert response.json() == {"type": "error", "error": {"type": "authentication_error",
                                                          "message": "invalid x-api-key"}}


def test_cost_amount_is_a_decimal_string_in_cents(simulator, traffic):
    # 100 Haiku 4.5 input tokens at $1 / MTok = $0.0001 = 0.01 cents; 2 web searches at $0.01 = 2 cents.
    traffic.add(HOUR, input=100, web_searches=2)
    body = get(simulator, COST, starting_at="2026-10-05T00:00:00Z", ending_at="2026-10-06T00:00:00Z",
               **{"group_by[]": ["workspace_id", "description"]}).json()
    tokens, search = body["data"][0]["results"]
    assert tokens == {"workspace_id": "wrkspc_search", "description": "Claude Haiku 4.5 Usage - Input Tokens",
                      "cost_type": "tokens", "model": HAIKU, "token_type": "uncached_input_tokens",
                      "service_tier": "standard", "context_window": "0-200k", "inference_geo": "not_available",
                      "currency": "USD", "amount": "0.01"}
    assert (search["cost_type"], search["model"], search["amount"]) == ("web_search", None, "2")


def test_batch_tier_is_half_price_and_long_context_uses_its_own_rate(simulator, traffic):
    # Sonnet 4.5 batch output: 1M tokens * $15 * 0.5 = $7.50 = 750 cents.
    traffic.add(HOUR, model=SONNET, tier="batch", output=1_000_000)
    # Sonnet 4.5 long context (> 200K input): 300K input tokens * $6 / MTok = $1.80 = 180 cents.
    traffic.add(HOUR, model=SONNET, input=300_000)
    body = get(simulator, COST, starting_at="2026-10-05T00:00:00Z", ending_at="2026-10-06T00:00:00Z",
               **{"group_by[]": ["description"]}).json()
    amounts = {(r["token_type"], r["service_tier"], r["context_window"]): r["amount"]
               for r in body["data"][0]["results"]}
    assert amounts == {("output_tokens", "batch", "0-200k"): "750",
                       ("uncached_input_tokens", "standard", "200k-1M"): "180"}


def test_late_data_mode_serves_a_bucket_half_filled_first_then_complete(traffic):
    traffic.add(HOUR + timedelta(minutes=10), input=100)
    traffic.add(HOUR + timedelta(minutes=50), input=900)
    with running_simulator(SimulatorState(calls_in_hour=traffic, late_data=True)) as sim:
        first = get(sim, USAGE, **hour_query()).json()["data"][0]["results"][0]["uncached_input_tokens"]
        second = get(sim, USAGE, **hour_query()).json()["data"][0]["results"][0]["uncached_input_tokens"]
    assert (first, second) == (100, 1000)


def test_lists_paginate_with_after_id_and_last_id(simulator):
    first = get(simulator, "/v1/organizations/api_keys", limit=2).json()
    rest = get(simulator, "/v1/organizations/api_keys", limit=10, after_id=first["last_id"]).json()
    assert [k["id"] for k in first["data"]] == ["apikey_01SearchProd", "apikey_01SupportBot"]
    assert first["has_more"] is True and rest["has_more"] is False
    assert len(rest["data"]) == 4 and rest["data"][0]["id"] == "apikey_01GrowthMail"  # 6 keys: 2 + 4


def test_demo_organisation_reports_traffic_that_emits_no_events():
    hour = HOUR
    growth = [c for c in calls_in_hour(hour) if c.feature.api_key_id == "apikey_01GrowthMail" and c.status == 200]
    assert growth and not any(c.feature.emits_events for c in growth)
    with running_simulator() as sim:
        body = get(sim, USAGE, **hour_query(**{"group_by[]": ["api_key_id"]})).json()
    by_key = {r["api_key_id"]: r["uncached_input_tokens"] for r in body["data"][0]["results"]}
    assert by_key["apikey_01GrowthMail"] == sum(c.input_tokens for c in growth)
    everything = sum(c.input_tokens for c in calls_in_hour(hour) if c.status == 200)
    assert sum(by_key.values()) == everything
