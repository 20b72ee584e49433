"""The local ClickHouse server of a ``$LEDGER_HOME``: the database when ``CLICKHOUSE_DSN`` is unset.

The ``chdb-core`` wheel the project installs is ClickHouse itself (clickhouse-local as a library), and since
ClickHouse PR #101143 clickhouse-local can open ClickHouse's own HTTP and native-protocol listeners. So the local
default is a real server: every process (the Dagster webserver, daemon and runs, the ``ledger`` command, a finance
analyst's SQL tool or BI dashboard) speaks HTTP to it at once, exactly as to a production server.

Layout under ``$LEDGER_HOME``:

    clickhouse/           the data (the path the server opens)
    clickhouse-server/    config.xml, users.xml, server.json (pid and ports), server.log, start.lock;
                          config.d/ and users.d/, if you add them, are merged into those and kept

The server is started on first use by whichever process needs it (``ensure_running``; concurrent starters queue
on ``start.lock``, the one file lock left, held only while a server starts), or by ``ledger db start``; it runs
in a session of its own, so it outlives the process that started it, and ``ledger db stop`` (``make clean``)
stops it. It listens on 127.0.0.1 only. Users (``users.xml``, written at every start, with the roles of the two SQL
files a DBA runs on a real server): ``ledger`` (the pipeline: the ``ledger_pipeline`` role of
``sql/pipeline_role.sql``, the rights docs/deploy.md asks for, no more), ``finance`` (read-only: the
``finance_readonly`` role of ``sql/finance_readonly_role.sql``, the finance views and nothing else) and ``default``
(an administrator, for creating the database); none has a password, which the loopback-only listener makes
acceptable for a workstation (a shared machine runs a real server: docs/deploy.md).

How the wheel is driven is not a documented API of chdb: the server process runs one query that opens the
listeners and then sleeps (``serve``). pyproject.toml pins the chdb-core versions this was tested with; any
failure to come up is reported in one line with the cause from the server's log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from pipelines import settings
from pipelines.storage.sql_files import SHARED_SQL_DIR, split_statements

DATABASE = "ledger"
PIPELINE_USER, FINANCE_USER = "ledger", "finance"
ROLE_FILES = {"ledger_pipeline": SHARED_SQL_DIR / "pipeline_role.sql",
              "finance_readonly": SHARED_SQL_DIR / "finance_readonly_role.sql"}
START_TIMEOUT_S = 120.0  # how long a starting server may take to answer /ping before start-up is called failed
STOP_TIMEOUT_S = 30.0
START_ATTEMPTS = 3  # ports picked again when another program took one between the check and the bind
_SERVE_QUERY = ("SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; "
                "SELECT sleepEachRow(1) FROM numbers(1000000000) SETTINGS max_block_size = 1 FORMAT Null")
_MARKER = "pipelines.storage.local_server"  # in the server process's command line: tells it from a reused pid
_GRANT = re.compile(r"^GRANT\s+(?P<privilege>[A-Z ,]+?)\s+ON\s+(?P<object>[\w.*]+)\s+TO\s+(?P<role>\w+)$", re.I)
_SERVER_WIDE = ("TABLE ENGINE", "READ", "WRITE")  # privileges on an engine or a source, not on a table


class LocalServerError(RuntimeError):
    """The local server could not be started or reached; the message says why in one line."""


class _PortTaken(LocalServerError):
    """Another program took the port first."""


@dataclass(frozen=True)
class ServerInfo:
    """A running local server, as recorded in ``server.json``."""

    pid: int
    http_port: int
    tcp_port: int

    def dsn(self, user: str = PIPELINE_USER, database: str = DATABASE) -> str:
        return f"http://{user}@127.0.0.1:{self.http_port}/{database}"


def _alive(pid: int) -> bool:
    """A live server process of ours under ``pid`` (not a pid reused by another program)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return _MARKER.encode() in command and b"serve" in command


def _port_free(port: int) -> bool:
    """Can a server listen on ``port``? (Connections of a stopped server's in TIME_WAIT don't stop it, as the server
    binds with SO_REUSEADDR too.)"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _pick_port(configured: int | None, previous: int | None, preferred: int, taken: set[int]) -> int:
    """The configured port; else the one used last time, so a BI tool's DSN stays valid; else ClickHouse's
    usual port; else any free one."""
    if configured:
        return configured
    for candidate in (previous, preferred):
        if candidate and candidate not in taken and _port_free(candidate):
            return candidate
    while True:
        port = _free_port()
        if port not in taken:
            return port


def role_grants(role: str, database: str = DATABASE) -> list[str]:
    """A role's grants, read from the one file that states them (``sql/<role>.sql``, which a DBA runs in the
    ledger's database on a real server), for ``users.xml``: a table, or ``*``, of that file is one of
    ``database``'s."""
    grants = []
    for statement in split_statements(ROLE_FILES[role].read_text()):
        text = " ".join(line for line in statement.splitlines() if not line.strip().startswith("--")).strip()
        match = _GRANT.match(text)
        if match and match["role"] == role:
            privilege, target = match["privilege"].strip(), match["object"]
            if "." not in target and not privilege.upper().startswith(_SERVER_WIDE):
                target = f"{database}.{target}"
            grants.append(f"GRANT {privilege} ON {target}")
    return grants


def _config_xml(directory: Path, http_port: int, tcp_port: int, name: str) -> str:
    return f"""<clickhouse>
    <!-- Written by pipelines/storage/local_server.py at every start; edits are lost. -->
    <display_name>{escape(name)}</display_name>
    <listen_host>127.0.0.1</listen_host>
    <http_port>{http_port}</http_port>
    <tcp_port>{tcp_port}</tcp_port>
    <users_config>users.xml</users_config>
    <log-level>warning</log-level> <!-- clickhouse-local takes the level from here, not from logger.level -->
    <logger><log>{escape(str(directory / "server.log"))}</log><console>0</console></logger>
    <query_log><database>system</database><table>query_log</table>
        <flush_interval_milliseconds>7500</flush_interval_milliseconds></query_log>
</clickhouse>
"""


def _users_xml(database: str = DATABASE) -> str:
    roles = "".join(f"<{role}><grants>{''.join(f'<query>{escape(grant)}</query>' for grant in role_grants(role))}"
                    f"</grants></{role}>" for role in ROLE_FILES)

    def user(name: str, profile: str, role: str | None) -> str:
        granted = f"<grants><query>GRANT {role}</query></grants><default_roles><{role}/></default_roles>" if role \
            else ""
        return (f"<{name}><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>"
                f"<profile>{profile}</profile><quota>default</quota>{granted}</{name}>")

    return f"""<clickhouse>
    <!-- Written by pipelines/storage/local_server.py at every start; edits are lost (users.d/ is kept). -->
    <profiles><default/><readonly><readonly>1</readonly></readonly></profiles>
    <roles>{roles}</roles>
    <users>
        {user("default", "default", None)}
        {user(PIPELINE_USER, "default", "ledger_pipeline")}
        {user(FINANCE_USER, "readonly", "finance_readonly")}
    </users>
    <quotas><default/></quotas>
</clickhouse>
"""


def _http(port: int, query: str | None = None, timeout: float = 5.0) -> str:
    """GET /ping, or POST a statement as the administrator ``default``; raises OSError when the server does not
    answer."""
    url = f"http://127.0.0.1:{port}/" + ("ping" if query is None else "")
    request = urllib.request.Request(url, data=None if query is None else query.encode())
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.read().decode()


def _last_error(log: Path) -> str:
    """The most telling line of a failed start: the last error the server logged, else its last line."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "no log was written"
    errors = [line for line in lines if re.search(r"<(Error|Fatal)>|Exception|Error", line)]
    last = (errors or lines or ["the log is empty"])[-1]
    return re.sub(r"^\d{4}\.\d\d\.\d\d [\d:.]+ \[ *\d+ \] \{[^}]*\} ", "", last)[:300]


class LocalServer:
    """The local ClickHouse server of one ledger home."""

    def __init__(self, home: Path) -> None:
        self.home = home.resolve()
        self.data = self.home / "clickhouse"
        self.directory = self.home / "clickhouse-server"
        self.record = self.directory / "server.json"
        self.log = self.directory / "server.log"

    def _recorded(self) -> dict:
        try:
            return json.loads(self.record.read_text())
        except (OSError, ValueError):
            return {}

    def running(self) -> ServerInfo | None:
        """The server of this home, if its process is alive."""
        recorded = self._recorded()
        if not recorded or not _alive(int(recorded.get("pid", 0))):
            return None
        return ServerInfo(int(recorded["pid"]), int(recorded["http_port"]), int(recorded["tcp_port"]))

    @contextlib.contextmanager
    def _starting(self) -> Iterator[None]:
        """One starter at a time for this home (held only while a server starts)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "start.lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def ensure_running(self) -> ServerInfo:
        """The running server, started first if there is none."""
        return self.running() or self.start()

    def start(self, http_port: int | None = None, tcp_port: int | None = None) -> ServerInfo:
        """Start the server (or return the one already running) and create the ledger's database."""
        with self._starting():
            running = self.running()
            if running:
                return running
            configured = (http_port or settings.local_clickhouse_http_port(),
                          tcp_port or settings.local_clickhouse_tcp_port())
            recorded = self._recorded()
            self.data.mkdir(parents=True, exist_ok=True)
            (self.directory / "users.xml").write_text(_users_xml())
            for attempt in range(START_ATTEMPTS):
                http = _pick_port(configured[0], recorded.get("http_port"), 8123, set())
                tcp = _pick_port(configured[1], recorded.get("tcp_port"), 9000, {http})
                try:
                    info = self._spawn(http, tcp)
                    break
                except _PortTaken as taken:  # a port free when checked was taken before the server bound it
                    if attempt == START_ATTEMPTS - 1 or any(f":{port}" in str(taken) for port in configured if port):
                        raise LocalServerError(str(taken)) from None
                    recorded = {}
            _http(info.http_port, f"CREATE DATABASE IF NOT EXISTS {DATABASE}")
            temporary = self.record.with_suffix(".tmp")
            temporary.write_text(json.dumps(asdict(info)) + "\n")
            temporary.replace(self.record)
            return info

    def _spawn(self, http_port: int, tcp_port: int) -> ServerInfo:
        """One server process, up and answering as itself (its display name is this start's own)."""
        name = f"claude-ledger-{uuid.uuid4().hex}"
        (self.directory / "config.xml").write_text(_config_xml(self.directory, http_port, tcp_port, name))
        with open(self.log, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", _MARKER, "serve", str(self.data)], cwd=self.directory,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                cause = _last_error(self.log)
                error = _PortTaken if "Address already in use" in cause else LocalServerError
                raise error(f"the local ClickHouse server for {self.home} exited at start ({cause}; log: {self.log})")
            try:
                if _http(http_port, "SELECT displayName()", timeout=1.0).strip() == name:
                    return ServerInfo(process.pid, http_port, tcp_port)
            except OSError:
                pass
            if time.monotonic() > deadline:
                process.kill()
                raise LocalServerError(f"the local ClickHouse server for {self.home} did not answer on port "
                                       f"{http_port} within {START_TIMEOUT_S:.0f} s ({_last_error(self.log)}; "
                                       f"log: {self.log})")
            time.sleep(0.1)

    def stop(self) -> bool:
        """Stop the server; False when none was running."""
        with self._starting():
            running = self.running()
            if running is None:
                return False
            os.kill(running.pid, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT_S
            while _alive(running.pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(running.pid):
                os.kill(running.pid, signal.SIGKILL)
            return True  # server.json stays: its ports are the next start's first choice


def serve(data: str) -> None:
    """The server process: open the listeners of ``config.xml`` (in the working directory) over ``data``."""
    from importlib import metadata

    version = metadata.version("chdb-core")
    from chdb import _chdb  # the wheel's binding; not a documented API (see the module's docstring)

    print(f"claude-ledger local ClickHouse server: chdb-core {version}, data {data}", flush=True)
    _chdb.query(_SERVE_QUERY, "TabSeparated", path=data)
    raise SystemExit("the local ClickHouse server's listening query ended")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve":
        serve(sys.argv[2])
    else:
        raise SystemExit(f"usage: python -m {_MARKER} serve DATA_DIRECTORY")
