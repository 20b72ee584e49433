"""The README's first screen (up to "The `ledger` command") tells a new user what does not run by itself: every
schedule and sensor that is off by default is named there, with a command that turns it on as printed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from dagster import DefaultScheduleStatus, DefaultSensorStatus

from pipelines.definitions import defs
from pipelines.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


def first_screen() -> str:
    return (PROJECT_ROOT / "README.md").read_text().split("## The `ledger` command", 1)[0]


def test_every_schedule_and_sensor_that_is_off_by_default_is_named_on_the_first_screen():
    off = [s.name for s in defs.schedules or () if s.default_status == DefaultScheduleStatus.STOPPED]
    off += [s.name for s in defs.sensors or () if s.default_status == DefaultSensorStatus.STOPPED]
    assert off == ["allocation_schedule"]
    assert [name for name in off if f"`{name}`" not in first_screen()] == []


def test_the_command_that_turns_the_allocation_schedule_on_runs_as_printed_from_the_project_root(tmp_path):
    [command] = [c for c in re.findall(r"`([^`\n]+)`", first_screen()) if " schedule start " in c]
    root = tmp_path / "project"  # the project root as Dagster sees it, with its own instance under .ledger/
    root.mkdir()
    for name in ("dagster.yaml", "workspace.yaml"):
        shutil.copy(PROJECT_ROOT / name, root / name)
    (root / ".venv").symlink_to(BIN.parent)
    env = {**os.environ, "LEDGER_HOME": str(root / ".ledger")}
    env.pop("DAGSTER_HOME", None)
    env.pop("CLICKHOUSE_DSN", None)
    started = subprocess.run(command, shell=True, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert started.returncode == 0, started.stderr[-3000:]
    listed = subprocess.run(f"DAGSTER_HOME={root} .venv/bin/dagster schedule list -w workspace.yaml", shell=True,
                            cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert "Schedule: allocation_schedule [RUNNING]" in listed.stdout.splitlines()
