"""The Admin API assets through Dagster, against the simulator over real HTTP, into a real embedded ClickHouse."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from admin_api_traffic import HAIKU, HOUR, SONNET, Traffic, simulator_for
from dagster import DagsterInstance, RunRequest, SkipReason, build_schedule_context, materialize
from dagster_cli import run_dagster

from demo.simulator.server import AdminApiSimulator
from pipelines.admin_api.assets import (
    admin_api_keys,
    admin_cost_daily,
    admin_usage_hourly,
    admin_workspaces,
    range_tags,
)
from pipelines.admin_api.client import AdminApiClient
from pipelines.admin_api.definitions import admin_cost_schedule, admin_restatement_schedule, admin_usage_schedule
from pipelines.ledger_config import LedgerConfig
from pipelines.storage.clickhouse import ClickHouseResource

HOUR_KEY = "2026-10-05-10:00"


FAST = {"backoff_base_s": 0.01, "backoff_max_s": 0.05}


def schedule_context(at: datetime, config: Path | None = None):
    """A schedule tick at ``at`` with the resources as the code location builds them from the environment."""
    return build_schedule_context(scheduled_execution_time=at, resources={
        "admin_api": AdminApiClient.from_env(), "ledger_config": LedgerConfig(path=str(config or "/absent.yaml"))})


@pytest.fixture
def traffic() -> Traffic:
    return Traffic()


@pytest.fixture
def simulator(traffic: Traffic, monkeypatch: pytest.MonkeyPatch) -> Iterator[AdminApiSimulator]:
    with simulator_for(traffic, monkeypatch) as sim:
        yield sim


def run(asset, ch: ClickHouseResource, instance: DagsterInstance | None = None, **kwargs):
    resources = {"clickhouse": ch, "admin_api": AdminApiClient.from_env(**FAST)}
    return materialize([asset], resources=resources, instance=instance or DagsterInstance.ephemeral(), **kwargs)


def usage_rows(ch: ClickHouseResource) -> list[tuple]:
    return ch.query_rows(
        "SELECT bucket_start, workspace_id, api_key_id, model, service_tier, context_window, uncached_input_tokens, "
        "cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, output_tokens, web_search_requests "
        "FROM admin_usage_hourly FINAL ORDER BY bucket_start, api_key_id, model")


def stored_row_count(ch: ClickHouseResource, table: str) -> int:
    """Rows physically present (not only after FINAL): stale rows must be gone, not just shadowed."""
    return ch.query_rows(f"SELECT count() FROM {table}")[0][0]


def test_an_hour_partition_stores_every_token_type_with_null_ids_as_empty(simulator, traffic, ch):
    traffic.add(HOUR + timedelta(minutes=1), input=100, output=20, cache_read=30, write_5m=40, write_1h=50,
                web_searches=2)
    traffic.add(HOUR + timedelta(minutes=2), input=1, output=2)
    traffic.add(HOUR + timedelta(minutes=3), key=None, workspace=None, model=SONNET, input=7)
    traffic.add(HOUR + timedelta(hours=1), input=999)  # the next hour: not this partition

    result = run(admin_usage_hourly, ch, partition_key=HOUR_KEY)

    hour = HOUR.replace(tzinfo=None)
    assert usage_rows(ch) == [
        (hour, "", "", SONNET, "standard", "0-200k", 7, 0, 0, 0, 0, 0),
        (hour, "wrkspc_search", "apikey_search", HAIKU, "standard", "0-200k", 101, 30, 40, 50, 22, 2),
    ]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert (metadata["buckets"].value, metadata["rows"].value, metadata["pages"].value) == (1, 2, 1)
    assert metadata["tokens_uncached_input_tokens"].value == 108
    assert metadata["tokens_cache_write_1h_tokens"].value == 50
    assert metadata["retries"].value == 0


def test_rerunning_a_partition_leaves_totals_unchanged(simulator, traffic, ch):
    traffic.add(HOUR, input=100, output=10)
    traffic.add(HOUR, key="apikey_other", input=5)
    run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
    first = usage_rows(ch)
    run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
    assert usage_rows(ch) == first
    assert stored_row_count(ch, "admin_usage_hourly") == 2


def test_late_data_ends_at_the_new_value(traffic, ch, monkeypatch):
    traffic.add(HOUR + timedelta(minutes=10), input=100)
    traffic.add(HOUR + timedelta(minutes=50), input=900)  # arrives late: not in the first fetch
    with simulator_for(traffic, monkeypatch, late_data=True):
        run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
        assert [row[6] for row in usage_rows(ch)] == [100]
        run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
    assert [row[6] for row in usage_rows(ch)] == [1000]


def test_a_group_that_disappears_between_fetches_leaves_no_row(simulator, traffic, ch):
    traffic.add(HOUR, key="apikey_a", input=1)
    traffic.add(HOUR, key="apikey_b", input=2)
    run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
    traffic.clear(HOUR)
    traffic.add(HOUR, key="apikey_a", input=1)
    run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
    assert [(row[2], row[6]) for row in usage_rows(ch)] == [("apikey_a", 1)]
    assert stored_row_count(ch, "admin_usage_hourly") == 1


def test_a_range_of_hours_is_one_run_over_several_pages(simulator, traffic, ch):
    for hour in range(200):
        traffic.add(HOUR + timedelta(hours=hour), input=1)
    last = (HOUR + timedelta(hours=199)).strftime("%Y-%m-%d-%H:00")
    result = run(admin_usage_hourly, ch, tags=range_tags(HOUR_KEY, last))
    events = result.get_asset_materialization_events()
    assert len(events) == 200  # every hour partition is marked materialised by the one run
    metadata = events[0].materialization.metadata
    assert (metadata["buckets"].value, metadata["rows"].value, metadata["pages"].value) == (200, 200, 2)
    assert ch.query_rows("SELECT sum(uncached_input_tokens) FROM admin_usage_hourly FINAL") == [(200,)]


def test_retries_are_recorded_in_the_metadata(simulator, traffic, ch):
    traffic.add(HOUR, input=1)
    simulator.inject("429", "529")
    result = run(admin_usage_hourly, ch, partition_key=HOUR_KEY)
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["retries"].value == 2
    assert metadata["retry_reasons"].value == "HTTP 429: 1, HTTP 529: 1"
    assert usage_rows(ch)[0][6] == 1


def test_a_401_fails_the_run_clearly_and_the_key_is_in_no_log_or_metadata(simulator, traffic, ch, monkeypatch,
                                                                          caplog):
    wrong_key = "sk-ant-admin01-wrong-and-very-secret-key"
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", wrong_key)
    caplog.set_level(logging.DEBUG)
    instance = DagsterInstance.ephemeral()
    result = run(admin_usage_hourly, ch, instance=instance, partition_key=HOUR_KEY, raise_on_error=False)
    assert not result.success
    [failure] = result.get_step_failure_events()
    message = failure.event_specific_data.error.to_string()  # the step error and its cause
    assert "usage_report/messages failed with HTTP 401" in message
    logs = "\n".join(repr(entry) for entry in instance.all_logs(result.run_id))
    assert wrong_key not in logs and wrong_key not in caplog.text and wrong_key not in message
    assert len(simulator.state.requests) == 1


def test_cost_amounts_survive_as_exact_decimals(simulator, traffic, ch):
    # 100 Haiku 4.5 input tokens at $1 / MTok: the report says "0.01" (cents), i.e. $0.0001 exactly.
    traffic.add(HOUR, input=100)
    # 7 Sonnet 4.5 cache reads at $0.30 / MTok: 0.00021 cents, $0.0000021.
    traffic.add(HOUR, key=None, workspace=None, model=SONNET, cache_read=7)
    result = run(admin_cost_daily, ch, partition_key="2026-10-05")
    rows = ch.query_rows("SELECT date, workspace_id, token_type, model, service_tier, context_window, amount_usd "
                         "FROM admin_cost_daily FINAL ORDER BY workspace_id")
    assert rows == [
        (date(2026, 10, 5), "", "cache_read_input_tokens", SONNET, "standard", "0-200k", Decimal("0.0000021")),
        (date(2026, 10, 5), "wrkspc_search", "uncached_input_tokens", HAIKU, "standard", "0-200k",
         Decimal("0.0001")),
    ]
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert "| total | 0.0001021 |" in metadata["cost_by_workspace"].value


def test_rerunning_cost_days_leaves_totals_unchanged(simulator, traffic, ch):
    traffic.add(HOUR, input=100)
    traffic.add(HOUR + timedelta(days=1), input=300)
    for _ in range(2):
        run(admin_cost_daily, ch, tags=range_tags("2026-10-05", "2026-10-06"))
    assert ch.query_rows("SELECT sum(amount_usd) FROM admin_cost_daily FINAL") == [(Decimal("0.0004"),)]
    assert stored_row_count(ch, "admin_cost_daily") == 2


def test_workspaces_and_api_keys_become_name_tables(simulator, ch):
    run(admin_workspaces, ch)
    run(admin_api_keys, ch)
    workspaces = ch.query_rows("SELECT workspace_id, name FROM admin_workspaces FINAL ORDER BY workspace_id")
    assert workspaces == [("", "Default workspace"), ("wrkspc_01ClaudeCode", "Claude Code"),
                          ("wrkspc_01ResearchLab", "Research"),
                          ("wrkspc_01SearchProd", "Search"), ("wrkspc_01SupportBots", "Support")]
    keys = ch.query_rows("SELECT api_key_id, name, workspace_id, status FROM admin_api_keys FINAL "
                         "WHERE api_key_id IN ('apikey_01GrowthMail', 'apikey_01SupportBot') ORDER BY api_key_id")
    assert keys == [("apikey_01GrowthMail", "growth-mailer", "", "active"),
                    ("apikey_01SupportBot", "support-bot", "wrkspc_01SupportBots", "active")]


def test_usage_schedule_refetches_the_last_six_whole_hours_in_one_run(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", "sk-ant-admin01-schedule-test")
    context = schedule_context(datetime(2026, 10, 5, 10, 7, tzinfo=UTC))
    request = admin_usage_schedule(context)
    assert isinstance(request, RunRequest)
    assert request.tags == range_tags("2026-10-05-04:00", "2026-10-05-09:00")


def test_cost_schedule_refetches_the_last_31_days_by_default(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", "sk-ant-admin01-schedule-test")
    context = schedule_context(datetime(2026, 10, 5, 2, 20, tzinfo=UTC))
    assert admin_cost_schedule(context).tags == range_tags("2026-09-04", "2026-10-04")


def test_the_restatement_window_is_configured_in_ledger_config(monkeypatch, tmp_path):
    monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", "sk-ant-admin01-schedule-test")
    config = tmp_path / "ledger.yaml"
    config.write_text("admin_api: {restatement_days: 7}\n")
    cost = admin_cost_schedule(schedule_context(datetime(2026, 10, 5, 2, 20, tzinfo=UTC), config))
    usage = admin_restatement_schedule(schedule_context(datetime(2026, 10, 5, 2, 40, tzinfo=UTC), config))
    assert cost.tags == range_tags("2026-09-28", "2026-10-04")
    assert usage.tags == range_tags("2026-09-28-00:00", "2026-10-04-23:00")


def test_schedules_skip_without_a_key(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_ADMIN_API_KEY", raising=False)
    context = schedule_context(datetime(2026, 10, 5, 10, 7, tzinfo=UTC))
    assert isinstance(admin_usage_schedule(context), SkipReason)


def test_the_dagster_cli_collects_workspaces_and_api_keys_from_the_simulator(simulator, tmp_path, ch):
    completed = run_dagster("job", "execute", "-j", "collect_admin_dimensions", home=tmp_path, ch=ch,
                            ANTHROPIC_BASE_URL=simulator.base_url, ANTHROPIC_ADMIN_API_KEY=simulator.api_key)
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert simulator.api_key not in completed.stdout + completed.stderr  # an EnvVar: shown by name, never by value
    names = ch.query_rows(
        "SELECT workspace_id, name FROM admin_workspaces FINAL ORDER BY workspace_id")
    assert names[:2] == [("", "Default workspace"), ("wrkspc_01ClaudeCode", "Claude Code")]
