"""Specification of workspace tags: the simulator serves the Admin API's workspace ``tags`` over real HTTP and the
collector stores them in admin_workspaces (null as no tags, a malformed tag left out with a logged reason)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest
from admin_api_traffic import Traffic, simulator_for
from dagster import DagsterInstance, materialize

from demo.organisation import WORKSPACES, Workspace
from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.assets import admin_workspaces
from pipelines.admin_api.client import AdminApiClient
from pipelines.admin_api.collect import collect_workspaces
from pipelines.storage.clickhouse import ClickHouseResource

FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}
BAD = (Workspace("wrkspc_01BadValue", "Bad value", {"cost-center": 42, "env": "prod"}),
       Workspace("wrkspc_01BadShape", "Bad shape", ["cost-center", "CC-1"]),
       Workspace("wrkspc_01Fine", "Fine", {"cost-center": "CC-700 Fine"}))


@pytest.fixture
def simulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(Traffic(), monkeypatch) as sim:
        yield sim


def stored_tags(ch: ClickHouseResource) -> list[tuple]:
    return ch.query_rows("SELECT workspace_id, tags FROM admin_workspaces FINAL ORDER BY workspace_id")


def test_the_demo_organisation_s_tags_are_stored_and_null_tags_are_no_tags(simulator, ch):
    fetch = collect_workspaces(AdminApiClient.from_env(list_page_size=2, **FAST), ch)  # two pages of two
    assert stored_tags(ch) == [
        ("", {}),
        ("wrkspc_01ClaudeCode", {}),
        ("wrkspc_01ResearchLab", {}),  # the simulator answers "tags": null for it
        ("wrkspc_01SearchProd", {"cost-center": "CC-100 Search", "env": "prod"}),
        ("wrkspc_01SupportBots", {"cost-center": "CC-200 Customer Support"})]
    assert (fetch.workspaces, fetch.tagged, fetch.malformed, fetch.stats.pages) == (4, 2, [], 2)


def test_the_simulator_serves_tags_as_a_map_or_null(simulator):
    body = httpx.get(f"{simulator.base_url}/v1/organizations/workspaces", headers={
        "x-api-key": simulator.api_key, "anthropic-version": "2023-06-01"}).json()
    assert {w["id"]: w["tags"] for w in body["data"]} == {
        "wrkspc_01SearchProd": {"cost-center": "CC-100 Search", "env": "prod"},
        "wrkspc_01SupportBots": {"cost-center": "CC-200 Customer Support"}, "wrkspc_01ResearchLab": None,
        "wrkspc_01ClaudeCode": {}}


def test_tags_survive_a_retried_page(simulator, ch):
    simulator.inject("429", "malformed")
    fetch = collect_workspaces(AdminApiClient.from_env(**FAST), ch)
    assert fetch.stats.retries == 2
    assert dict(stored_tags(ch))["wrkspc_01SearchProd"] == {"cost-center": "CC-100 Search", "env": "prod"}


def test_a_malformed_tag_is_left_out_with_a_logged_reason_and_other_workspaces_are_unaffected(simulator, ch):
    simulator.state.workspaces = (*WORKSPACES, *BAD)
    instance = DagsterInstance.ephemeral()
    result = materialize([admin_workspaces], instance=instance,
                         resources={"clickhouse": ch, "admin_api": AdminApiClient.from_env(**FAST)})
    assert result.success
    tags = dict(stored_tags(ch))
    assert (tags["wrkspc_01BadValue"], tags["wrkspc_01BadShape"], tags["wrkspc_01Fine"]) == (
        {"env": "prod"}, {}, {"cost-center": "CC-700 Fine"})
    assert tags["wrkspc_01SearchProd"] == {"cost-center": "CC-100 Search", "env": "prod"}
    warnings = [e.user_message for e in instance.all_logs(result.run_id) if e.level == logging.WARNING]
    assert ("Admin API workspaces: workspace wrkspc_01BadValue: tag 'cost-center' is int 42, not a string; that "
            "tag is not stored") in warnings
    assert ("Admin API workspaces: workspace wrkspc_01BadShape: tags is list ['cost-center', 'CC-1'], not a map of "
            "strings; no tags stored") in warnings
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["workspaces"].value, metadata["tagged_workspaces"].value, metadata["malformed_tags"].value) == (
        7, 4, 2)
