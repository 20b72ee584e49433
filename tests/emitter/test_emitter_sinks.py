"""The emitter's sinks: JSONL files that several processes append to without a torn or interleaved line,
rotated by size and time; and an idempotent Kafka producer flushed before exit."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import uuid
from pathlib import Path

from confluent_kafka import Consumer

from pipelines.emitter import JsonlFileSink, KafkaSink
from pipelines.settings import PROJECT_ROOT

pytest_plugins = ["kafka_broker"]

PROCESSES = 4
LINES_PER_PROCESS = 400


def _line(writer: int, number: int) -> bytes:
    # Sizes from tiny to 3x PIPE_BUF, so a torn or interleaved write would show as a broken line.
    padding = "x" * ((number * 97) % 12_000)
    return json.dumps({"writer": writer, "number": number, "padding": padding}).encode() + b"\n"


def _write_many(sink: JsonlFileSink, writer: int) -> None:
    for number in range(LINES_PER_PROCESS):
        sink.write(_line(writer, number))


def test_several_processes_append_whole_lines_to_one_directory(tmp_path: Path):
    sink = JsonlFileSink(tmp_path, max_bytes=256 << 10)
    sink.write(_line(-1, 0))  # opened in the parent before the fork: children must not share its file
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_write_many, args=(sink, writer)) for writer in range(PROCESSES)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
        assert worker.exitcode == 0

    seen: dict[int, list[int]] = {}
    files_of: dict[int, set[str]] = {}
    for path in tmp_path.glob("*.jsonl"):
        data = path.read_bytes()
        assert data.endswith(b"\n")
        for raw in data.splitlines():
            line = json.loads(raw)  # raises on a torn or interleaved line
            assert line["padding"] == "x" * ((line["number"] * 97) % 12_000)
            seen.setdefault(line["writer"], []).append(line["number"])
            files_of.setdefault(line["writer"], set()).add(path.name)
    assert {w: sorted(n) for w, n in seen.items()} == {
        -1: [0], **{w: list(range(LINES_PER_PROCESS)) for w in range(PROCESSES)}}
    assert all(files_of[a].isdisjoint(files_of[b]) for a in files_of for b in files_of if a != b)


def test_a_child_forked_while_another_thread_was_writing_does_not_hang(tmp_path: Path):
    sink = JsonlFileSink(tmp_path)
    with sink._lock:  # as if another thread of the parent were in the middle of a write at the fork
        child = multiprocessing.get_context("fork").Process(target=_write_many, args=(sink, 7))
        child.start()
    child.join(10)
    assert child.exitcode == 0
    assert sum(len(p.read_bytes().splitlines()) for p in tmp_path.glob("*.jsonl")) == LINES_PER_PROCESS


def test_a_file_is_closed_and_a_new_one_begun_at_the_size_limit(tmp_path: Path):
    sink = JsonlFileSink(tmp_path, max_bytes=100)
    lines = [b'{"n":%d,"pad":"%s"}\n' % (n, b"y" * 30) for n in range(7)]  # 40 bytes each
    for line in lines:
        sink.write(line)
    files = sorted(tmp_path.glob("*.jsonl"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert [p.read_bytes() for p in files] == [b"".join(lines[0:2]), b"".join(lines[2:4]), b"".join(lines[4:6]),
                                              lines[6]]
    assert all(p.name.endswith(f"-{os.getpid()}-{i}.jsonl") for i, p in enumerate(files))


def test_a_new_file_is_begun_when_the_time_window_changes(tmp_path: Path):
    now = [1_789_998_000.0]  # 2026-09-21 13:40 UTC
    sink = JsonlFileSink(tmp_path, prefix="svc", rotate_seconds=3600, clock=lambda: now[0])
    sink.write(b'{"n":1}\n')
    now[0] += 1800  # 14:10: the next hour's window
    sink.write(b'{"n":2}\n')
    names = sorted(p.name for p in tmp_path.glob("*.jsonl"))
    assert [n.split("-")[1] for n in names] == ["20260921T130000Z", "20260921T140000Z"]
    assert all(n.startswith("svc-") for n in names)


def test_a_restarted_process_never_appends_to_an_earlier_file(tmp_path: Path):
    first = JsonlFileSink(tmp_path)
    first.write(b'{"n":1}\n')
    first.close()
    second = JsonlFileSink(tmp_path)  # same pid, same window: as a restart that reuses the pid
    second.write(b'{"n":2}\n')
    assert sorted(p.read_bytes() for p in tmp_path.glob("*.jsonl")) == [b'{"n":1}\n', b'{"n":2}\n']


def _consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex[:8]}",
                         "auto.offset.reset": "earliest", "session.timeout.ms": 2000})
    consumer.subscribe([topic])
    received = []
    try:
        for _ in range(100):
            message = consumer.poll(0.2)
            if message is not None and message.error() is None:
                received.append(message.value())
            if len(received) == count:
                break
    finally:
        consumer.close()
    return received


EXIT_WITHOUT_FLUSH = """
import sys
from pipelines.emitter import KafkaSink
sink = KafkaSink(sys.argv[1], sys.argv[2], config={"linger.ms": 2000})
for n in range(3):
    sink.write(b'{"event_id":"evt_%d"}\\n' % n)
"""


def test_events_queued_for_kafka_are_flushed_when_the_process_exits(kafka_broker):
    topic = kafka_broker.create_topic(partitions=1)
    done = subprocess.run([sys.executable, "-c", EXIT_WITHOUT_FLUSH, kafka_broker.bootstrap, topic],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    received = _consume(kafka_broker.bootstrap, topic, 3)
    assert sorted(json.loads(value)["event_id"] for value in received) == ["evt_0", "evt_1", "evt_2"]


def test_the_kafka_sink_produces_each_event_as_one_message_and_flushes(kafka_broker):
    topic = kafka_broker.create_topic(partitions=1)
    sink = KafkaSink(kafka_broker.bootstrap, topic)
    events = [{"event_id": f"evt_{n}", "n": n} for n in range(5)]
    for event in events:
        sink.write(json.dumps(event).encode() + b"\n")
    assert sink.flush(10) == 0
    assert (sink.delivered, sink.failed) == (5, 0)
    del sink  # the producer goes with its sink (the exit hook holds no reference)

    received = _consume(kafka_broker.bootstrap, topic, len(events))
    assert [json.loads(value) for value in received] == events
    assert all(not value.endswith(b"\n") for value in received)
