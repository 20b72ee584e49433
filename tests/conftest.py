"""Shared fixtures: a real embedded ClickHouse (chDB) per test, a landing directory, a local Slack, a real
redis-server."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from dagster import DagsterInstance
from redis_server import RedisServer
from slack_api_server import FakeSlack

from pipelines.storage.clickhouse import ClickHouseResource

# The tests' data lies in 2025 and 2026 and each test has its own database: fixed partitions, and no probe of the
# project's database when the code location is imported (tests/storage/test_partitions_start.py tests the default).
os.environ["LEDGER_PARTITIONS_START"] = "2025-01-01"


@pytest.fixture
def ch(tmp_path: Path) -> ClickHouseResource:
    """A fresh embedded database in the test's temporary directory."""
    return ClickHouseResource(ledger_home=str(tmp_path / "ledger"))


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
