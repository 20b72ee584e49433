"""Configured rate limits: the simulator's Rate Limits API over real HTTP, and the admin_rate_limits asset that
stores them (organisation and workspaces, overrides and inherited values) in a real embedded ClickHouse."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from admin_api_traffic import Traffic, simulator_for
from dagster import DagsterInstance, materialize

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.assets import admin_rate_limits, admin_workspaces
from pipelines.admin_api.client import RATE_LIMITS_PATH, AdminApiClient, AdminApiError
from pipelines.admin_api.rate_limits import limit_rows
from pipelines.storage.clickhouse import ClickHouseResource

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}
SEARCH, RESEARCH, SUPPORT = "wrkspc_01SearchProd", "wrkspc_01ResearchLab", "wrkspc_01SupportBots"
CLAUDE_CODE = "wrkspc_01ClaudeCode"
HAIKU_GROUP = "rlg_01HaikuFour"


def workspace_path(workspace_id: str) -> str:
    return f"/v1/organizations/workspaces/{workspace_id}/rate_limits"


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(Traffic(), monkeypatch) as sim:
        yield sim


def get(sim: AdminApiSimulator, path: str, **params: object) -> httpx.Response:
    return httpx.get(sim.base_url + path, params=params,
                     headers={"x-api-key": sim.api_key, "anthropic-version": "2023-06-01"})


def collect(ch: ClickHouseResource, assets: tuple = (admin_workspaces, admin_rate_limits), **client: object):
    resources = {"clickhouse": ch, "admin_api": AdminApiClient.from_env(**{**FAST, **client})}
    return materialize(list(assets), resources=resources, instance=DagsterInstance.ephemeral(),
                       raise_on_error=False)


def stored(ch: ClickHouseResource, scope: str, group_id: str = HAIKU_GROUP) -> list[tuple]:
    return ch.query_rows(
        "SELECT limit_type, value, org_limit, inherited FROM admin_rate_limits FINAL "
        "WHERE scope = {scope:String} AND group_id = {group:String} ORDER BY limit_type",
        {"scope": scope, "group": group_id})


# ---------------------------------------------------------------- the simulator's contract


def test_the_organisation_endpoint_lists_one_entry_per_model_group_with_its_models_and_limits(simulator):
    body = get(simulator, RATE_LIMITS_PATH).json()
    assert body["next_page"] is None
    assert [entry["group"]["display_name"] for entry in body["data"]] == [
        "Claude Haiku 4.x", "Claude Sonnet 4.x", "Claude Opus 4.x", "Claude 5.x"]
    haiku = body["data"][0]
    assert haiku["type"] == "rate_limit"
    assert haiku["group"] == {"type": "model_group", "id": HAIKU_GROUP, "display_name": "Claude Haiku 4.x"}
    assert haiku["group_type"] == "model_group"
    assert haiku["models"] == ["claude-haiku-4-5", "claude-haiku-4-5-20251001"]
    assert haiku["limits"] == [{"type": "requests_per_minute", "value": 4000},
                               {"type": "input_tokens_per_minute", "value": 4000000},
                               {"type": "output_tokens_per_minute", "value": 800000}]


def test_a_limit_pages_the_entries_and_next_page_fetches_the_rest(simulator):
    first = get(simulator, RATE_LIMITS_PATH, limit=3).json()
    rest = get(simulator, RATE_LIMITS_PATH, limit=3, page=first["next_page"]).json()
    assert [e["group"]["id"] for e in first["data"]] == ["rlg_01HaikuFour", "rlg_01SonnetFour", "rlg_01OpusFour"]
    assert [e["group"]["id"] for e in rest["data"]] == ["rlg_01FiveFamily"]
    assert rest["next_page"] is None


def test_the_model_filter_returns_the_one_group_of_a_model_and_404_for_an_unknown_one(simulator):
    [entry] = get(simulator, RATE_LIMITS_PATH, model="claude-sonnet-4-6").json()["data"]
    assert entry["group"]["id"] == "rlg_01SonnetFour"
    missing = get(simulator, RATE_LIMITS_PATH, model="claude-unknown-1")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "not_found_error"


def test_a_workspace_lists_only_its_overrides_unless_inherited_values_are_asked_for(simulator):
    [own] = get(simulator, workspace_path(SEARCH)).json()["data"]
    assert own["type"] == "workspace_rate_limit"
    assert own["limits"] == [
        {"type": "requests_per_minute", "value": 6, "org_limit": 4000, "source": {"type": "workspace"}},
        {"type": "input_tokens_per_minute", "value": 30000, "org_limit": 4000000, "source": {"type": "workspace"}},
    ]
    everything = get(simulator, workspace_path(SEARCH), include_inherited="true").json()["data"]
    assert len(everything) == 4
    assert everything[0]["limits"][2] == {"type": "output_tokens_per_minute", "value": 800000, "org_limit": 800000,
                                          "source": {"type": "organization"}}
    assert get(simulator, workspace_path(SUPPORT)).json() == {"data": [], "next_page": None}


@pytest.mark.parametrize(("path", "params", "status", "message"), [
    (workspace_path("wrkspc_01Nobody"), {}, 404, "workspace 'wrkspc_01Nobody' not found"),
    (workspace_path(SEARCH), {"include_inherited": "yes"}, 400,
     "include_inherited: Input should be a valid boolean, got 'yes'"),
    (RATE_LIMITS_PATH, {"group_type": "models"}, 400,
     "group_type: Input should be one of batch, files, model_group, skills, token_count, web_search, got 'models'"),
    (RATE_LIMITS_PATH, {"limit": 0}, 400, "limit: must be between 1 and 1000, got 0"),
    (RATE_LIMITS_PATH, {"page": "rlpage_garbage"}, 400, "page: invalid page token"),
])
def test_bad_requests_get_the_api_error_body(simulator, path, params, status, message):
    answer = get(simulator, path, **params)
    assert answer.status_code == status
    assert answer.json() == {"type": "error", "error": {
        "type": "not_found_error" if status == 404 else "invalid_request_error", "message": message}}


def test_a_group_type_other_than_model_group_has_no_entries_in_the_demo_organisation(simulator):
    assert get(simulator, RATE_LIMITS_PATH, group_type="batch").json() == {"data": [], "next_page": None}


# ---------------------------------------------------------------- the collector


def test_the_asset_stores_the_organisation_and_every_workspace_with_inherited_values(simulator, ch):
    result = collect(ch)
    # 4 groups x 3 limiter types for the organisation and for each of the 4 workspaces with an id
    assert ch.query_rows("SELECT scope, count() FROM admin_rate_limits FINAL GROUP BY scope ORDER BY scope") == [
        ("organization", 12), (CLAUDE_CODE, 12), (RESEARCH, 12), (SEARCH, 12), (SUPPORT, 12)]
    assert stored(ch, "organization") == [("input_tokens_per_minute", 4_000_000, 4_000_000, False),
                                          ("output_tokens_per_minute", 800_000, 800_000, False),
                                          ("requests_per_minute", 4_000, 4_000, False)]
    assert stored(ch, SEARCH) == [("input_tokens_per_minute", 30_000, 4_000_000, False),
                                  ("output_tokens_per_minute", 800_000, 800_000, True),
                                  ("requests_per_minute", 6, 4_000, False)]
    assert ch.query_rows("SELECT models FROM admin_rate_limits FINAL WHERE scope = 'organization' "
                         "AND group_id = 'rlg_01OpusFour' LIMIT 1") == [
        (["claude-opus-4-8", "claude-opus-4-6", "claude-opus-4-1", "claude-opus-4-1-20250805"],)]
    metadata = result.asset_materializations_for_node("admin_rate_limits")[0].metadata
    assert (metadata["workspaces"].value, metadata["limits"].value, metadata["workspace_overrides"].value) == (4, 60, 3)
    assert (metadata["requests"].value, metadata["pages"].value) == (5, 5)  # the organisation + 4 workspaces
    assert f"| {SEARCH} | Claude Haiku 4.x | requests_per_minute | 6 |" in metadata["configured_limits"].value


def test_pages_are_followed_until_next_page_is_null(simulator, ch):
    collect(ch, list_page_size=3)
    assert ch.query_rows("SELECT count() FROM admin_rate_limits FINAL") == [(60,)]
    pages = [r.query.get("page") is not None for r in simulator.state.requests_to(RATE_LIMITS_PATH)]
    assert pages == [False, True]  # 4 groups, 3 per page


def test_a_429_with_retry_after_and_5xx_answers_are_retried(simulator, ch):
    collect(ch, (admin_workspaces,))
    simulator.inject("429", "503", "529")
    result = collect(ch, (admin_rate_limits,))
    metadata = result.asset_materializations_for_node("admin_rate_limits")[0].metadata
    assert ch.query_rows("SELECT count() FROM admin_rate_limits FINAL") == [(60,)]
    assert (metadata["requests"].value, metadata["retries"].value) == (8, 3)  # 5 pages + 3 retries
    assert metadata["retry_reasons"].value == "HTTP 429: 1, HTTP 503: 1, HTTP 529: 1"


def test_a_torn_body_and_a_dropped_connection_are_retried(simulator, ch):
    collect(ch, (admin_workspaces,))
    simulator.inject("malformed", "drop")
    result = collect(ch, (admin_rate_limits,))
    assert result.success
    assert ch.query_rows("SELECT count() FROM admin_rate_limits FINAL") == [(60,)]


def test_an_override_the_organisation_has_no_limit_for_is_stored_with_a_null_org_limit(simulator, ch):
    simulator.state.workspace_rate_limits[SUPPORT] = {HAIKU_GROUP: (("tokens_per_day", 5_000_000),)}
    collect(ch)
    assert ("tokens_per_day", 5_000_000, None, False) in stored(ch, SUPPORT)


def test_a_removed_override_becomes_the_inherited_value_and_no_stale_row_is_left(simulator, ch):
    collect(ch)
    del simulator.state.workspace_rate_limits[SEARCH]
    collect(ch)
    assert stored(ch, SEARCH) == [("input_tokens_per_minute", 4_000_000, 4_000_000, True),
                                  ("output_tokens_per_minute", 800_000, 800_000, True),
                                  ("requests_per_minute", 4_000, 4_000, True)]
    assert ch.query_rows("SELECT count() FROM admin_rate_limits") == [(60,)]  # physically, not only after FINAL


def test_a_null_value_is_an_error_naming_the_endpoint_entry_and_field():
    entry = {"group": {"type": "model_group", "id": "rlg_1", "display_name": "Claude Haiku 4.x"}, "models": None,
             "limits": [{"type": "requests_per_minute", "value": None}]}
    with pytest.raises(AdminApiError) as failure:
        limit_rows([entry], "organization", RATE_LIMITS_PATH)
    assert str(failure.value) == (
        "Admin API GET /v1/organizations/rate_limits: data[0].limits[0]: value is missing or null")


def test_a_group_without_models_or_display_name_is_stored_with_empty_ones():
    entry = {"group": {"type": "web_search", "id": "rlg_web", "display_name": None}, "models": None,
             "limits": [{"type": "tool_uses_per_second", "value": 30, "org_limit": None,
                         "source": {"type": "workspace"}}]}
    assert limit_rows([entry], "wrkspc_1", "/v1/organizations/workspaces/wrkspc_1/rate_limits") == [
        ["wrkspc_1", "rlg_web", "web_search", "", [], "tool_uses_per_second", 30, None, False]]


def test_an_unknown_workspace_fails_the_asset_without_retrying(simulator, ch):
    with ch.connect() as client:
        client.insert("admin_workspaces", [["wrkspc_01Gone", "Gone", "", None, None, "2026-10-05 10:00:00"]],
                      column_names=["workspace_id", "name", "display_color", "created_at", "archived_at",
                                    "extracted_at"])
    result = collect(ch, (admin_rate_limits,))
    assert not result.success
    assert len(simulator.state.requests_to(workspace_path("wrkspc_01Gone"))) == 1
