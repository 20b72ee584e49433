"""The configuration contract: every environment variable the pipeline reads, in one place.

Values are read when called, not at import, so tests and the Dagster processes see the
environment they were started with. See the README's configuration table.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def ledger_home() -> Path:
    """Data directory: the local ClickHouse server's data, landing zone, exports."""
    return Path(_env("LEDGER_HOME") or ".ledger").resolve()


def local_clickhouse_http_port() -> int | None:
    """``LEDGER_CLICKHOUSE_HTTP_PORT``: the HTTP port of the local ClickHouse server (``CLICKHOUSE_DSN`` unset);
    unset: the port it used last time, else 8123, else any free port."""
    value = _env("LEDGER_CLICKHOUSE_HTTP_PORT")
    return int(value) if value else None


def local_clickhouse_tcp_port() -> int | None:
    """``LEDGER_CLICKHOUSE_TCP_PORT``: its native-protocol port (clickhouse-client); unset: as above, from 9000."""
    value = _env("LEDGER_CLICKHOUSE_TCP_PORT")
    return int(value) if value else None


def clickhouse_reads_local_files() -> bool:
    """``CLICKHOUSE_READS_LOCAL_FILES=1``: the server of ``CLICKHOUSE_DSN`` runs on this machine and can read the
    landing zone's files in place (as the local server does); unset, the raw lines are shipped to it."""
    return (_env("CLICKHOUSE_READS_LOCAL_FILES") or "0").lower() in ("1", "true", "yes")


def events_dir() -> Path:
    """Landing directory watched for ``*.jsonl`` and ``*.jsonl.gz`` usage-event files."""
    return Path(_env("LEDGER_EVENTS_DIR") or ledger_home() / "events").resolve()


def export_dir() -> Path:
    return Path(_env("LEDGER_EXPORT_DIR") or ledger_home() / "exports").resolve()


def partitions_start() -> date | None:
    """``LEDGER_PARTITIONS_START`` (YYYY-MM-DD): the first day of the time partitions; unset: the earliest
    day with data (``pipelines.storage.partitions``)."""
    value = _env("LEDGER_PARTITIONS_START")
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"LEDGER_PARTITIONS_START must be a date (YYYY-MM-DD), not {value!r}") from None


def dagster_log_file() -> Path:
    """Where ``make demo`` writes the Dagster run logs (all levels), instead of the terminal."""
    return ledger_home() / "logs" / "demo.log"


def metrics_port() -> int:
    """Port of the Prometheus ``/metrics`` endpoint (``ledger metrics``)."""
    return int(_env("LEDGER_METRICS_PORT") or 9464)


def ledger_config_path() -> Path:
    return Path(_env("LEDGER_CONFIG") or PROJECT_ROOT / "ledger.yaml").resolve()


def slack_api_url() -> str | None:
    """Slack Web API base URL (slack-sdk ``base_url``); unset: https://slack.com/api/."""
    return _env("SLACK_API_URL")


def dagster_ui_url() -> str | None:
    """Where the Dagster UI is reachable, for links in alerts (e.g. http://127.0.0.1:3000)."""
    return _env("DAGSTER_UI_URL")


def anthropic_base_url() -> str:
    """Admin API base URL (the bundled simulator's URL in ``make demo`` and the tests)."""
    return _env("ANTHROPIC_BASE_URL") or "https://api.anthropic.com"


def redis_url() -> str | None:
    """Redis of the call-time budget guard (``redis://[:password@]host:6379/0``, a secret: never logged);
    unset: the guard works for one host from files in the landing zone."""
    return _env("LEDGER_REDIS_URL")


def kafka_bootstrap_servers() -> str | None:
    """Kafka brokers (``host:port,...``); with ``LEDGER_KAFKA_TOPIC`` it switches the Kafka source on."""
    return _env("KAFKA_BOOTSTRAP_SERVERS")


def kafka_topic() -> str | None:
    return _env("LEDGER_KAFKA_TOPIC")


def kafka_group_id() -> str:
    return _env("LEDGER_KAFKA_GROUP_ID") or "claude-ledger"


def kafka_max_lag() -> int:
    """Messages behind the high watermarks (all partitions together) above which the lag check warns."""
    return int(_env("LEDGER_KAFKA_MAX_LAG") or 10_000)


def kafka_batch_messages() -> int:
    """Messages per ClickHouse insert and offset commit."""
    return int(_env("LEDGER_KAFKA_BATCH_MESSAGES") or 5_000)


def kafka_stale_run_seconds() -> float:
    """A Kafka ingest run that logged nothing for this long has died: the lag sensor marks it failed."""
    return float(_env("LEDGER_KAFKA_STALE_RUN_SECONDS") or 180)


_KAFKA_OWN_SETTINGS = frozenset({"LEDGER_KAFKA_TOPIC", "LEDGER_KAFKA_GROUP_ID", "LEDGER_KAFKA_MAX_LAG",
                                 "LEDGER_KAFKA_BATCH_MESSAGES", "LEDGER_KAFKA_STALE_RUN_SECONDS"})
# The librdkafka settings that are secrets: the pipeline takes them as Dagster EnvVars (pipelines.kafka.resource).
KAFKA_SECRET_SETTINGS = {
    "LEDGER_KAFKA_SASL_PASSWORD": "sasl.password",
    "LEDGER_KAFKA_SSL_KEY_PASSWORD": "ssl.key.password",
    "LEDGER_KAFKA_SASL_OAUTHBEARER_CLIENT_SECRET": "sasl.oauthbearer.client.secret",
}


def kafka_client_settings(include_secrets: bool = False) -> dict[str, str]:
    """Any other ``LEDGER_KAFKA_*`` variable as a librdkafka setting (SASL/TLS and the like), e.g.
    ``LEDGER_KAFKA_SASL_MECHANISM`` → ``sasl.mechanism``; the secrets of ``KAFKA_SECRET_SETTINGS`` only
    with ``include_secrets`` (the emitter, which has no Dagster)."""
    return {
        name.removeprefix("LEDGER_KAFKA_").lower().replace("_", "."): value
        for name, value in os.environ.items()
        if name.startswith("LEDGER_KAFKA_") and name not in _KAFKA_OWN_SETTINGS and value.strip()
        and (include_secrets or name not in KAFKA_SECRET_SETTINGS)
    }
