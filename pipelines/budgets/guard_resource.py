"""The Redis the call-time budget guard shares with the pipeline, as a Dagster resource (``LEDGER_REDIS_URL``,
a secret: passed as an EnvVar, so the UI and run storage show the variable's name only)."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource
from pydantic import Field

from pipelines.secrets import reveal, secret


class GuardRedis(ConfigurableResource):
    url: str = Field(default="", description="Redis URL (from LEDGER_REDIS_URL); empty: the guard uses files.")
    timeout_s: float = Field(default=5.0, description="Connect and socket timeout of one command.")

    @classmethod
    def from_env(cls) -> GuardRedis:
        return cls(url=secret("LEDGER_REDIS_URL"))

    def client(self) -> Any:
        """A redis-py client, or None when no Redis is configured."""
        url = reveal(self.url)
        if not url:
            return None
        import redis

        return redis.Redis.from_url(url, socket_timeout=self.timeout_s, socket_connect_timeout=self.timeout_s)
