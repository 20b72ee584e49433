"""Hand-made Admin API rows, events and cost reports for the allocation tests, written straight to chDB."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from pipelines.allocation.config import AttributionConfig
from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource

OCTOBER = date(2026, 10, 1)
HOUR = datetime(2026, 10, 5, 10, tzinfo=UTC)  # a Monday, 10:00 UTC
HAIKU = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-5-20250929"
OPUS_41 = "claude-opus-4-1-20250805"

USAGE_COLUMNS = ["bucket_start", "workspace_id", "api_key_id", "model", "service_tier", "context_window",
                 "inference_geo", "speed", "uncached_input_tokens", "cache_read_input_tokens", "cache_write_5m_tokens",
                 "cache_write_1h_tokens", "output_tokens", "web_search_requests", "extracted_at"]
EVENT_COLUMNS = ["event_id", "ts", "team", "feature", "env", "workspace_id", "api_key_id", "model", "service_tier",
                 "inference_geo", "speed", "input_tokens", "output_tokens", "cache_read_input_tokens",
                 "cache_write_5m_tokens", "cache_write_1h_tokens", "web_search_requests", "ingested_at"]
COST_COLUMNS = ["date", "workspace_id", "description", "cost_type", "model", "token_type", "service_tier",
                "context_window", "currency", "amount_usd", "extracted_at"]

CONFIG = {
    "teams": {"search": {"cost_center": "CC-100 Search"}, "data": {"cost_center": "CC-500 Data"},
              "research": {"cost_center": "CC-400 Research"}, "platform": {"cost_center": "CC-500 Data"}},
    "owners": {"api_keys": {"key_search": "search"}, "workspaces": {"ws_research": "research"}},
}


DATA_TABLES = ("usage_events", "admin_usage_hourly", "admin_cost_daily", "allocation_hourly", "allocation_event_cells",
               "allocation_reconciliation_daily", "chargeback_monthly")


def with_list_prices(ch: ClickHouseResource) -> ClickHouseResource:
    """``ch`` with the bundled list prices loaded (no LEDGER_CONFIG, so no price overrides)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEDGER_CONFIG", str(Path(ch.ledger_home) / "no-config.yaml"))
        load_prices(ch)
    return ch


def emptied(ch: ClickHouseResource) -> ClickHouseResource:
    """The database without usage, reports or allocations: each test starts from its own data only."""
    with ch.connect() as client:
        for table in DATA_TABLES:
            client.command("TRUNCATE TABLE {table:Identifier}", parameters={"table": table})
    return ch


def config(**overrides: object) -> AttributionConfig:
    return AttributionConfig.model_validate({**CONFIG, **overrides})


def write_config(path: Path, **overrides: object) -> Path:
    path.write_text(yaml.safe_dump({**CONFIG, **overrides}))
    return path


def admin_usage(ch: ClickHouseResource, *, hour: datetime = HOUR, workspace: str = "ws1", key: str = "key_search",
                model: str = HAIKU, tier: str = "standard", context: str = "0-200k", geo: str = "",
                speed: str = "standard", input: int = 0, cache_read: int = 0, write_5m: int = 0, write_1h: int = 0,
                output: int = 0, web_search: int = 0) -> None:
    with ch.connect() as client:
        client.insert("admin_usage_hourly", [[hour, workspace, key, model, tier, context, geo, speed, input, cache_read,
                                              write_5m, write_1h, output, web_search, datetime.now(UTC)]],
                      column_names=USAGE_COLUMNS)


def usage_event(ch: ClickHouseResource, event_id: str, team: str, feature: str, *, env: str = "prod",
                ts: datetime = HOUR, workspace: str = "ws1", key: str = "key_search", model: str = HAIKU,
                tier: str = "standard", geo: str = "", speed: str = "standard", input: int = 0, output: int = 0,
                cache_read: int = 0, write_5m: int = 0, write_1h: int = 0, web_search: int = 0) -> None:
    with ch.connect() as client:
        client.insert("usage_events", [[event_id, ts, team, feature, env, workspace, key, model, tier, geo, speed,
                                        input, output, cache_read, write_5m, write_1h, web_search,
                                        datetime.now(UTC)]],
                      column_names=EVENT_COLUMNS)


def cost_report(ch: ClickHouseResource, day: date, workspace: str, amount_usd: str, *, model: str = HAIKU,
                cost_type: str = "tokens") -> None:
    with ch.connect() as client:
        client.insert("admin_cost_daily", [[day, workspace, f"{model} {cost_type}", cost_type, model, "", "standard",
                                            "0-200k", "USD", Decimal(amount_usd), datetime.now(UTC)]],
                      column_names=COST_COLUMNS)


def claude_code_split(ch: ClickHouseResource, day: date, workspace: str, charged: dict[str, str]) -> None:
    """claude_code_team_daily's api rows of a day: the Claude Code workspace's invoice charged (and estimated) to
    teams as given (docs/claude_code.md)."""
    with ch.connect() as client:
        client.insert("claude_code_team_daily",
                      [[day, workspace, team, "api", Decimal(usd), Decimal(usd), 0, datetime.now(UTC)]
                       for team, usd in charged.items()],
                      column_names=["date", "workspace_id", "team", "customer_type", "estimated_cost_usd",
                                    "charged_usd", "provisional", "computed_at"])


def export_october(ch: ClickHouseResource) -> None:
    """The October of the export specs. ws1: 300K input + 100K output of Haiku 4.5 (list $0.80), billed $0.72;
    e1 search/query-rewrite 200K + 60K, e2 data/doc-summarise 50K + 20K, the rest (50K + 20K) to the key's owner,
    search. Console Sonnet 4.5 use, 100K input (list $0.30, no cost report), is shared 0.585 : 0.135 (search :
    data) under the proportional policy."""
    admin_usage(ch, input=300_000, output=100_000)
    usage_event(ch, "e1", "search", "query-rewrite", input=200_000, output=60_000)
    usage_event(ch, "e2", "data", "doc-summarise", input=50_000, output=20_000)
    admin_usage(ch, workspace="", key="", model=SONNET, input=100_000)
    cost_report(ch, OCTOBER.replace(day=5), "ws1", "0.72")


def showback(ch: ClickHouseResource, workspace: str = "ws1") -> list[tuple]:
    """(token_type, team, feature, basis, quantity, list_cost_usd, allocated_cost_usd, provisional) of a workspace."""
    return ch.query_rows(
        "SELECT token_type, team, feature, basis, quantity, list_cost_usd, allocated_cost_usd, provisional "
        "FROM allocation_hourly WHERE workspace_id = {workspace:String} "
        "ORDER BY hour, api_key_id, model, token_type, team, feature", {"workspace": workspace})
