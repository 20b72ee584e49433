"""A Kafka ingest run whose process dies (SIGKILL) is detected by the lag sensor, marked failed, and the next
run resumes from the committed offsets: nothing stalls, nothing is lost or counted twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from clickhouse_databases import server_env
from dagster import DagsterInstance, DagsterRunStatus, RunRequest, RunsFilter, SkipReason, build_sensor_context
from event_lines import event

from pipelines.kafka.consume import drain
from pipelines.kafka.definitions import kafka_lag_sensor

pytest_plugins = ["kafka_broker"]

PROJECT = Path(__file__).resolve().parent.parent.parent
DAGSTER = str(Path(sys.executable).parent / "dagster")


def kill_after_first_batch(env: dict[str, str]) -> None:
    """``dagster job execute`` of the Kafka ingest job, SIGKILLed (its whole process group) once it has
    committed its first batch."""
    process = subprocess.Popen(
        [DAGSTER, "job", "execute", "-m", "pipelines.definitions", "-j", "ingest_kafka_usage_events"],
        cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    assert process.stderr is not None
    deadline = time.monotonic() + 300
    for line in process.stderr:
        if "messages in 1 batches so far" in line:
            break
        assert time.monotonic() < deadline and process.poll() is None, "the run never committed a batch"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=60)
    process.stderr.close()


def test_a_run_killed_mid_topic_is_marked_failed_and_the_next_run_resumes_from_the_committed_offsets(
        kafka_broker, tmp_path, monkeypatch, ch):
    topic = kafka_broker.create_topic(partitions=1)
    kafka_broker.produce(topic, [(0, event(f"e{i}")) for i in range(3_000)])
    group = f"group-{topic}"
    (tmp_path / "dagster").mkdir()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap, "LEDGER_KAFKA_TOPIC": topic,
           "LEDGER_KAFKA_GROUP_ID": group, "LEDGER_KAFKA_BATCH_MESSAGES": "500",
           "LEDGER_KAFKA_SESSION_TIMEOUT_MS": "2000", "LEDGER_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
           **server_env(ch), "DAGSTER_HOME": str(tmp_path / "dagster")}
    kill_after_first_batch(env)

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    with DagsterInstance.get() as instance:
        [run] = instance.get_runs(RunsFilter(job_name="ingest_kafka_usage_events"))
        assert run.status == DagsterRunStatus.STARTED  # dead, but nothing told Dagster

        def tick(stale_run_s: float):
            source = kafka_broker.source(topic, group_id=group, stale_run_s=stale_run_s)
            return kafka_lag_sensor(build_sensor_context(instance=instance, resources={"kafka": source}))

        assert isinstance(tick(stale_run_s=600), SkipReason)  # it logged a heartbeat moments ago
        time.sleep(2)
        request = tick(stale_run_s=1)  # silent for 2 s, more than 1 s: dead
        assert isinstance(request, RunRequest)
        assert int(request.tags["kafka_lag"]) <= 2_500  # at least the first batch of 500 was committed
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.FAILURE

    resumed = drain(ch, kafka_broker.source(topic, group_id=group))
    assert resumed.loaded <= 2_500
    assert [(p.committed, p.lag) for p in resumed.lag] == [(3_000, 0)]
    # 3,000 events of 100 input tokens each (event_lines.event), each once
    assert ch.query_rows("SELECT count(), sum(input_tokens) FROM usage_events FINAL") == [(3_000, 300_000)]
