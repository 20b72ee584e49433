"""The local default: a real ClickHouse server for $LEDGER_HOME that `ledger db` starts, reports and stops, which
keeps its data and its port across restarts, says in one line why it cannot start, and serves every process at once
(pipelines/storage/local_server.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from event_lines import event, write_lines

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.local_server import LocalServer

BIN = Path(sys.executable).parent


def ledger(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LEDGER_HOME": str(home), "CLICKHOUSE_DSN": "", **env}
    return subprocess.run([str(BIN / "ledger"), *args], cwd=PROJECT_ROOT, env=environment, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def home(tmp_path) -> Iterator[Path]:
    home = tmp_path / "ledger"
    yield home
    LocalServer(home).stop()


def test_ledger_db_starts_reports_and_stops_the_local_server(home):
    not_running = f"local ClickHouse server of {home}: not running (`ledger db start`)\n"
    assert ledger(home, "db", "status").stdout == not_running
    started = ledger(home, "db", "start")
    assert started.returncode == 0, started.stderr
    info = LocalServer(home).running()
    assert info is not None
    connect = [f"  pipeline:                http://ledger@127.0.0.1:{info.http_port}/ledger",
               f"  finance (read-only):     http://finance@127.0.0.1:{info.http_port}/ledger",
               f"  clickhouse-client:       clickhouse-client --port {info.tcp_port} --user finance --database ledger"]
    first, *rest = started.stdout.splitlines()
    assert first.startswith(f"local ClickHouse server of {home}: started (pid {info.pid}); ")
    assert first.endswith(" migrations applied now")
    assert rest == [*connect, "  it runs until `ledger db stop` (or `make clean`)"]
    status = ledger(home, "db", "status")
    assert (status.returncode, status.stdout.splitlines()[:4]) == (
        0, [f"local ClickHouse server of {home}: running (pid {info.pid})", *connect])
    assert status.stdout.splitlines()[4].startswith("schema: the database is current (")
    assert ledger(home, "db", "stop").stdout == f"local ClickHouse server of {home}: stopped\n"
    assert LocalServer(home).running() is None
    assert ledger(home, "db", "status").returncode == 1


def test_data_and_ports_survive_a_restart(home):
    assert ledger(home, "db", "start").returncode == 0
    before = LocalServer(home).running()
    wrote = ledger(home, "sql", "--write", "INSERT INTO ingest_files (path, byte_offset, lines_read, file_size, "
                   "updated_at) VALUES ('kept.jsonl', 10, 1, 10, '2026-12-01 00:00:00')")
    assert wrote.returncode == 0, wrote.stderr
    assert ledger(home, "db", "stop").returncode == 0
    assert ledger(home, "db", "start").returncode == 0
    after = LocalServer(home).running()
    assert (after.http_port, after.tcp_port) == (before.http_port, before.tcp_port)  # a BI tool's DSN stays valid
    assert after.pid != before.pid
    assert ledger(home, "sql", "--format", "csv", "SELECT path FROM ingest_files").stdout == "path\nkept.jsonl\n"


def test_a_server_that_cannot_start_says_why_in_one_line(home):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = ledger(home, "db", "start", LEDGER_CLICKHOUSE_HTTP_PORT=str(port))
    assert done.returncode == 1
    [line] = done.stderr.splitlines()
    assert line.startswith(f"ledger: the local ClickHouse server for {home} exited at start (")
    assert f"Address already in use: 127.0.0.1:{port}" in line
    assert line.endswith(f"; log: {home}/clickhouse-server/server.log)")


def test_the_finance_user_reads_the_finance_views_and_nothing_else(home):
    assert ledger(home, "db", "start").returncode == 0
    finance = {"CLICKHOUSE_DSN": LocalServer(home).running().dsn(user="finance")}
    view = ledger(home, "sql", "--format", "csv", "SELECT count() AS months FROM finance_monthly_chargeback", **finance)
    assert (view.returncode, view.stdout, view.stderr) == (0, "months\n0\n", "")
    table = ledger(home, "sql", "SELECT count() FROM usage_events", **finance)
    assert table.returncode == 1
    assert table.stderr == ("ledger: Code: 497. DB::Exception: finance: Not enough privileges. To execute this "
                            "query, it's necessary to have the grant SELECT ON ledger.usage_events. (ACCESS_DENIED)\n")
    write = ledger(home, "sql", "--write", "DROP TABLE finance_monthly_chargeback", **finance)
    assert write.returncode == 1 and "(ACCESS_DENIED)" in write.stderr


def test_ledger_sql_answers_while_an_ingest_run_is_stopped_in_the_middle_of_its_write(home, tmp_path):
    assert ledger(home, "db", "start").returncode == 0
    landing = tmp_path / "events"
    landing.mkdir()
    write_lines(landing / "a.jsonl", *(event(f"e{n}") for n in range(20_000)))
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "LEDGER_HOME": str(home), "CLICKHOUSE_DSN": "", "LEDGER_EVENTS_DIR": str(landing),
           "DAGSTER_HOME": str(tmp_path)}
    run = subprocess.Popen([str(BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions",
                            "--select", "usage_events"], cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, start_new_session=True)
    for line in run.stderr:  # the run logs each file as it starts reading it
        if f"reading {landing / 'a.jsonl'}" in line:
            break
    os.killpg(run.pid, signal.SIGSTOP)  # frozen mid-write, holding whatever it holds
    try:
        answered = ledger(home, "sql", "--format", "csv", "SELECT count() > -1 AS ok FROM ingest_files")
        assert (answered.returncode, answered.stdout) == (0, "ok\n1\n")
    finally:
        os.killpg(run.pid, signal.SIGCONT)
    _, rest = run.communicate(timeout=600)
    assert run.returncode == 0, rest[-3000:]
    assert ledger(home, "sql", "--format", "csv", "SELECT count() AS n FROM usage_events FINAL").stdout == "n\n20000\n"


def test_queries_leave_the_server_log_as_it_was(home):
    """The log keeps warnings only: a server running for months is not filled by its queries."""
    assert ledger(home, "db", "start").returncode == 0
    server = LocalServer(home)
    size = server.log.stat().st_size
    with clickhouse_connect.get_client(dsn=server.running().dsn()) as client:
        for n in range(50):
            client.query("SELECT {n:UInt8} + 1", parameters={"n": n})
    assert server.log.stat().st_size == size
