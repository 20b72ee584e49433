"""The configuration contract: every environment variable the pipeline reads, in one place.

Values are read when called, not at import, so tests and the Dagster processes see the
environment they were started with. See the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def ledger_home() -> Path:
    """Data directory: embedded database, landing zone, exports."""
    return Path(_env("LEDGER_HOME") or ".ledger").resolve()


def clickhouse_dsn() -> str | None:
    """A ClickHouse server DSN, or None for the embedded chDB database."""
    return _env("CLICKHOUSE_DSN")


def events_dir() -> Path:
    """Landing directory watched for ``*.jsonl`` and ``*.jsonl.gz`` usage-event files."""
    return Path(_env("LEDGER_EVENTS_DIR") or ledger_home() / "events").resolve()


def export_dir() -> Path:
    return Path(_env("LEDGER_EXPORT_DIR") or ledger_home() / "exports").resolve()


def ledger_config_path() -> Path:
    return Path(_env("LEDGER_CONFIG") or PROJECT_ROOT / "ledger.yaml").resolve()
