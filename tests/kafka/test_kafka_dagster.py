"""The Kafka source through Dagster: asset metadata, the lag check and sensor, and staying off when unconfigured."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from clickhouse_databases import server_env
from dagster import AssetKey, DagsterInstance, Definitions, RunRequest, SkipReason, build_sensor_context, materialize
from event_lines import event

from pipelines.definitions import build_definitions
from pipelines.kafka.assets import kafka_usage_events
from pipelines.kafka.definitions import kafka_lag_sensor
from pipelines.kafka.resource import KafkaSource

pytest_plugins = ["kafka_broker"]

KAFKA_ENV = ("KAFKA_BOOTSTRAP_SERVERS", "LEDGER_KAFKA_TOPIC")


def materialise(ch, source: KafkaSource):
    result = materialize([kafka_usage_events], resources={"clickhouse": ch, "kafka": source})
    assert result.success
    return result


def test_a_materialisation_reports_rows_rejects_and_the_lag_of_every_partition(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=2)
    kafka_broker.produce(topic, [(0, event("e1")), (0, "not json"), (1, event("e2")), (0, event("e3"))])
    result = materialise(ch, kafka_broker.source(topic))
    metadata = result.asset_materializations_for_node("kafka_usage_events")[0].metadata
    assert metadata["messages_read"].value == 4
    assert metadata["rows_loaded"].value == 3
    assert metadata["rows_rejected"].value == 1
    assert metadata["events_in_table"].value == 3
    assert metadata["total_lag"].value == 0
    assert metadata["lag"].value.splitlines() == [
        "| partition | committed offset | high watermark | lag |",
        "|---|---|---|---|",
        "| 0 | 3 | 3 | 0 |",
        "| 1 | 1 | 1 | 0 |",
    ]
    assert "| not valid JSON | 1 |" in metadata["reject_reasons"].value
    [check] = result.get_asset_check_evaluations()
    assert (check.check_name, check.passed) == ("kafka_lag_within_bound", True)


def test_the_lag_check_warns_when_more_messages_wait_than_the_bound(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=1)
    kafka_broker.produce(topic, [(0, event(f"e{i}")) for i in range(5)])
    result = materialise(ch, kafka_broker.source(topic, max_messages_per_run=2, max_lag=2))
    metadata = result.asset_materializations_for_node("kafka_usage_events")[0].metadata
    assert metadata["lag"].value.endswith("| 0 | 2 | 5 | 3 |")
    [check] = result.get_asset_check_evaluations()
    assert check.passed is False
    assert check.severity.value == "WARN"
    assert check.metadata["total_lag"].value == 3


def test_the_sensor_requests_a_run_only_while_the_group_is_behind(ch, kafka_broker):
    topic = kafka_broker.create_topic(partitions=2)
    source = kafka_broker.source(topic)
    with DagsterInstance.ephemeral() as instance:
        def tick():
            return kafka_lag_sensor(build_sensor_context(instance=instance, resources={"kafka": source}))

        assert isinstance(tick(), SkipReason)
        kafka_broker.produce(topic, [(0, event("e1")), (1, event("e2")), (1, event("e3"))])
        request = tick()
        assert isinstance(request, RunRequest)
        assert request.tags["kafka_lag"] == "3"
        materialise(ch, source)
        assert isinstance(tick(), SkipReason)


def test_without_kafka_settings_the_sensor_skips_and_no_kafka_definitions_are_registered(monkeypatch):
    for name in KAFKA_ENV:
        monkeypatch.delenv(name, raising=False)
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources={"kafka": KafkaSource.from_env()})
        skipped = kafka_lag_sensor(context)
    assert isinstance(skipped, SkipReason)
    assert "KAFKA_BOOTSTRAP_SERVERS" in skipped.skip_message
    defs = build_definitions()
    assert "kafka_usage_events" not in {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert "kafka_lag_sensor" not in {s.name for s in defs.sensors}
    assert "ingest_kafka_usage_events" not in {job.name for job in defs.jobs}


def test_with_kafka_settings_the_asset_job_and_sensor_are_registered(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("LEDGER_KAFKA_TOPIC", "usage")
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS")
    without = {key.to_user_string() for key in build_definitions().resolve_all_asset_keys()}
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    defs = build_definitions()
    assert {key.to_user_string() for key in defs.resolve_all_asset_keys()} - without == {"kafka_usage_events"}
    assert "kafka_lag_sensor" in {s.name for s in defs.sensors}
    assert "ingest_kafka_usage_events" in {job.name for job in defs.jobs}
    assert defs.resources["kafka"].topic == "usage"


def test_with_kafka_configured_the_topic_feeds_every_asset_that_reads_usage_events(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9")
    monkeypatch.setenv("LEDGER_KAFKA_TOPIC", "usage")
    graph = build_definitions().resolve_asset_graph()
    kafka, files = AssetKey("kafka_usage_events"), AssetKey("usage_events")
    readers = {key.to_user_string() for key in graph.get_all_asset_keys() if files in graph.get(key).parent_keys}
    fed = {key.to_user_string() for key in graph.get_all_asset_keys() if kafka in graph.get(key).parent_keys}
    assert fed == readers
    assert {"spend_hourly", "allocation", "cache_opportunities", "rate_limit_health"} <= fed


def test_sasl_settings_reach_the_client_but_not_the_resource_config(monkeypatch):
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "broker:9093")
    monkeypatch.setenv("LEDGER_KAFKA_TOPIC", "usage")
    monkeypatch.setenv("LEDGER_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("LEDGER_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("LEDGER_KAFKA_SASL_PASSWORD", "s3cret-value")
    monkeypatch.setenv("LEDGER_KAFKA_ENABLE_AUTO_COMMIT", "true")
    source = KafkaSource.from_env()
    config = source.consumer_config()
    assert (config["security.protocol"], config["sasl.mechanism"], config["sasl.password"]) == (
        "SASL_SSL", "SCRAM-SHA-512", "s3cret-value")
    assert config["enable.auto.commit"] is False  # delivery depends on it: not overridable
    assert "topic" not in config and "group.id" in config
    assert "s3cret-value" not in repr(source.model_dump())



@contextmanager
def project_definitions(environment: dict[str, str]) -> Iterator[Definitions]:
    """``pipelines.definitions.defs`` as loaded in ``environment`` (no Kafka settings besides those given)."""
    import pipelines.definitions

    with pytest.MonkeyPatch.context() as patched:
        for name in (*KAFKA_ENV, "CLICKHOUSE_DSN"):
            patched.delenv(name, raising=False)
        for name, value in environment.items():
            patched.setenv(name, value)
        try:
            yield importlib.reload(pipelines.definitions).defs
        finally:
            patched.undo()
            importlib.reload(pipelines.definitions)


def test_the_project_definitions_have_no_kafka_source_when_kafka_is_unconfigured(tmp_path):
    with project_definitions({"LEDGER_HOME": str(tmp_path)}) as defs:
        assert "kafka_usage_events" not in {k.to_user_string() for k in defs.resolve_all_asset_keys()}
        assert "kafka_lag_sensor" not in {s.name for s in defs.sensors}


def test_the_project_definitions_ingest_from_the_topic_named_in_the_environment(kafka_broker, ch):
    topic = kafka_broker.create_topic(partitions=1)
    kafka_broker.produce(topic, [(0, event("e1")), (0, event("e2"))])
    environment = {
        "KAFKA_BOOTSTRAP_SERVERS": kafka_broker.bootstrap, "LEDGER_KAFKA_TOPIC": topic,
        **server_env(ch), "LEDGER_KAFKA_GROUP_ID": f"group-{topic}",
        # librdkafka settings pass through as LEDGER_KAFKA_*: here a faster group join on the test broker
        "LEDGER_KAFKA_SESSION_TIMEOUT_MS": "2000", "LEDGER_KAFKA_HEARTBEAT_INTERVAL_MS": "500",
    }
    with project_definitions(environment) as defs:
        result = defs.resolve_job_def("ingest_kafka_usage_events").execute_in_process()
    assert result.success
    metadata = result.asset_materializations_for_node("kafka_usage_events")[0].metadata
    assert (metadata["rows_loaded"].value, metadata["events_in_table"].value, metadata["total_lag"].value) == (2, 2, 0)
