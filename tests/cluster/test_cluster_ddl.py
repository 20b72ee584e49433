"""Specification of the cluster DDL of docs/scale.md (sql/cluster/usage_events_cluster.sql) on two real ClickHouse
servers: two shards behind the Distributed usage_events and rejected_events, the pipeline connected to the first.

The file runs without Keeper (clickhouse_cluster.keeperless): each statement on every node instead of ON CLUSTER, each
shard's table a ReplacingMergeTree instead of a ReplicatedReplacingMergeTree. Replication and ON CLUSTER themselves
are not tested: this engine cannot run them (the first spec says how it refuses; docs/scale.md says what that leaves).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from allocation_data import OCTOBER, admin_usage, config, cost_report, with_list_prices
from clickhouse_cluster import ClickHouseCluster
from clickhouse_connect.driver.exceptions import DatabaseError
from event_lines import event, write_lines

from pipelines.allocation.allocate import allocate_month
from pipelines.allocation.chargeback import chargeback_lines_for, showback_lines, write_chargeback
from pipelines.events.ingest import ingest_landing_zone
from pipelines.storage.clickhouse import ClickHouseResource

EVENT_TOTALS = "SELECT count(), sum(input_tokens), sum(output_tokens) FROM usage_events FINAL"
REJECTED = "SELECT count(), arraySort(groupUniqArray(reason)) FROM rejected_events FINAL"
COLUMNS = ("SELECT name, type, default_kind, default_expression FROM system.columns "
           "WHERE database = currentDatabase() AND table = {table:String} ORDER BY position")
CLUSTER_TABLES = [("rejected_events", "Distributed"), ("rejected_events_local", "ReplacingMergeTree"),
                  ("usage_events", "Distributed"), ("usage_events_local", "ReplacingMergeTree")]
FINANCE_VIEWS = ("finance_daily_spend", "finance_monthly_chargeback", "finance_unit_cost_by_feature",
                 "finance_model_mix", "finance_reconciliation_daily")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> ClickHouseCluster:
    servers = ClickHouseCluster(tmp_path_factory.mktemp("cluster"))
    yield servers
    servers.stop()


@pytest.fixture
def database(cluster: ClickHouseCluster) -> str:
    """A database with the cluster tables on both nodes, as an operator creates them before the pipeline's first
    use."""
    return cluster.database()


@pytest.fixture
def on_cluster(cluster: ClickHouseCluster, database: str, tmp_path: Path) -> ClickHouseResource:
    """The pipeline connected to the first node, its migrations applied there (its first use)."""
    pipeline = ClickHouseResource(dsn=cluster.nodes[0].dsn(database), ledger_home=str(tmp_path / "ledger"),
                                  reads_local_files=True)
    pipeline.query_rows("SELECT 1")
    return pipeline


def test_this_engine_runs_no_on_cluster_ddl_and_opens_no_interserver_port_so_replicas_are_not_tested(cluster):
    client = cluster.nodes[0].client("default")
    try:
        with pytest.raises(DatabaseError, match="Replicated DDL queries are disabled"):
            client.command("CREATE TABLE on_cluster ON CLUSTER '{cluster}' (id String) ENGINE = Memory")
        # A replica announces its interserver address to Keeper, and its peers fetch parts from it there.
        with pytest.raises(DatabaseError, match="supports only TCP and HTTP listeners"):
            client.command("SYSTEM START LISTEN INTERSERVER HTTP")
    finally:
        client.close()


def test_the_pipeline_takes_the_cluster_tables_as_its_own(cluster, database, on_cluster, ch):
    tables = cluster.on_each_node(database, "SELECT name, engine FROM system.tables "
                                            "WHERE database = currentDatabase() ORDER BY name")
    assert set(CLUSTER_TABLES) <= set(tables[0])  # the migrations on the first node kept them as they were
    # The second shard needs nothing but the cluster tables: no migration, no ledger_ function.
    assert tables[1] == CLUSTER_TABLES
    functions = "SELECT count() FROM system.functions WHERE name LIKE 'ledger\\_%'"
    on_first, on_second = (count for [(count,)] in cluster.on_each_node(database, functions))
    assert on_first > 0 and on_second == 0
    for table in ("usage_events", "rejected_events"):
        on_one_server = ch.query_rows(COLUMNS, {"table": table})
        assert on_cluster.query_rows(COLUMNS, {"table": table}) == on_one_server
        assert cluster.on_each_node(database, COLUMNS, {"table": f"{table}_local"}) == [on_one_server] * 2


@pytest.mark.parametrize("ship", [False, True], ids=["read-in-place", "shipped"])
def test_events_ingested_through_one_node_are_sharded_by_event_id_and_counted_once(cluster, database, on_cluster,
                                                                                  landing, ship):
    write_lines(landing / "a.jsonl", *(event(f"e{i}") for i in range(100)), "not json",
                event("neg", usage={"input_tokens": -1}))
    write_lines(landing / "b.jsonl", *(event(f"e{i}") for i in range(50, 150)))  # e50..e99 a second time
    assert ingest_landing_zone(on_cluster, landing, ship=ship).loaded == 200
    on_cluster.command("TRUNCATE TABLE ingest_files")  # forget the offsets: both files are read again
    assert ingest_landing_zone(on_cluster, landing, ship=ship).loaded == 200

    shards = cluster.on_each_node(database, "SELECT event_id FROM usage_events_local FINAL")
    first, second = ({event_id for (event_id,) in rows} for rows in shards)
    assert first and second and not first & second  # every copy of an event on the shard its event_id hashes to
    assert len(first) + len(second) == 150
    for totals in cluster.on_each_node(database, EVENT_TOTALS):  # the same through either node's Distributed table
        assert totals == [(150, 15_000, 1_500)]
    assert cluster.on_each_node(database, REJECTED) == [
        [(2, ["not valid JSON", "usage.input_tokens is negative"])]] * 2


def _october(pipeline: ClickHouseResource, landing: Path) -> dict[str, list[tuple]]:
    """October on ``pipeline``: 40 events of two teams ingested (64 580 + 4 000 tokens), 65 000 in the Admin API's
    hour (the rest to the key's owner), $0.09 billed; allocated, charged back, and read through the finance views."""
    with_list_prices(pipeline)
    write_lines(landing / "october.jsonl", *(
        event(f"e{i}", team=("search", "data")[i % 2], workspace_id="ws1", api_key_id="key_search",
              usage={"input_tokens": 1_000 + i, "output_tokens": 100}) for i in range(40)))
    ingest_landing_zone(pipeline, landing)
    admin_usage(pipeline, input=60_000, output=5_000)
    cost_report(pipeline, date(2026, 10, 5), "ws1", "0.09")
    attribution = config()
    allocate_month(pipeline, OCTOBER, attribution)
    lines = chargeback_lines_for(showback_lines(pipeline, OCTOBER), attribution, month_closed=True)
    write_chargeback(pipeline, OCTOBER, lines, attribution.shared_cost_policy)
    return {view: pipeline.query_rows("SELECT * FROM {view:Identifier} ORDER BY ALL", {"view": view})
            for view in FINANCE_VIEWS}


def test_a_month_allocated_over_two_shards_reads_in_the_finance_views_as_on_one_server(cluster, database, on_cluster,
                                                                                      ch, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    assert _october(on_cluster, two) == _october(ch, one)
    teams = cluster.on_each_node(database, "SELECT DISTINCT team FROM usage_events_local ORDER BY team")
    assert teams == [[("data",), ("search",)]] * 2  # each team's events split over both shards
