"""Callers of a guarded client, in threads of this process or of another one (``python guard_callers.py``):
each makes its calls one after another and counts what was sent and what the guard refused."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

import anthropic

from pipelines.emitter import BudgetExceeded, BudgetGuard, JsonlFileSink, instrument

ASK = {"model": "claude-opus-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


def client_of(api_url: str, events: str, guard: BudgetGuard) -> Any:
    return instrument(anthropic.Anthropic(api_key="sk-ant-test", base_url=api_url, max_retries=0, timeout=120),
                      sink=JsonlFileSink(events), team="search", guard=guard)


def run_callers(client: Any, threads: int, calls: int) -> dict[str, int]:
    counts = {"sent": 0, "refused": 0}
    lock = threading.Lock()
    start = threading.Barrier(threads)

    def work() -> None:
        start.wait()
        for _ in range(calls):
            try:
                client.messages.create(**ASK)
                outcome = "sent"
            except BudgetExceeded:
                outcome = "refused"
            with lock:
                counts[outcome] += 1

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return counts


if __name__ == "__main__":
    api_url, redis_url, state_dir, events, threads, calls = sys.argv[1:7]
    guard = BudgetGuard(redis_url=redis_url, state_dir_path=state_dir, refresh_seconds=60)
    print(json.dumps(run_callers(client_of(api_url, events, guard), int(threads), int(calls))))
