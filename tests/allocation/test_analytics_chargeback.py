"""Specification of the chargeback with the optional Analytics API source: list, net and discount per line summing to
the Analytics API's month to the cent, when they were fetched and how final they are in the manifest, and off =
unchanged.

October's chargeback lines (test_chargeback_export) have list costs 0.15, 0.24, 0.50, 0.06, 0.15 (110 cents). The
Analytics API's October: 5th total 1.20 list / 1.00 net, 6th total 0.80 / 0.70, so 2.00 list, 1.70 net, 0.30
discount. By hand, largest remainder over weights 15, 24, 50, 6, 15:
  list 200 cents: floors 27, 43, 90, 10, 27 (197), the 3 cents left to remainders 100, 100, 70 -> 27, 44, 91, 11, 27
  discount 30:    floors 4, 6, 13, 1, 4 (28), the 2 left to remainders 70, 70             -> 4, 6, 14, 2, 4
  net = list - discount                                                                     -> 23, 38, 77, 9, 23
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow.parquet as pq
import pytest
from admin_api_traffic import Traffic, simulator_for
from allocation_data import (
    HOUR,
    OCTOBER,
    config,
    export_october,
    write_config,
)
from dagster import DagsterInstance, EnvVar, materialize

from pipelines.admin_api.analytics import fetch_analytics_cost
from pipelines.admin_api.client import AdminApiClient
from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.assets import chargeback, chargeback_export
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.allocation.discounts import analytics_month
from pipelines.allocation.export import EXPORT_COLUMNS, export_chargeback
from pipelines.ledger_config import LedgerConfig

FETCHED = datetime(2026, 11, 20, 6, tzinfo=UTC)
ANALYTICS_COLUMNS = ["date", "row_type", "product", "model", "currency", "list_amount_usd", "net_amount_usd",
                     "extracted_at"]


def analytics_rows(ch, fetched: datetime = FETCHED) -> None:
    """Each day's total row with the group rows of its breakdown (never to be added to it)."""
    rows = [(5, "total", "", "1.20", "1.00"), (5, "group", "claude-haiku-4-5", "1.00", "0.82"),
            (5, "group", "claude-sonnet-4-6", "0.20", "0.18"), (6, "total", "", "0.80", "0.70"),
            (6, "group", "claude-haiku-4-5", "0.80", "0.70")]
    with ch.connect() as client:
        client.insert("analytics_cost_daily",
                      [[OCTOBER.replace(day=day), kind, "", model, "USD", Decimal(lst), Decimal(net), fetched]
                       for day, kind, model, lst, net in rows],
                      column_names=ANALYTICS_COLUMNS)


@pytest.fixture
def october(priced):
    """The export specs' October (allocation_data.export_october), charged back (proportional), with the
    Analytics API's October."""
    priced.command("TRUNCATE TABLE analytics_cost_daily")
    export_october(priced)
    cfg = config(shared_cost_policy="proportional")
    allocate_month(priced, OCTOBER, cfg)
    write_chargeback(priced, OCTOBER, chargeback_lines_for(showback_lines(priced, OCTOBER), cfg, month_closed=True),
                     cfg.shared_cost_policy)
    analytics_rows(priced)
    return priced


def team_sums(path) -> dict[str, list[Decimal]]:
    teams: dict[str, list[Decimal]] = {}
    for row in csv_lines(path):
        sums = teams.setdefault(row["team"], [Decimal(0)] * 3)
        for i, name in enumerate(("analytics_list_cost_usd", "net_cost_usd", "discount_usd")):
            sums[i] += Decimal(row[name])
    return teams


def csv_lines(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_month_is_its_days_total_rows_never_their_group_rows(october):
    month = analytics_month(october, OCTOBER)
    assert (month.list_usd, month.net_usd, month.discount_usd) == (Decimal("2.00"), Decimal("1.70"), Decimal("0.30"))


def test_each_line_shows_list_net_and_discount_by_its_share_of_list_cost(october, tmp_path):
    result = export_chargeback(october, OCTOBER, tmp_path, "proportional", analytics_month(october, OCTOBER))
    lines = csv_lines(result.csv_path)
    assert [(r["team"], r["feature"], r["list_cost_usd"], r["analytics_list_cost_usd"], r["net_cost_usd"],
             r["discount_usd"]) for r in lines] == [
        ("search", "", "0.15", "0.27", "0.23", "0.04"),
        ("search", "(shared cost)", "0.24", "0.44", "0.38", "0.06"),
        ("search", "query-rewrite", "0.50", "0.91", "0.77", "0.14"),
        ("data", "(shared cost)", "0.06", "0.11", "0.09", "0.02"),
        ("data", "doc-summarise", "0.15", "0.27", "0.23", "0.04"),
    ]


def test_per_team_list_net_and_discount_equal_the_hand_figures(october, tmp_path):
    result = export_chargeback(october, OCTOBER, tmp_path, "proportional", analytics_month(october, OCTOBER))
    assert team_sums(result.csv_path) == {"search": [Decimal("1.62"), Decimal("1.38"), Decimal("0.24")],
                     "data": [Decimal("0.38"), Decimal("0.32"), Decimal("0.06")]}


def test_the_manifest_records_when_the_month_was_fetched_and_that_it_is_provisional(october, tmp_path):
    result = export_chargeback(october, OCTOBER, tmp_path, "proportional", analytics_month(october, OCTOBER))
    manifest = json.loads(result.manifest_path.read_text())
    assert manifest["analytics_api"] == {
        "list_cost_usd": "2.00", "net_cost_usd": "1.70", "discount_usd": "0.30", "days": 2,
        "fetched_at": "2026-11-20T06:00:00Z", "finality": "provisional as of 2026-11-20T06:00:00Z"}
    assert manifest["columns"][-3:] == ["analytics_list_cost_usd", "net_cost_usd", "discount_usd"]


def test_a_month_fetched_more_than_30_days_after_its_end_is_final(october, tmp_path):
    analytics_rows(october, fetched=datetime(2026, 12, 1, 0, 0, 1, tzinfo=UTC))  # a newer fetch: Nov 1 + 30 d + 1 s
    assert analytics_month(october, OCTOBER).finality() == "final"


def test_the_parquet_file_carries_the_three_columns_as_decimals(october, tmp_path):
    result = export_chargeback(october, OCTOBER, tmp_path, "proportional", analytics_month(october, OCTOBER))
    table = pq.read_table(result.parquet_path)
    assert [str(table.schema.field(n).type) for n in ("analytics_list_cost_usd", "net_cost_usd", "discount_usd")] == [
        "decimal128(20, 2)"] * 3
    assert sum(table.column("net_cost_usd").to_pylist()) == Decimal("1.70")


def run_export_asset(ch, config_path, monkeypatch, exports) -> dict:
    monkeypatch.setenv("LEDGER_EXPORT_DIR", str(exports))
    result = materialize([chargeback_export], partition_key=OCTOBER.isoformat(), instance=DagsterInstance.ephemeral(),
                         resources={"clickhouse": ch, "ledger_config": LedgerConfig(path=str(config_path))})
    assert result.success
    return json.loads((exports / "chargeback-2026-10.manifest.json").read_text())


def test_off_the_export_asset_writes_the_ledger_columns_only(october, tmp_path, monkeypatch):
    manifest = run_export_asset(october, tmp_path / "no-config.yaml", monkeypatch, tmp_path / "off")
    assert "analytics_api" not in manifest
    assert manifest["columns"] == list(EXPORT_COLUMNS)
    direct = export_chargeback(october, OCTOBER, tmp_path / "direct", "proportional")
    assert (tmp_path / "off" / "chargeback-2026-10.csv").read_bytes() == direct.csv_path.read_bytes()


def test_on_the_export_asset_adds_the_analytics_figures(october, tmp_path, monkeypatch):
    config_path = tmp_path / "ledger.yaml"
    config_path.write_text("analytics_api:\n  enabled: true\n")
    manifest = run_export_asset(october, config_path, monkeypatch, tmp_path / "on")
    assert manifest["analytics_api"]["finality"] == "provisional as of 2026-11-20T06:00:00Z"
    assert manifest["analytics_api"]["net_cost_usd"] == "1.70"


def test_on_the_chargeback_shows_list_net_and_discount_per_team(october, tmp_path):
    config_path = write_config(tmp_path / "ledger.yaml", shared_cost_policy="proportional",
                               analytics_api={"enabled": True})
    result = materialize([chargeback], partition_key=OCTOBER.isoformat(), instance=DagsterInstance.ephemeral(),
                         resources={"clickhouse": october, "ledger_config": LedgerConfig(path=str(config_path))})
    [materialization] = result.asset_materializations_for_node("chargeback")
    table = materialization.metadata["list_net_discount_by_team"].value
    assert "| data | 0.38 | 0.32 | 0.06 |" in table
    assert "| search | 1.62 | 1.38 | 0.24 |" in table


def test_a_mistake_in_the_analytics_api_section_does_not_stop_the_export(october, tmp_path, monkeypatch):
    config_path = tmp_path / "ledger.yaml"
    config_path.write_text("analytics_api:\n  enabled: true\n  group_by: [team]\n")
    manifest = run_export_asset(october, config_path, monkeypatch, tmp_path / "typo")
    assert "analytics_api" not in manifest
    assert manifest["columns"] == list(EXPORT_COLUMNS)


def test_fetched_from_the_simulator_per_team_figures_equal_the_hand_figures(october, tmp_path, monkeypatch):
    """Over HTTP: 1 M Haiku input on the 5th and on the 6th = 2.00 list, 1.80 net (10 % off), 0.20 discount.
    The discount's 20 cents over weights 15, 24, 50, 6, 15: floors 2, 4, 9, 1, 2 (18), the 2 left to remainders
    80, 80 -> 3, 4, 9, 1, 3; search 3 + 4 + 9 = 16 cents, data 1 + 3 = 4."""
    with october.connect() as client:
        client.command("TRUNCATE TABLE analytics_cost_daily")
    traffic = Traffic()
    traffic.add(HOUR, input=1_000_000)
    traffic.add(HOUR.replace(day=6), input=1_000_000)
    with simulator_for(traffic, monkeypatch, now=lambda: FETCHED.replace(hour=12)):
        fetched = fetch_analytics_cost(AdminApiClient(api_key=EnvVar("ANTHROPIC_ADMIN_API_KEY")), october,
                                       datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC),
                                       ("model",))
    result = export_chargeback(october, OCTOBER, tmp_path, "proportional", analytics_month(october, OCTOBER))
    assert team_sums(result.csv_path) == {"search": [Decimal("1.62"), Decimal("1.46"), Decimal("0.16")],
                                          "data": [Decimal("0.38"), Decimal("0.34"), Decimal("0.04")]}
    # fetched now (the fetch has the real clock), more than 30 days after October's end
    assert fetched.extracted_at > datetime(2026, 12, 1, tzinfo=UTC)
    assert result.manifest["analytics_api"]["finality"] == "final"
