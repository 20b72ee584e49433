"""A ClickHouse cluster on loopback for the cluster specs: N shards of one replica each, every node the product's own
local server (``pipelines.storage.local_server``) over a directory of its own.

A node is a ``LocalServer`` with two more files beside the ``config.xml`` and ``users.xml`` it writes, which
ClickHouse merges over them as on any server:

- ``config.d/cluster.xml``: the cluster ``ledger`` in ``remote_servers`` (the same on every node: one shard per
  node) and the node's ``macros`` (``{cluster}``, ``{shard}``, ``{replica}``);
- ``users.d/cluster.xml``: ``distributed_foreground_insert = 1`` in the default profile, as docs/scale.md asks of
  the pipeline's user: an insert into a ``Distributed`` table returns once every shard holds its rows.

There is no Keeper: the engine of chdb-core (clickhouse-local) has no Keeper server, cannot open the interserver
port a replica needs, and refuses ``ON CLUSTER`` (docs/scale.md). So the nodes are shards, not replicas, and the
project's cluster DDL runs in its Keeper-less form (``keeperless``), each statement on every node in turn.
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import clickhouse_connect
from clickhouse_connect.driver.client import Client

from pipelines.storage.local_server import LocalServer, ServerInfo
from pipelines.storage.sql_files import SHARED_SQL_DIR, split_statements

CLUSTER = "ledger"
CLUSTER_DDL = SHARED_SQL_DIR / "cluster" / "usage_events_cluster.sql"
_ON_CLUSTER = re.compile(r"\s+ON CLUSTER '\{cluster\}'")
_REPLICATED = re.compile(r"\bReplicated(\w*MergeTree)\('[^']*', '\{replica\}', ")
_USERS_XML = """<clickhouse>
    <!-- Written by tests/support/clickhouse_cluster.py: merged over the users.xml the local server writes. -->
    <profiles><default><distributed_foreground_insert>1</distributed_foreground_insert></default></profiles>
</clickhouse>
"""


def keeperless(ddl: str) -> str:
    """The cluster DDL as it runs without Keeper: no ``ON CLUSTER`` (the caller runs each statement on every node),
    and each shard's ``Replicated…MergeTree(path, replica, version)`` a plain ``…MergeTree(version)``. Everything else
    (columns, partitioning, sorting keys, the ``Distributed`` tables and their sharding keys) is the file's own."""
    rewritten = _REPLICATED.sub(r"\1(", _ON_CLUSTER.sub("", ddl))
    left = re.findall(r"ON CLUSTER [^\s(]+|Replicated\w*\([^)]*\)", rewritten)
    if left:
        raise ValueError(f"keeperless() cannot rewrite {left} of {CLUSTER_DDL.name}: update it with the file")
    return rewritten


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held together while they are picked)."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def _cluster_xml(shard: int, tcp_ports: list[int]) -> str:
    shards = "".join(f"<shard><replica><host>127.0.0.1</host><port>{port}</port></replica></shard>"
                     for port in tcp_ports)
    return f"""<clickhouse>
    <!-- Written by tests/support/clickhouse_cluster.py: merged over the config.xml the local server writes. -->
    <remote_servers><{CLUSTER}>{shards}</{CLUSTER}></remote_servers>
    <macros><cluster>{CLUSTER}</cluster><shard>{shard}</shard><replica>r{shard}</replica></macros>
</clickhouse>
"""


@dataclass(frozen=True)
class Node:
    shard: int
    server: LocalServer
    info: ServerInfo

    def dsn(self, database: str) -> str:
        return self.info.dsn(database=database)

    def client(self, database: str) -> Client:
        return clickhouse_connect.get_client(dsn=self.dsn(database), autogenerate_session_id=False)


class ClickHouseCluster:
    """``shards`` local servers forming the cluster ``ledger``, one shard each; ``stop()`` stops them all."""

    def __init__(self, directory: Path, shards: int = 2) -> None:
        ports = _free_ports(2 * shards)
        http_ports, tcp_ports = ports[:shards], ports[shards:]
        self.nodes: list[Node] = []
        self._databases = 0
        try:
            for shard in range(1, shards + 1):
                server = LocalServer(directory / f"shard{shard}")
                for extra, text in (("config.d", _cluster_xml(shard, tcp_ports)), ("users.d", _USERS_XML)):
                    (server.directory / extra).mkdir(parents=True, exist_ok=True)
                    (server.directory / extra / "cluster.xml").write_text(text)
                info = server.start(http_port=http_ports[shard - 1], tcp_port=tcp_ports[shard - 1])
                self.nodes.append(Node(shard, server, info))
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in self.nodes:
            node.server.stop()

    def on_each_node(self, database: str, sql: str, parameters: dict[str, Any] | None = None) -> list[list[tuple]]:
        """The rows ``sql`` returns on each node, in shard order."""
        results = []
        for node in self.nodes:
            client = node.client(database)
            try:
                results.append(client.query(sql, parameters=parameters or {}).result_rows)
            finally:
                client.close()
        return results

    def database(self) -> str:
        """A new database holding the cluster tables (``sql/cluster/usage_events_cluster.sql``) on every node: each
        statement on each node in turn, as ``ON CLUSTER`` would run it."""
        self._databases += 1
        name = f"cluster_{self._databases}"
        statements = split_statements(keeperless(CLUSTER_DDL.read_text()))
        for node in self.nodes:
            client = node.client("default")
            try:
                client.command("CREATE DATABASE {name:Identifier}", parameters={"name": name})
            finally:
                client.close()
        for statement in statements:
            for node in self.nodes:
                client = node.client(name)
                try:
                    client.command(statement)
                finally:
                    client.close()
        return name
