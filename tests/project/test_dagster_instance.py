"""The project's Dagster instance as `make dev` starts it (the project's dagster.yaml, DAGSTER_HOME = the project
root, the Makefile's environment): the UI's first visit opens no "Join the Dagster community" dialog, and the
webserver and daemon keep their files under .ledger/, so nothing untracked appears beside dagster.yaml."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from browser import Chromium, chromium_binary

from pipelines.settings import PROJECT_ROOT

DAGSTER = Path(sys.executable).parent / "dagster"
START_TIMEOUT_S = 300.0  # the webserver loads the code location first


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def project_root(tmp_path: Path) -> Path:
    """A directory laid out like the project root for Dagster: its dagster.yaml and workspace.yaml, unchanged."""
    root = tmp_path / "project"
    root.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    return root


def make_environment(root: Path) -> dict[str, str]:
    """The environment `make` gives its recipes (its exports included), for a project checked out at ``root``."""
    printed = subprocess.run(["make", "-s", "--no-print-directory", "--eval=ledger-env: ; @env", "ledger-env"],
                             cwd=PROJECT_ROOT, capture_output=True, text=True, check=True).stdout
    env = dict(line.split("=", 1) for line in printed.splitlines() if "=" in line)
    return {name: value.replace(str(PROJECT_ROOT), str(root)) for name, value in env.items()}


@pytest.fixture
def ui(project_root: Path, tmp_path: Path):
    """`make dev`'s command in its environment, from the project root; yields the UI's base URL."""
    port = free_port()
    env = make_environment(project_root)
    env.pop("CLICKHOUSE_DSN", None)
    with open(tmp_path / "dev.log", "w") as log:
        dev = subprocess.Popen([str(DAGSTER), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                               cwd=project_root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert dev.poll() is None, (tmp_path / "dev.log").read_text()[-3000:]
            try:
                if httpx.get(f"{url}/server_info", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, (tmp_path / "dev.log").read_text()[-3000:]
            time.sleep(0.5)
        yield url
    finally:
        os.killpg(dev.pid, signal.SIGINT)  # dagster dev, its webserver, daemon and code servers, as Ctrl-C does
        try:
            dev.wait(timeout=300)
        except subprocess.TimeoutExpired:  # a shutdown this slow is not what this spec is about
            os.killpg(dev.pid, signal.SIGKILL)
            dev.wait(timeout=60)


def test_the_ui_asks_for_no_community_sign_up_and_writes_nothing_beside_the_instance_config(ui, project_root, tmp_path):
    # The UI opens the dialog when the webserver says so (Dagster's `shouldShowNux`).
    answer = httpx.post(f"{ui}/graphql", json={"query": "{ shouldShowNux }"}, timeout=60).json()
    assert answer == {"data": {"shouldShowNux": False}}
    if chromium_binary() is None:
        pytest.fail("chromium is not installed: apt-get install chromium (.ci/run does)")
    with Chromium(tmp_path / "profile") as browser:
        page = browser.open(f"{ui}/assets")
        page.wait_for("document.body.innerText.includes('admin_workspaces')", timeout_s=120)  # the asset list
        assert "Join the Dagster community" not in page.evaluate("document.body.innerText")
    assert sorted(p.name for p in project_root.iterdir()) == [".ledger", "dagster.yaml", "workspace.yaml"]
