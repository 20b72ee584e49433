"""Minimum cacheable prompt length per model family: bundled data plus LEDGER_CONFIG overrides.

A prefix shorter than its model's minimum is processed without caching (no error, no write, no read),
so the opportunity analysis never proposes caching it. The numbers change with new models; they are
data (``cache_minimums.csv`` beside this module), not code.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path

from clickhouse_connect.driver.client import Client

from pipelines.storage.rebuild import rebuilt

MINIMUMS_FILE = Path(__file__).with_name("cache_minimums.csv")


def bundled_minimums(path: Path = MINIMUMS_FILE) -> dict[str, int]:
    with open(path, newline="") as handle:
        rows = csv.DictReader(line for line in handle if not line.startswith("#"))
        return {row["model"]: int(row["min_prefix_tokens"]) for row in rows}


def minimum_rows(overrides: Mapping[str, int]) -> list[list[object]]:
    """(model family, minimum tokens, origin) rows; a LEDGER_CONFIG entry wins over the bundled one."""
    rows = {model: [model, tokens, "bundled"] for model, tokens in bundled_minimums().items()}
    rows |= {model: [model, tokens, "config"] for model, tokens in overrides.items()}
    return [rows[model] for model in sorted(rows)]


def load_cache_minimums(client: Client, overrides: Mapping[str, int]) -> list[list[object]]:
    """Replace the ``cache_minimums`` table with the bundled and configured minimums (rebuilt whole and swapped in)."""
    rows = minimum_rows(overrides)
    with rebuilt(client, "cache_minimums") as build:
        client.insert(build, rows, column_names=["model", "min_prefix_tokens", "origin"])
    return rows
