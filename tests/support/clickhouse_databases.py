"""A real ClickHouse server per test worker, and a fresh, migrated database per test (or test module).

The server is the product's own local server (``pipelines.storage.local_server``) over a data directory of the
worker's. Migrating a database costs seconds (every statement is DDL), so databases are pooled: a test leases one,
and when it is done the database is emptied and leased again: what the test created is dropped, every table the
migrations made is truncated (a database that lost one of them is dropped instead). Before emptying, the pool waits
until no query runs in the database any more: a SIGKILLed writer's last statement may still run on the server, and
must not land in the next test's tables.

Processes a test starts reach the same database through ``server_env`` (``CLICKHOUSE_DSN``), reading landing-zone
files in place as the local server does (``CLICKHOUSE_READS_LOCAL_FILES``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import clickhouse_connect

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.local_server import LocalServer, ServerInfo

IDLE_POLL_S = 0.05


class TestDatabases:
    """The worker's server and its pool of databases."""

    def __init__(self, directory: Path) -> None:
        self.server = LocalServer(directory)
        self.info: ServerInfo = self.server.start()
        self.admin = clickhouse_connect.get_client(dsn=self.info.dsn(user="default", database="default"),
                                                   autogenerate_session_id=False)
        self.created = 0
        self.free: list[str] = []
        self.migrated: dict[str, set[str]] = {}  # database -> the objects its migrations made

    def close(self) -> None:
        self.admin.close()
        self.server.stop()

    def dsn(self, database: str, user: str = "default") -> str:
        return self.info.dsn(user=user, database=database)

    def create(self) -> str:
        """A new, empty database (no schema) on the worker's server."""
        self.created += 1
        name = f"test_{self.created}"
        self.admin.command("CREATE DATABASE {name:Identifier}", parameters={"name": name})
        return name

    @contextmanager
    def lease(self) -> Iterator[str]:
        """A migrated database with no rows, for as long as the ``with`` lasts."""
        if self.free:
            name = self.free.pop()
        else:
            name = self.create()
            ClickHouseResource(dsn=self.dsn(name)).query_rows("SELECT 1")  # a writer's first use: migrated
            self.migrated[name] = set(self._objects(name))
        try:
            yield name
        finally:
            if self._empty(name):
                self.free.append(name)

    @contextmanager
    def resource(self, home: Path) -> Iterator[ClickHouseResource]:
        """A leased database as the pipeline's resource, with ``home`` (created) as its data directory."""
        home.mkdir(parents=True, exist_ok=True)
        with self.lease() as name:
            yield ClickHouseResource(dsn=self.dsn(name), ledger_home=str(home), reads_local_files=True)

    def _objects(self, name: str) -> dict[str, str]:
        """The database's tables and views: name -> engine."""
        return dict(self.admin.query("SELECT name, engine FROM system.tables WHERE database = {name:String}",
                                     parameters={"name": name}).result_rows)

    def _empty(self, name: str) -> bool:
        """Empty the database for the next lease; False when it was dropped instead."""
        while self.admin.query("SELECT count() FROM system.processes WHERE current_database = {name:String}",
                               parameters={"name": name}).result_rows[0][0]:
            time.sleep(IDLE_POLL_S)  # a killed writer's statement still runs: let it land before emptying
        objects = self._objects(name)
        if not self.migrated[name] <= set(objects):
            self.admin.command("DROP DATABASE {name:Identifier} SYNC", parameters={"name": name})
            return False
        added = sorted(set(objects) - self.migrated[name], key=lambda table: "View" not in objects[table])
        for table in added:  # views first: a materialized view may write into a table the test added
            self.admin.command("DROP TABLE {db:Identifier}.{table:Identifier} SYNC", parameters={"db": name,
                                                                                              "table": table})
        for table in sorted(self.migrated[name]):
            if not table.startswith("schema_") and (objects[table].endswith("MergeTree") or objects[table] == "Memory"):
                self.admin.command("TRUNCATE TABLE {db:Identifier}.{table:Identifier}",
                                   parameters={"db": name, "table": table})
        return True


def server_env(ch: ClickHouseResource) -> dict[str, str]:
    """The environment that points a process the test starts at ``ch``'s database."""
    return {"CLICKHOUSE_DSN": ch.dsn, "CLICKHOUSE_READS_LOCAL_FILES": "1", "LEDGER_HOME": ch.ledger_home}
