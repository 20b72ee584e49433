"""Server locks (pipelines/storage/server_lock.py): a live holder is waited for, a holder whose process is gone or
whose heartbeat stopped is taken over, a heartbeat thread keeps a busy holder's lease alive, and two processes
rebuilding the same table at once never mix their rows (pipelines/storage/rebuild.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import clickhouse_connect
import pytest
from crash import writing_alongside

from pipelines.storage.server_lock import ServerLock, server_lock
from pipelines.storage.server_lock import sql as lock_sql

LOCK = "some_write"


@pytest.fixture
def client(databases):
    client = clickhouse_connect.get_client(dsn=databases.dsn(databases.create()), autogenerate_session_id=False)
    yield client
    client.close()


def _lock_table(client) -> str:
    rows = client.query("SELECT toString(uuid) FROM system.tables WHERE database = currentDatabase() "
                        "AND name = {table:String}", parameters={"table": f"{LOCK}_lock"}).result_rows
    return rows[0][0] if rows else ""


def _held_by(client, host: str, pid: int, seconds_ago: int) -> str:
    """A lock as another process left it: its table and one heartbeat of its holder's."""
    client.command(lock_sql("server_lock_create"), parameters={"table": f"{LOCK}_lock"})
    client.command("INSERT INTO {table:Identifier} (holder, host, pid, pid_started, heartbeat) VALUES "
                   "('other', {host:String}, {pid:UInt32}, 1, now64(3) - toIntervalSecond({ago:UInt32}))",
                   parameters={"table": f"{LOCK}_lock", "host": host, "pid": pid, "ago": seconds_ago})
    return _lock_table(client)


def test_a_lock_with_a_live_heartbeat_on_another_host_is_left_alone(client):
    held = _held_by(client, "another-host", 4242, seconds_ago=1)
    ServerLock(client, LOCK, lease_s=60)._take_over_if_dead()
    assert _lock_table(client) == held


def test_a_lock_silent_for_longer_than_the_lease_is_taken_over(client):
    held = _held_by(client, "another-host", 4242, seconds_ago=120)
    ServerLock(client, LOCK, lease_s=60)._take_over_if_dead()
    assert _lock_table(client) == ""  # renamed aside; the next try creates its own
    assert client.query("EXISTS TABLE {name:Identifier}",
                        parameters={"name": f"{LOCK}_lock_{held.replace('-', '')}"}).result_rows == [(1,)]


def test_a_lock_of_a_process_gone_from_this_host_is_taken_over_at_once(client):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    _held_by(client, os.uname().nodename, int(dead.stdout), seconds_ago=0)
    ServerLock(client, LOCK, lease_s=60)._take_over_if_dead()
    assert _lock_table(client) == ""


def test_a_holder_s_heartbeat_thread_keeps_writing_while_it_holds_the_lock(databases):
    dsn = databases.dsn(databases.create())
    with clickhouse_connect.get_client(dsn=dsn) as client, clickhouse_connect.get_client(dsn=dsn) as beats, \
            server_lock(client, LOCK, heartbeats=beats, lease_s=0.4):
        count = 0
        while count < 4:  # the first heartbeat, then one every lease / 4, written by the thread alone
            count = client.query(f"SELECT count() FROM {LOCK}_lock").result_rows[0][0]
            time.sleep(0.05)
    assert _lock_table(client) == ""  # released: renamed aside


def test_the_holder_s_statements_carry_its_log_comment_by_which_a_taker_waits_for_them(client):
    with server_lock(client, LOCK) as lock:
        assert client.query("SELECT getSetting('log_comment')").result_rows == [(lock.comment,)]
    assert client.query("SELECT getSetting('log_comment')").result_rows == [("",)]


# Prices loaded over and over; each whole load prints "written".
LOAD_PRICES = """
from pipelines.pricing.assets import load_prices
from pipelines.storage.clickhouse import ClickHouseResource
ch = ClickHouseResource.from_env()
while True:
    load_prices(ch)
    print("written", flush=True)
"""


def test_two_processes_rebuilding_the_prices_at_once_never_leave_a_row_twice_or_a_table_empty(ch, tmp_path,
                                                                                              monkeypatch):
    monkeypatch.setenv("LEDGER_CONFIG", str(tmp_path / "no-config.yaml"))
    from pipelines.pricing.assets import load_prices

    expected = len(load_prices(ch))
    [[lookup]] = ch.query_rows("SELECT count() FROM unit_prices")
    seen = set()
    with writing_alongside(LOAD_PRICES, ch), writing_alongside(LOAD_PRICES, ch) as next_write:
        for _ in range(10):  # read while both rebuild: every read finds one whole table
            next_write()
            seen.add(ch.query_rows("SELECT (SELECT count() FROM model_prices), (SELECT count() FROM unit_prices)")[0])
    assert seen == {(expected, lookup)}
