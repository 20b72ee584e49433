"""Hand-made traffic for the Admin API simulator, so the tests can compute every expected number by hand."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from demo.organisation import Call, Feature
from demo.simulator.server import AdminApiSimulator, SimulatorState, running_simulator

HAIKU = "claude-haiku-4-5-20251001"
SONNET = "claude-sonnet-4-5-20250929"
HOUR = datetime(2026, 10, 5, 10, tzinfo=UTC)  # a Monday


def feature(key: str | None = "apikey_search", workspace: str | None = "wrkspc_search", model: str = HAIKU,
            tier: str = "standard", **dimensions: object) -> Feature:
    """``dimensions``: speed, inference_geo, container_seconds, session_seconds (see demo.organisation.Feature)."""
    return Feature("team", "feature", "prod", key, workspace, model, 1, 0, 0, 0, 0, service_tier=tier,
                   **dimensions)  # type: ignore[arg-type]


class Traffic:
    """Calls by hour; the simulator asks it for an hour's calls, a test adds or removes calls at any time."""

    def __init__(self) -> None:
        self.by_hour: dict[datetime, list[Call]] = defaultdict(list)

    def __call__(self, hour: datetime) -> tuple[Call, ...]:
        return tuple(self.by_hour.get(hour, ()))

    def add(self, ts: datetime, *, key: str | None = "apikey_search", workspace: str | None = "wrkspc_search",
            model: str = HAIKU, tier: str = "standard", input: int = 0, output: int = 0, cache_read: int = 0,
            write_5m: int = 0, write_1h: int = 0, web_searches: int = 0, user: str = "u_1",
            **dimensions: object) -> Call:
        hour = ts.replace(minute=0, second=0, microsecond=0)
        call = Call(f"evt_{len(self.by_hour[hour])}_{ts.isoformat()}", ts,
                    feature(key, workspace, model, tier, **dimensions),
                    user, input, output, cache_read, write_5m, write_1h, web_searches, 200, 100, "prefix")
        self.by_hour[hour].append(call)
        return call

    def clear(self, hour: datetime) -> None:
        self.by_hour.pop(hour, None)


@contextmanager
def simulator_for(traffic: Traffic, monkeypatch: pytest.MonkeyPatch, **state: object
                  ) -> Iterator[AdminApiSimulator]:
    """The simulator over ``traffic`` (429s ask for no wait, "slow" is 1 s), the collector pointed at it."""
    settings = {"retry_after_s": 0, "slow_s": 1.0, **state}
    with running_simulator(SimulatorState(calls_in_hour=traffic, **settings)) as simulator:
        monkeypatch.setenv("ANTHROPIC_ADMIN_API_KEY", simulator.api_key)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", simulator.base_url)
        yield simulator
