"""The emitter's own distribution (packaging/emitter): an application installs it without the pipeline."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

import pytest
from guard_helpers import guarded, now_utc, publish
from messages_api_server import FakeMessagesApi

from pipelines.settings import PROJECT_ROOT

WRITE_ONE_EVENT = """
import importlib.util, pathlib, sys, tempfile
import anthropic
from pipelines.emitter import JsonlFileSink, instrument
absent = [name for name in ("dagster", "chdb", "clickhouse_connect", "pandas", "pyarrow")
          if importlib.util.find_spec(name) is not None]
directory = pathlib.Path(tempfile.mkdtemp())
client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=sys.argv[1], max_retries=0),
                    sink=JsonlFileSink(directory), team="t")
client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
print(sum(len(p.read_text().splitlines()) for p in directory.iterdir()), absent)
"""

GUARD_WITHOUT_REDIS = """
import importlib.util, sys, tempfile
import anthropic
from pipelines.emitter import BudgetExceeded, BudgetGuard, JsonlFileSink, instrument
guard = BudgetGuard(redis_url="", state_dir_path=sys.argv[2])
client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=sys.argv[1], max_retries=0),
                    sink=JsonlFileSink(tempfile.mkdtemp()), team="search", guard=guard)
try:
    client.messages.create(model="claude-opus-4-6", max_tokens=1000, messages=[{"role": "user", "content": "hi"}])
except BudgetExceeded as refused:
    print(refused.budget_id, importlib.util.find_spec("redis") is None)
"""


@pytest.fixture(scope="module")
def python(tmp_path_factory) -> str:
    """An empty virtual environment with only packaging/emitter installed (no [guard] extra: no redis)."""
    environment = tmp_path_factory.mktemp("emitter") / "venv"
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "--quiet", str(PROJECT_ROOT / "packaging" / "emitter")],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]
    return python


def test_the_emitter_package_installs_and_records_a_call_without_the_pipeline(python: str, tmp_path: Path,
                                                                              messages_api: FakeMessagesApi):
    done = subprocess.run([python, "-c", WRITE_ONE_EVENT, messages_api.url], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split(maxsplit=1) == ["1", "[]\n"]


def test_without_redis_installed_the_guard_works_for_one_host(python: str, tmp_path: Path,
                                                              messages_api: FakeMessagesApi):
    # Opus 4.6: 12 x $5 + 1000 x $25 per MTok = $0.02506 > $0.02: refused from the published files alone.
    publish(tmp_path / "state", now_utc(), guarded(amount_usd="0.02", period="month"))
    done = subprocess.run([python, "-c", GUARD_WITHOUT_REDIS, messages_api.url, str(tmp_path / "state")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "search-daily True\n"
    assert messages_api.requests == []
