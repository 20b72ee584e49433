"""The real ``dagster`` command line on the project's code location, as an operator runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from clickhouse_databases import server_env

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

DAGSTER = str(Path(sys.executable).parent / "dagster")


def run_dagster(*args: str, home: Path, ch: ClickHouseResource, **environment: str) -> subprocess.CompletedProcess[str]:
    """``dagster <args> -m pipelines.definitions`` with its own instance (DAGSTER_HOME) and data directory under
    ``home``, on ``ch``'s database, plus ``environment``; output captured as text."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, **server_env(ch), "LEDGER_HOME": str(home / "ledger"), "DAGSTER_HOME": str(home),
           **environment}
    return subprocess.run([DAGSTER, *args, "-m", "pipelines.definitions"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
