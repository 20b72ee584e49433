"""The Kafka topic as a Dagster resource: where it is, how the consumer group behaves, how much one run reads.

Extra librdkafka settings (SASL, TLS) come from ``LEDGER_KAFKA_*`` variables (``settings.kafka_client_settings``)
as resource config; the secret ones (``LEDGER_KAFKA_SASL_PASSWORD`` and the like) as Dagster EnvVars, so the
UI shows their names, never their values.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from confluent_kafka import Consumer
from dagster import ConfigurableResource
from pydantic import Field

from pipelines import settings
from pipelines.secrets import reveal, secret


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
    stale_run_s: float = Field(default=180.0, description="A run that logged no heartbeat for this long has died.")
    client_settings: dict[str, str] = Field(default_factory=dict,
                                            description="librdkafka settings from LEDGER_KAFKA_* (no secrets).")
    sasl_password: str = Field(default="", description="EnvVar LEDGER_KAFKA_SASL_PASSWORD.")
    ssl_key_password: str = Field(default="", description="EnvVar LEDGER_KAFKA_SSL_KEY_PASSWORD.")
    oauthbearer_client_secret: str = Field(default="",
                                           description="EnvVar LEDGER_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET.")

    @classmethod
    def from_env(cls) -> KafkaSource:
        return cls(
            bootstrap_servers=settings.kafka_bootstrap_servers() or "",
            topic=settings.kafka_topic() or "",
            group_id=settings.kafka_group_id(),
            max_lag=settings.kafka_max_lag(),
            batch_messages=settings.kafka_batch_messages(),
            stale_run_s=settings.kafka_stale_run_seconds(),
            client_settings=settings.kafka_client_settings(),
            sasl_password=secret("LEDGER_KAFKA_SASL_PASSWORD"),
            ssl_key_password=secret("LEDGER_KAFKA_SSL_KEY_PASSWORD"),
            oauthbearer_client_secret=secret("LEDGER_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET"),
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
            **self.client_settings,
            **self._secret_settings(),
            "bootstrap.servers": self.bootstrap_servers,
            "group.id": self.group_id,
            "enable.auto.commit": False,  # offsets are committed only after the rows are in ClickHouse
            "enable.auto.offset.store": False,
            "enable.partition.eof": True,  # tells a run it has reached the end of a partition
        }

    def _secret_settings(self) -> dict[str, str]:
        values = {"sasl.password": self.sasl_password, "ssl.key.password": self.ssl_key_password,
                  "sasl.oauthbearer.client.secret": self.oauthbearer_client_secret}
        return {name: reveal(value) for name, value in values.items() if value}

    @contextmanager
    def consumer(self) -> Iterator[Consumer]:
        """A consumer of the group, closed (leaving the group, committing nothing) at the end."""
        consumer = Consumer(self.consumer_config())
        try:
            yield consumer
        finally:
            consumer.close()
