"""`ledger sql` (the installed command) for finance: a query as an argument, a file or stdin; a table, CSV or JSON;
read-only unless asked; an error is one line, with the traceback only under --debug."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.local_server import LocalServer

LEDGER = Path(sys.executable).parent / "ledger"
QUERY = ("SELECT arrayJoin(['search', 'data']) AS team, toDecimal64(if(team = 'search', '1234.5', '0.07'), 2) AS usd, "
         "if(team = 'search', 3, 40) AS calls")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Path]:
    """A data directory whose local ClickHouse server `ledger db start` starts (the local default), stopped after."""
    home = tmp_path_factory.mktemp("ledger")
    started = ledger(home, "db", "start")
    assert started.returncode == 0, started.stderr
    yield home
    LocalServer(home).stop()


def ledger(home: Path, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "LEDGER_HOME": str(home), **env}
    if "CLICKHOUSE_DSN" not in env:
        environment.pop("CLICKHOUSE_DSN", None)
    return subprocess.run([str(LEDGER), *args], cwd=PROJECT_ROOT, env=environment, input=stdin, capture_output=True,
                          text=True, timeout=300)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_table_aligns_text_left_and_numbers_right_and_counts_the_rows(home):
    done = ledger(home, "sql", QUERY)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "team         usd  calls",
        "------  --------  -----",
        "search  1,234.50      3",
        "data        0.07     40",
        "(2 rows)",
    ]


MONEY_AND_SHARES = ("SELECT toDecimal128('13.8661325', 12) AS cost_usd, toDecimal128('-0.004', 12) AS credit_usd, "
                    "toDecimal64('0.4313', 6) AS share, toFloat64(1) / 3 AS coverage")


def test_money_prints_to_the_cent_and_shares_to_four_places_in_a_table(home):
    done = ledger(home, "sql", MONEY_AND_SHARES)
    assert done.returncode == 0, done.stderr
    # 13.8661325 half up to 13.87; -0.004 to 0.00 (no sign); Decimal(18, 6) 0.431300 without its trailing zeros;
    # one third as a float to four places.
    assert done.stdout.splitlines() == [
        "cost_usd  credit_usd   share  coverage",
        "--------  ----------  ------  --------",
        "   13.87        0.00  0.4313    0.3333",
        "(1 row; money to the cent, --exact prints every digit)",
    ]


def test_exact_prints_every_digit_of_the_column_s_scale(home):
    done = ledger(home, "sql", "--exact", MONEY_AND_SHARES)
    assert done.stdout.splitlines()[2].split() == ["13.866132500000", "-0.004000000000", "0.431300",
                                                   "0.3333333333333333"]
    assert done.stdout.splitlines()[3] == "(1 row)"


def test_csv_and_json_keep_money_and_shares_exact_whatever_the_table_shows(home):
    csv = ledger(home, "sql", "--format", "csv", MONEY_AND_SHARES)
    assert csv.stdout.splitlines()[1] == "13.866132500000,-0.004000000000,0.431300,0.3333333333333333"
    [row] = json.loads(ledger(home, "sql", "--format", "json", MONEY_AND_SHARES).stdout)
    assert row == {"cost_usd": "13.866132500000", "credit_usd": "-0.004000000000", "share": "0.431300",
                   "coverage": 1 / 3}


def test_csv_and_json_keep_money_exact(home):
    csv = ledger(home, "sql", "--format", "csv", QUERY)
    assert csv.stdout == "team,usd,calls\nsearch,1234.50,3\ndata,0.07,40\n"
    rows = json.loads(ledger(home, "sql", "--format", "json", QUERY).stdout)
    assert rows == [{"team": "search", "usd": "1234.50", "calls": 3}, {"team": "data", "usd": "0.07", "calls": 40}]


def test_the_query_can_come_from_a_file_or_stdin(home, tmp_path):
    query = tmp_path / "q.sql"
    query.write_text("SELECT 41 + 1 AS answer;\n")
    assert ledger(home, "sql", "--format", "csv", "-f", str(query)).stdout == "answer\n42\n"
    assert ledger(home, "sql", "--format", "csv", stdin="SELECT 'piped' AS source").stdout == "source\npiped\n"


def test_writes_are_refused_unless_asked_for(home):
    refused = ledger(home, "sql", "CREATE TABLE scratch (n UInt8) ENGINE = Memory")
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "ledger: Code: 164. DB::Exception: ledger: Cannot execute query in readonly mode. (READONLY)"]
    allowed = ledger(home, "sql", "--write", "CREATE TABLE IF NOT EXISTS scratch (n UInt8) ENGINE = Memory")
    assert allowed.returncode == 0, allowed.stderr
    assert ledger(home, "sql", "--format", "csv", "SELECT count() AS n FROM scratch").stdout == "n\n0\n"


def test_an_error_is_one_line_and_debug_adds_the_traceback(home):
    plain = ledger(home, "sql", "SELEC 1")
    assert plain.returncode == 1
    [line] = plain.stderr.splitlines()
    assert line.startswith("ledger: Code: 62. DB::Exception: Syntax error")
    debug = ledger(home, "--debug", "sql", "SELEC 1")
    assert debug.returncode == 1
    assert "Traceback (most recent call last):" in debug.stderr
    assert debug.stderr.splitlines()[-1] == line


def test_an_unreachable_server_is_one_line_naming_the_refused_connection(home):
    port = closed_port()
    done = ledger(home, "sql", "SELECT 1", CLICKHOUSE_DSN=f"http://finance:s3cret@127.0.0.1:{port}/ledger")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ledger: cannot connect to ClickHouse at http://127.0.0.1:{port}/ledger: connection refused (is the server "
        "running, and is the port right?)"]


@pytest.mark.parametrize(("dsn", "cause"), [
    ("ch.internal/ledger", "the scheme must be http or https, not 'missing'"),
    ("tcp://ch.internal:9000/ledger", "the scheme must be http or https, not 'tcp'"),
    ("http://finance:s3cret@ch.internal:80x/ledger", "bad port (Port could not be cast to integer value as '80x')"),
    ("https:///ledger", "no host"),
])
def test_a_malformed_dsn_is_one_line_naming_the_problem_and_never_the_password(home, dsn, cause):
    done = ledger(home, "sql", "SELECT 1", CLICKHOUSE_DSN=dsn)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"ledger: CLICKHOUSE_DSN is malformed: {cause} (expected http(s)://user:password@host:8123/database)"]
    assert "s3cret" not in done.stderr


def test_make_demo_with_an_unreachable_server_says_so_once(tmp_path):
    port = closed_port()
    environment = {**os.environ, "LEDGER_HOME": str(tmp_path / "ledger"), "DAGSTER_HOME": str(tmp_path),
                   "CLICKHOUSE_DSN": f"http://127.0.0.1:{port}/ledger"}
    environment.pop("LEDGER_PARTITIONS_START", None)
    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    done = subprocess.run([str(Path(sys.executable).parent / "python"), "-m", "demo.run"], cwd=PROJECT_ROOT,
                          env=environment, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert (done.stdout + done.stderr).splitlines() == [
        f"make demo: cannot connect to ClickHouse at http://127.0.0.1:{port}/ledger: connection refused (is the "
        "server running, and is the port right?)"]
