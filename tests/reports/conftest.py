"""One `make demo` for the reports' tests: a fresh data directory and Dagster instance, as on a fresh clone.

The demo runs in a directory laid out like the project root after `make install` (`.venv`, and `.ledger` for the
data), so what it prints reads as on a user's screen and its commands run there as printed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from demo_run import BIN, DemoRun

from pipelines.settings import PROJECT_ROOT
from pipelines.storage.local_server import LocalServer


def demo_environment(home: Path, dagster_home: Path) -> dict[str, str]:
    env = {**os.environ, "LEDGER_HOME": str(home), "DAGSTER_HOME": str(dagster_home)}
    for name in ("CLICKHOUSE_DSN", "LEDGER_PARTITIONS_START", "LEDGER_EVENTS_DIR", "LEDGER_EXPORT_DIR",
                 "LEDGER_CONFIG", "SLACK_BOT_TOKEN", "SLACK_WEBHOOK_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        env.pop(name, None)  # the defaults, as on a fresh clone
    return env


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Iterator[DemoRun]:
    root = tmp_path_factory.mktemp("fresh-clone")
    home, dagster_home = root / ".ledger", root / "dagster"
    dagster_home.mkdir()
    (root / ".venv").symlink_to(BIN.parent)
    # The project's dagster.yaml with its storage under this run's data directory.
    (dagster_home / "dagster.yaml").write_text(
        (PROJECT_ROOT / "dagster.yaml").read_text().replace(".ledger/", f"{home}/"))
    env = demo_environment(home, dagster_home)
    done = subprocess.run([str(BIN / "python"), "-m", "demo.run"], cwd=root,
                          env={**env, "PYTHONPATH": str(PROJECT_ROOT)}, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    yield DemoRun(home, dagster_home, env, done.stdout)
    LocalServer(home).stop()  # the demo leaves the local ClickHouse server running, for `make dev`
