"""The real ``dagster`` command line on the project's code location, as an operator runs it; and its long-running
processes (code server, daemon, webserver), as a deployment runs them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from clickhouse_databases import server_env

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

BIN = Path(sys.executable).parent
DAGSTER = str(BIN / "dagster")
STOP_TIMEOUT_S = 60


def run_dagster(*args: str, home: Path, ch: ClickHouseResource, profile: Path | None = None,
                **environment: str) -> subprocess.CompletedProcess[str]:
    """``dagster <args> -m pipelines.definitions`` with its own instance (DAGSTER_HOME) and data directory under
    ``home``, on ``ch``'s database, plus ``environment``; output captured as text. The instance is Dagster's default
    (SQLite under ``home``), or ``profile``, a dagster.yaml linked into ``home`` as it is."""
    home.mkdir(parents=True, exist_ok=True)
    if profile is None:
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    else:
        (home / "dagster.yaml").symlink_to(profile)
    env = {**os.environ, **server_env(ch), "LEDGER_HOME": str(home / "ledger"), "DAGSTER_HOME": str(home),
           **environment}
    return subprocess.run([DAGSTER, *args, "-m", "pipelines.definitions"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


@contextmanager
def dagster_service(program: str, *args: str, log: Path, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``program`` (``dagster``, ``dagster-daemon``, ``dagster-webserver``) running from the project root with
    ``env`` and nothing else, its output in ``log``, in a process group of its own; when the block ends the group is
    stopped (SIGTERM, then SIGKILL), the runs a code server started included."""
    with log.open("wb") as output:
        process = subprocess.Popen([str(BIN / program), *args], cwd=PROJECT_ROOT, env=env, stdout=output,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=STOP_TIMEOUT_S)
            os.killpg(process.pid, signal.SIGKILL)  # what is left of the group
        except ProcessLookupError:
            pass
        process.wait()
