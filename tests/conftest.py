"""Shared fixtures: a real ClickHouse server per test worker with a fresh database per test, a landing directory, a
local Slack, a real redis-server."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from clickhouse_databases import TestDatabases
from dagster import DagsterInstance
from redis_server import RedisServer
from slack_api_server import FakeSlack

from pipelines.storage.clickhouse import ClickHouseResource
from pipelines.storage.local_server import LocalServer

# The tests' data lies in 2025 and 2026 and each test has its own database: fixed partitions, and no probe of the
# project's database when the code location is imported (tests/storage/test_partitions_start.py tests the default).
os.environ["LEDGER_PARTITIONS_START"] = "2025-01-01"


@pytest.fixture(autouse=True)
def signals_stop_the_processes_a_test_starts():
    """An xdist worker ignores SIGINT, and an ignored signal is inherited: a `dagster dev` a test starts would ignore
    Ctrl-C's SIGINT, and Dagster maps SIGTERM to SIGINT's handler (dagster._utils.interrupts), in the processes it
    starts and in the worker itself once it has executed a run in-process: then nothing the test starts stops on
    SIGTERM either. Each test starts with Python's defaults, as a terminal gives them."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield


@pytest.fixture(scope="session", autouse=True)
def no_local_server_left_running(tmp_path_factory):
    """Tests that use the local default (no CLICKHOUSE_DSN: `ledger`, the demo) start a local server in their data
    directory; any still running when the session ends is stopped."""
    yield
    for record in tmp_path_factory.getbasetemp().glob("**/clickhouse-server/server.json"):
        LocalServer(record.parent.parent).stop()


@pytest.fixture(scope="session")
def databases(tmp_path_factory) -> TestDatabases:
    """This worker's ClickHouse server (the product's local server) and its pool of migrated databases."""
    pool = TestDatabases(tmp_path_factory.mktemp("clickhouse"))
    yield pool
    pool.close()


@pytest.fixture
def ch(databases: TestDatabases, tmp_path: Path) -> ClickHouseResource:
    """A migrated, empty database of this test's own; the data directory in the test's temporary directory."""
    with databases.resource(tmp_path / "ledger") as resource:
        yield resource


@pytest.fixture(scope="module")
def module_ch(databases: TestDatabases, tmp_path_factory) -> ClickHouseResource:
    """A migrated, empty database shared by the tests of one module."""
    with databases.resource(tmp_path_factory.mktemp("ledger")) as resource:
        yield resource


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    directory = tmp_path / "events"
    directory.mkdir()
    return directory


@pytest.fixture
def slack():
    """A local Slack Web API (and webhook) server on 127.0.0.1, see slack_api_server.py."""
    server = FakeSlack()
    yield server
    server.close()


@pytest.fixture(scope="module")
def instance():
    with DagsterInstance.ephemeral() as instance:
        yield instance


@pytest.fixture
def redis_server(tmp_path: Path):
    """A redis-server of this test's own on a free loopback port (redis_server.py), stopped after it."""
    server = RedisServer(tmp_path / "redis")
    yield server
    server.stop()
