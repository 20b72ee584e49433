"""The Kafka topic as a Dagster resource: where it is, how the consumer group behaves, how much one run reads.

Extra librdkafka settings (SASL, TLS) come from ``LEDGER_KAFKA_*`` variables when a client is made
(``settings.kafka_client_settings``), so a SASL password never becomes Dagster resource config, which
the UI displays.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer
from dagster import ConfigurableResource
from pydantic import Field

from pipelines import settings


class KafkaSource(ConfigurableResource):
    """A consumer group on one topic of usage events; unconfigured (empty servers or topic): the source is off."""

    bootstrap_servers: str = Field(default="", description="Brokers, host:port[,host:port]; empty: source off.")
    topic: str = Field(default="", description="Topic of usage events, one JSON event per message.")
    group_id: str = Field(default="claude-ledger", description="Consumer group whose committed offsets mark progress.")
    batch_messages: int = Field(default=5_000, description="Messages per ClickHouse insert and offset commit.")
    max_messages_per_run: int = Field(default=200_000, description="Stop a run after this many; the rest waits.")
    max_lag: int = Field(default=10_000, description="The lag check warns above this many unread messages.")
    session_timeout_ms: int = Field(default=6_000, description="Group session timeout; joining takes half of it.")
    timeout_s: float = Field(default=10.0, description="Wait this long for a broker answer or a group assignment.")

    @classmethod
    def from_env(cls) -> KafkaSource:
        return cls(
            bootstrap_servers=settings.kafka_bootstrap_servers() or "",
            topic=settings.kafka_topic() or "",
            group_id=settings.kafka_group_id(),
            max_lag=settings.kafka_max_lag(),
        )

    @property
    def configured(self) -> bool:
        return bool(self.bootstrap_servers and self.topic)

    def consumer_config(self) -> dict[str, Any]:
        """librdkafka settings: defaults, then ``LEDGER_KAFKA_*`` pass-through, then what delivery relies on."""
        return {
            "auto.offset.reset": "earliest",  # a new group starts at the oldest retained event, not the newest
            "session.timeout.ms": self.session_timeout_ms,
            "heartbeat.interval.ms": self.session_timeout_ms // 3,  # a third, as Kafka advises
            **settings.kafka_client_settings(),
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.group_id,
            "enable.auto.commit": False,  # offsets are committed only after the rows are in ClickHouse
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,  # tells a run it has reached the end of a partition
        }

    @contextmanager
    def consumer(self) -> Iterator[Consumer]:
        """A consumer of the group, closed (leaving the group, committing nothing) at the end."""
        consumer = Consumer(self.consumer_config())
        try:
            yield consumer
        finally:
            consumer.close()
