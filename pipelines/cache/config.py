"""The ``cache_minimums:`` section of LEDGER_CONFIG: minimum cacheable prefix length per model family."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from pipelines.ledger_config import ConfigSection


class CacheConfig(ConfigSection):
    # tokens per model family; replaces or adds to pipelines/cache/cache_minimums.csv
    cache_minimums: dict[str, Annotated[int, Field(ge=1)]] = Field(default_factory=dict)
