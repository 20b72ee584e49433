"""Events written by the emitter are what the pipeline ingests, end to end; and the emitter imports without
the pipeline's heavy dependencies."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path

import anthropic
import pytest
from messages_api_server import Answer, FakeMessagesApi, rate_limited

from pipelines.emitter import JsonlFileSink, instrument
from pipelines.events.ingest import ingest_landing_zone
from pipelines.settings import PROJECT_ROOT
from pipelines.storage.clickhouse import ClickHouseResource

MODEL = "claude-haiku-4-5-20251001"
ASK = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}]}
PROCESSES = 3
CALLS_PER_PROCESS = 20


def _client(api_url: str, directory: Path) -> anthropic.Anthropic:
    return instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=api_url, max_retries=0),
                      sink=JsonlFileSink(directory), team="search", feature="answer", env="prod",
                      workspace_id="wrkspc_01Search", api_key_id="apikey_01Search")


def test_emitted_events_are_ingested_with_their_usage_tags_and_headers(messages_api: FakeMessagesApi,
                                                                      tmp_path: Path, ch: ClickHouseResource):
    landing = tmp_path / "events"
    messages_api.script(
        Answer(usage={"input_tokens": 12, "output_tokens": 40, "cache_read_input_tokens": 3000,
                      "cache_creation_input_tokens": 1500,
                      "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 500},
                      "server_tool_use": {"web_search_requests": 2}}),
        Answer(usage={"input_tokens": 100, "output_tokens": 7, "cache_creation_input_tokens": 800}),
        rate_limited(),
    )
    client = _client(messages_api.url, landing)
    client.messages.create(**ASK, system="You are terse.", ledger_tags={"user": "u_1"})
    with client.messages.stream(**ASK) as stream:
        stream.until_done()
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(**ASK)

    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (3, 0)
    rows = ch.query_rows(
        "SELECT team, feature, env, user, workspace_id, api_key_id, model, status, error_type, input_tokens, "
        "output_tokens, cache_read_input_tokens, cache_write_5m_tokens, cache_write_1h_tokens, web_search_requests, "
        "ratelimit['requests-remaining'], prompt_prefix_tokens > 0 FROM usage_events FINAL ORDER BY ts")
    tags = ("search", "answer", "prod")
    ids = ("wrkspc_01Search", "apikey_01Search", MODEL)
    assert rows == [
        (*tags, "u_1", *ids, 200, "", 12, 40, 3000, 1000, 500, 2, 3999, True),
        (*tags, "", *ids, 200, "", 100, 7, 0, 800, 0, 0, 3999, False),  # no breakdown: all 5-minute writes
        (*tags, "", *ids, 429, "rate_limit_error", 0, 0, 0, 0, 0, 0, 0, False),
    ]


def _calls(api_url: str, directory: str, worker: int) -> None:
    client = _client(api_url, Path(directory))
    for call in range(CALLS_PER_PROCESS):
        client.messages.create(**ASK, ledger_tags={"user": f"w{worker}-{call}"})


def test_several_processes_emitting_into_one_directory_are_all_ingested(messages_api: FakeMessagesApi,
                                                                        tmp_path: Path, ch: ClickHouseResource):
    landing = tmp_path / "events"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_calls, args=(messages_api.url, str(landing), w)) for w in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0

    report = ingest_landing_zone(ch, landing)
    assert (report.loaded, report.rejected) == (PROCESSES * CALLS_PER_PROCESS, 0)
    [(events, users, input_tokens)] = ch.query_rows(
        "SELECT count(), uniqExact(user), sum(input_tokens) FROM usage_events FINAL")
    assert (events, users, input_tokens) == (60, 60, 60 * 10)
    assert len(list(landing.glob("*.jsonl"))) == PROCESSES


def test_an_appended_file_is_ingested_incrementally_without_repeats(messages_api: FakeMessagesApi, tmp_path: Path,
                                                                    ch: ClickHouseResource):
    landing = tmp_path / "events"
    client = _client(messages_api.url, landing)
    client.messages.create(**ASK)
    assert ingest_landing_zone(ch, landing).loaded == 1
    client.messages.create(**ASK)
    client.messages.create(**ASK)
    assert ingest_landing_zone(ch, landing).loaded == 2  # only the new lines of the same file
    assert ch.query_rows("SELECT count() FROM usage_events FINAL") == [(3,)]


BLOCKED = """
import sys
for name in ("dagster", "clickhouse_connect", "pyarrow", "pandas", "chdb", "orjson", "numpy"):
    sys.modules[name] = None
import pipelines.emitter
from pipelines.emitter import instrument, JsonlFileSink
import anthropic, tempfile, pathlib
directory = pathlib.Path(tempfile.mkdtemp())
client = instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=sys.argv[1], max_retries=0),
                    sink=JsonlFileSink(directory), team="t")
client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}])
print(sum(len(p.read_text().splitlines()) for p in directory.iterdir()))
"""


def test_the_emitter_works_without_dagster_clickhouse_pyarrow_or_pandas(messages_api: FakeMessagesApi):
    done = subprocess.run([sys.executable, "-c", BLOCKED, messages_api.url], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "1"
