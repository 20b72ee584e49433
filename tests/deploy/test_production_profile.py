"""The production profile (deploy/dagster.yaml, deploy/workspace.yaml, docs/deploy.md): Dagster's run history,
event logs and sensor state on a real PostgreSQL, the ledger's data on the ClickHouse server."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg2
import pytest
import yaml
from clickhouse_databases import server_env
from dagster_cli import BIN, DAGSTER, dagster_service, run_dagster
from event_lines import event, write_lines
from postgres_server import PostgresServer
from redis_server import free_port

from pipelines.pricing.assets import price_rows
from pipelines.settings import PROJECT_ROOT

PROFILE = PROJECT_ROOT / "deploy" / "dagster.yaml"
WORKSPACE = PROJECT_ROOT / "deploy" / "workspace.yaml"
LOCAL_PROFILE = PROJECT_ROOT / "dagster.yaml"
LEDGER = str(BIN / "ledger")
WHERE_THINGS_ARE_STORED = {"storage", "local_artifact_storage", "compute_logs"}
DEADLINE_S = 600.0  # generous: a deadline for conditions, not a guess of how long they take
POLL_S = 0.5
RUN_AND_LOCATIONS = """query ($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { status stats { ... on RunStatsSnapshot { materializations } } } }
  workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } }
}"""
T = TypeVar("T")


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A database of this test's own, owned by a role with a password (libpq's URL: psycopg2, pg_dump)."""
    name = f"dagster_{secrets.token_hex(6)}"
    return postgres.create_database(name, owner=name, password=secrets.token_hex(16))


def dagster_url(postgres_url: str) -> str:
    """The same database as DAGSTER_POSTGRES_URL: SQLAlchemy's URL, naming the driver dagster-postgres installs."""
    return postgres_url.replace("postgresql://", "postgresql+psycopg2://", 1)


def rows(url: str, sql: str, *parameters: object) -> list[tuple]:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, parameters)
            return cursor.fetchall()
    finally:
        connection.close()


def metadata_of(materialisation: str) -> dict[str, Any]:
    """label -> value of a stored ASSET_MATERIALIZATION event (the event_logs.event column, Dagster's JSON)."""
    entries = json.loads(materialisation)["dagster_event"]["event_specific_data"]["materialization"]["metadata_entries"]
    return {entry["label"]: entry["entry_data"].get("value") for entry in entries}


def wait_for(condition: Callable[[], T], what: str, processes: list[subprocess.Popen[bytes]], logs: Path) -> T:
    """``condition()``'s first truthy value; fails when one of ``processes`` exits or after DEADLINE_S."""
    deadline = time.monotonic() + DEADLINE_S
    while not (value := condition()):
        if any(process.poll() is not None for process in processes) or time.monotonic() > deadline:
            tails = "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-3000:]}" for log in logs.iterdir())
            pytest.fail(f"waited in vain for {what}\n{tails}")
        time.sleep(POLL_S)
    return value


@dataclass
class Deployment:
    """The Dagster processes of a production host, running: code server, daemon, webserver."""

    web: str  # the webserver's address
    ledger_env: dict[str, str]  # the code server's environment, the one with the ledger's settings and secrets
    processes: list[subprocess.Popen[bytes]]
    logs: Path

    def wait_for(self, condition: Callable[[], T], what: str) -> T:
        return wait_for(condition, what, self.processes, self.logs)


@contextmanager
def deployment(directory: Path, postgres_url: str, ledger_env: dict[str, str]) -> Iterator[Deployment]:
    """The production profile as docs/deploy.md runs it: DAGSTER_HOME holds deploy/dagster.yaml, the instance is
    migrated, then the code server (the only process given ``ledger_env``), the daemon and the webserver start,
    the last two reaching the code through deploy/workspace.yaml."""
    home, logs = directory / "dagster", directory / "logs"
    home.mkdir()
    logs.mkdir()
    (home / "dagster.yaml").symlink_to(PROFILE)
    dagster = {"PATH": os.environ["PATH"], "HOME": str(directory), "DAGSTER_HOME": str(home),
               "DAGSTER_POSTGRES_URL": dagster_url(postgres_url),
               "DAGSTER_COMPUTE_LOGS_DIR": str(directory / "compute-logs")}
    code_port, web_port = free_port(), free_port()
    workspace = {**dagster, "DAGSTER_CODE_SERVER_HOST": "127.0.0.1", "DAGSTER_CODE_SERVER_PORT": str(code_port)}
    migrate = subprocess.run([DAGSTER, "instance", "migrate"], env=dagster, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    with dagster_service("dagster", "code-server", "start", "-h", "127.0.0.1", "-p", str(code_port), "-m",
                         "pipelines.definitions", log=logs / "code-server.log", env={**dagster, **ledger_env}) as code:
        wait_for(lambda: subprocess.run([DAGSTER, "api", "grpc-health-check", "-h", "127.0.0.1", "-p", str(code_port)],
                                        env=dagster, capture_output=True).returncode == 0,
                 "the code server to serve", [code], logs)
        with dagster_service("dagster-daemon", "run", "-w", str(WORKSPACE), log=logs / "daemon.log",
                             env=workspace) as daemon, \
             dagster_service("dagster-webserver", "-w", str(WORKSPACE), "-h", "127.0.0.1", "-p", str(web_port),
                             log=logs / "webserver.log", env=workspace) as webserver:
            yield Deployment(f"http://127.0.0.1:{web_port}", {**dagster, **ledger_env}, [code, daemon, webserver],
                             logs)


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:
            return reply.status == 200
    except OSError:
        return False


def graphql(web: str, query: str, **variables: object) -> dict[str, Any]:
    body = json.dumps({"query": query, "variables": variables}).encode()
    request = urllib.request.Request(f"{web}/graphql", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as reply:
        answer = json.load(reply)
    assert "errors" not in answer, answer["errors"]
    return answer["data"]


def test_the_production_profile_differs_from_the_local_one_only_in_where_things_are_stored():
    production = yaml.safe_load(PROFILE.read_text())
    local = yaml.safe_load(LOCAL_PROFILE.read_text())
    assert ({key: value for key, value in production.items() if key not in WHERE_THINGS_ARE_STORED}
            == {key: value for key, value in local.items() if key not in WHERE_THINGS_ARE_STORED})
    assert production["storage"] == {"postgres": {"postgres_url": {"env": "DAGSTER_POSTGRES_URL"}}}
    assert production["compute_logs"]["config"] == {"base_dir": {"env": "DAGSTER_COMPUTE_LOGS_DIR"}}


def test_a_job_run_with_the_production_profile_is_recorded_in_postgresql_and_writes_to_clickhouse(
        tmp_path, ch, postgres_url):
    home = tmp_path / "dagster"
    completed = run_dagster("job", "execute", "-j", "refresh_prices", home=home, ch=ch, profile=PROFILE,
                            DAGSTER_POSTGRES_URL=dagster_url(postgres_url),
                            DAGSTER_COMPUTE_LOGS_DIR=str(tmp_path / "compute-logs"),
                            LEDGER_CONFIG=str(tmp_path / "absent.yaml"))
    assert completed.returncode == 0, completed.stderr[-3000:]

    [(run_id, status)] = rows(postgres_url, "SELECT run_id, status FROM runs WHERE pipeline_name = 'refresh_prices'")
    assert status == "SUCCESS"
    materialised = dict(rows(postgres_url, "SELECT asset_key, event FROM event_logs WHERE run_id = %s "
                             "AND dagster_event_type = 'ASSET_MATERIALIZATION'", run_id))
    assert sorted(materialised) == ['["model_prices"]', '["unit_prices"]']
    prices = len(price_rows())
    assert metadata_of(materialised['["model_prices"]'])["rows"] == prices
    assert ch.query_rows("SELECT count() FROM model_prices") == [(prices,)]
    assert ch.query_rows("SELECT count() FROM unit_prices") == [(metadata_of(materialised['["unit_prices"]'])["rows"],)]
    assert list((tmp_path / "compute-logs" / run_id).rglob("*.out"))
    assert sorted(path.name for path in home.iterdir()) == ["dagster.yaml"]


def test_a_landed_file_is_ingested_by_the_daemon_through_the_run_queue_and_shown_by_the_webserver(
        tmp_path, ch, landing, postgres, postgres_url):
    write_lines(landing / "a.jsonl", event("e1"), event("e2"), event("e3"))
    ledger_secrets = {"ANTHROPIC_ADMIN_API_KEY": f"sk-ant-admin01-{secrets.token_hex(16)}",
                      "LEDGER_PSEUDONYM_KEY": secrets.token_hex(16)}
    canaries = {**ledger_secrets, "DAGSTER_POSTGRES_URL's password": urlsplit(postgres_url).password}
    ledger_env = {**server_env(ch), **ledger_secrets, "LEDGER_EVENTS_DIR": str(landing),
                  "LEDGER_CONFIG": str(tmp_path / "absent.yaml"), "LEDGER_PARTITIONS_START": "2025-01-01"}
    with deployment(tmp_path, postgres_url, ledger_env) as deployed:
        [(run_id,)] = deployed.wait_for(lambda: rows(
            postgres_url, "SELECT run_id FROM runs WHERE pipeline_name = 'ingest_usage_events' "
            "AND status IN ('SUCCESS', 'FAILURE', 'CANCELED')"), "the ingest run to end")
        deployed.wait_for(lambda: answers(f"{deployed.web}/server_info"), "the webserver to answer")
        shown = graphql(deployed.web, RUN_AND_LOCATIONS, runId=run_id)
        status = subprocess.run([LEDGER, "status"], env=deployed.ledger_env, capture_output=True, text=True)

    # PostgreSQL holds the run the sensor requested, queued then launched by the daemon, its events and check.
    assert rows(postgres_url, "SELECT status FROM runs WHERE run_id = %s", run_id) == [("SUCCESS",)]
    assert rows(postgres_url, "SELECT value FROM run_tags WHERE run_id = %s AND key = 'dagster/sensor_name'",
                run_id) == [("landing_zone_sensor",)]
    events = [kind for (kind,) in rows(postgres_url, "SELECT dagster_event_type FROM event_logs WHERE run_id = %s "
                                       "ORDER BY id", run_id)]
    assert events.index("PIPELINE_ENQUEUED") < events.index("PIPELINE_STARTING") < events.index("PIPELINE_START")
    [(materialisation,)] = rows(postgres_url, "SELECT event FROM event_logs WHERE run_id = %s "
                                "AND dagster_event_type = 'ASSET_MATERIALIZATION' AND asset_key = %s", run_id,
                                '["usage_events"]')
    assert metadata_of(materialisation)["rows_loaded"] == 3
    assert rows(postgres_url, "SELECT check_name, execution_status FROM asset_check_executions WHERE run_id = %s",
                run_id) == [("reject_rate_below_1_percent", "SUCCEEDED")]
    daemons = {kind for (kind,) in rows(postgres_url, "SELECT daemon_type FROM daemon_heartbeats")}
    assert {"SENSOR", "SCHEDULER", "QUEUED_RUN_COORDINATOR", "MONITORING"} <= daemons
    # ClickHouse holds the events.
    assert ch.query_rows("SELECT count() FROM usage_events FINAL") == [(3,)]
    # The webserver and `ledger status` read the run from PostgreSQL.
    assert shown["runOrError"]["status"] == "SUCCESS"
    assert shown["runOrError"]["stats"]["materializations"] == 1
    assert [(location["name"], location["loadStatus"])
            for location in shown["workspaceOrError"]["locationEntries"]] == [("claude-ledger", "LOADED")]
    assert status.returncode == 0, status.stderr[-3000:]
    [listed] = [line for line in status.stdout.splitlines() if line.startswith(run_id[:8])]
    assert listed.split()[1:3] == ["ingest_usage_events", "SUCCESS"]
    # No secret in the run storage, the compute logs or the processes' output.
    stored = postgres.dump(postgres_url) + "".join(
        path.read_text(errors="replace") for folder in (tmp_path / "compute-logs", tmp_path / "logs")
        for path in folder.rglob("*") if path.is_file())
    assert [name for name, value in canaries.items() if value in stored] == []
