"""The emitter's own distribution (packaging/emitter): an application installs it without the pipeline."""

from __future__ import annotations

import subprocess
import venv
from pathlib import Path

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


def test_the_emitter_package_installs_and_records_a_call_without_the_pipeline(tmp_path: Path,
                                                                              messages_api: FakeMessagesApi):
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = str(environment / "bin" / "python")
    installed = subprocess.run([python, "-m", "pip", "install", "--quiet", str(PROJECT_ROOT / "packaging" / "emitter")],
                               capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-3000:]
    done = subprocess.run([python, "-c", WRITE_ONE_EVENT, messages_api.url], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split(maxsplit=1) == ["1", "[]\n"]
