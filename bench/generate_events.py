"""Generate a large JSONL file of usage events for benchmarks: realistic field mix, ~5 % of lines
with cache fields, 0.1 % bad lines (not JSON, missing event_id, negative tokens, fractional tokens)."""

from __future__ import annotations

import random
from pathlib import Path

TEAMS = [("search", "query-rewrite"), ("search", "answer-synthesis"), ("support", "ticket-triage"),
         ("growth", "email-personalise"), ("research", "eval-batch"), ("data", "doc-summarise")]
MODELS = ["claude-haiku-4-5-20251001", "claude-sonnet-4-5-20250929", "claude-opus-4-5-20251101"]
KEYS = [("wrkspc_01SearchProd", "apikey_01SearchProd"), ("wrkspc_01SupportBots", "apikey_01SupportBot"),
        (None, "apikey_01SharedPlatform")]
BAD = [
    "this line is not JSON",
    '{{"schema_version":1,"ts":"2026-10-01T00:00:00Z","model":"claude-haiku-4-5","usage":{{"input_tokens":{n}}}}}',
    '{{"schema_version":1,"event_id":"bad{n}","ts":"2026-10-01T00:00:00Z","model":"claude-haiku-4-5",'
    '"usage":{{"input_tokens":-{n}}}}}',
    '{{"schema_version":1,"event_id":"bad{n}","ts":"2026-10-01T00:00:00Z","model":"claude-haiku-4-5",'
    '"usage":{{"input_tokens":{n}.5}}}}',
]


def _json(value: str | None) -> str:
    return "null" if value is None else f'"{value}"'


def write_events(path: Path, count: int, seed: int = 7, month: str = "2026-10") -> int:
    """Write ``count`` lines to ``path``; return its size in bytes."""
    rng = random.Random(seed)
    with open(path, "w") as out:
        buffer = []
        for n in range(count):
            if rng.random() < 0.001:
                buffer.append(rng.choice(BAD).format(n=n))
            else:
                team, feature = TEAMS[n % len(TEAMS)]
                workspace, key = KEYS[n % len(KEYS)]
                day, hour, minute, second = 1 + n % 28, (n // 28) % 24, n % 60, (n * 7) % 60
                cached = rng.random() < 0.05
                cache = (f',"cache_read_input_tokens":{rng.randint(1000, 4000)},"cache_creation_input_tokens":300,'
                         f'"cache_creation":{{"ephemeral_5m_input_tokens":300,"ephemeral_1h_input_tokens":0}}'
                         if cached else "")
                tokens_in, tokens_out = rng.randint(50, 9000), rng.randint(10, 1500)
                latency = rng.randint(200, 20000)
                buffer.append(
                    f'{{"schema_version":1,"event_id":"evt_{n:012d}","ts":"{month}-{day:02d}T{hour:02d}:{minute:02d}:'
                    f'{second:02d}.{n % 1000:03d}Z","team":"{team}","feature":"{feature}","env":"prod",'
                    f'"user":"u_{n % 997:04d}","workspace_id":{_json(workspace)},"api_key_id":"{key}",'
                    f'"model":"{MODELS[n % 3]}","service_tier":"standard","usage":{{"input_tokens":{tokens_in},'
                    f'"output_tokens":{tokens_out}{cache},"server_tool_use":{{"web_search_requests":0}}}},'
                    f'"latency_ms":{latency},"status":200,"error_type":null,"request_id":"req_{n:012d}",'
                    f'"prompt_prefix_hash":"{(n % 5000):016x}","prompt_prefix_tokens":{1000 + n % 3000}}}'
                )
            if len(buffer) >= 10_000:
                out.write("\n".join(buffer) + "\n")
                buffer.clear()
        if buffer:
            out.write("\n".join(buffer) + "\n")
    return path.stat().st_size
