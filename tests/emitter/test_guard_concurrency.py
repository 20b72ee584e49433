"""Many callers against one budget, in threads and in processes, on Redis (a real redis-server) and on the
one-host files: the budget is never passed, no update is lost, every hold is settled or released, and a
refused call sends nothing. Money in micro-USD (1e-6 USD)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from guard_callers import ASK, client_of, run_callers
from guard_helpers import guarded, now_utc, publish
from messages_api_server import Answer

from pipelines.emitter import BudgetExceeded, BudgetGuard
from pipelines.settings import PROJECT_ROOT

# ASK on Opus 4.6: estimate 12 x $5/MTok + 10 (max_tokens) x $25/MTok = 60 + 250 = 310; the stand-in's default
# usage (10 in, 5 out) costs 10 x 5 + 5 x 25 = 175. Limit $0.01 = 10000: up to 32 holds fit at once, and one
# caller alone is admitted while 175 k + 310 <= 10000, i.e. for k = 0 .. 55: 56 calls.
LIMIT = 10_000
ESTIMATE, ACTUAL = 310, 175
FILLED = 56
PROCESSES, THREADS, CALLS = 3, 4, 25


def spend_and_held(guard: BudgetGuard) -> tuple[int, int]:
    spend, held = guard.standing("search-monthly")
    return int(spend * 1_000_000), int(held * 1_000_000)


def drain(client: Any) -> None:
    """One caller alone until the guard refuses: fills what is left of the budget."""
    while True:
        try:
            client.messages.create(**ASK)
        except BudgetExceeded:
            return


@pytest.fixture(params=["redis", "files"])
def backend(request, tmp_path):
    """(redis URL or "", state directory, publish target) of the counters under test."""
    state = tmp_path / "state"
    if request.param == "files":
        yield "", state, state
        return
    server = request.getfixturevalue("redis_server")
    yield server.url, state, server.client()


def test_many_callers_in_threads_and_processes_never_pass_the_limit(backend, messages_api, tmp_path: Path):
    redis_url, state, target = backend
    publish(target, now_utc(), guarded(id="search-monthly", period="month", amount_usd="0.01"))
    events = str(tmp_path / "events")
    processes = [subprocess.Popen([sys.executable, str(PROJECT_ROOT / "tests/support/guard_callers.py"),
                                   messages_api.url, redis_url, str(state), events, str(THREADS), str(CALLS)],
                                  cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True) for _ in range(PROCESSES)]
    guard = BudgetGuard(redis_url=redis_url, state_dir_path=state, refresh_seconds=60)
    client = client_of(messages_api.url, events, guard)
    here = run_callers(client, THREADS, CALLS)
    results = [json.loads(p.communicate(timeout=300)[0]) for p in processes] + [here]
    assert all(p.returncode == 0 for p in processes)

    sent = sum(r["sent"] for r in results)
    assert sent + sum(r["refused"] for r in results) == (PROCESSES + 1) * THREADS * CALLS
    assert len(messages_api.requests) == sent  # a refused call sent no request
    spend, held = spend_and_held(guard)
    assert (spend, held) == (sent * ACTUAL, 0)  # every settlement counted once, every hold settled
    assert spend <= LIMIT

    drain(client)  # a lost update or a leaked hold would change where it stops
    assert len(messages_api.requests) == FILLED
    assert spend_and_held(guard) == (FILLED * ACTUAL, 0)


def test_underestimated_calls_pass_the_limit_by_at_most_one_estimate_error_per_caller(redis_server, messages_api,
                                                                                      tmp_path: Path):
    # The stand-in reports 40 input tokens where the estimate said 12: each call costs 40 x 5 + 5 x 25 = 325,
    # 15 more than its hold of 310. Eight callers can each be one such call past the limit: 8 x 15 = 120.
    publish(redis_server.client(), now_utc(), guarded(id="search-monthly", period="month", amount_usd="0.01"))
    messages_api.script(*[Answer(usage={"input_tokens": 40, "output_tokens": 5})] * 400)
    guard = BudgetGuard(redis_url=redis_server.url, refresh_seconds=60)
    threads = 8

    client = client_of(messages_api.url, str(tmp_path / "events"), guard)
    run_callers(client, threads, 40)
    drain(client)

    spend, held = spend_and_held(guard)
    assert held == 0
    assert LIMIT - ESTIMATE < spend <= LIMIT + threads * (325 - ESTIMATE)  # filled, and past it by <= 120
    assert spend == len(messages_api.requests) * 325
