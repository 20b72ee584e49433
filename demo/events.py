"""Write the demo organisation's application usage events into a landing directory.

One file per UTC day (``events-YYYY-MM-DD.jsonl``; days more than a week old gzipped, as an
archiving emitter would leave them). Services that emit no events are skipped, a few events are
written twice, and one day carries three malformed lines so the dead letter has something to show.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from demo.organisation import REPLAY_SHARE, Call, calls_in_hour, hours
from pipelines import settings

BAD_LINES = (
    "this line is not JSON\n",
    '{"schema_version": 1, "ts": "2026-01-01T00:00:00Z", "model": "claude-haiku-4-5"}\n',
    '{"schema_version": 1, "event_id": "evt_bad_tokens", "ts": "2026-01-01T00:00:00Z", '
    '"model": "claude-haiku-4-5", "usage": {"input_tokens": -5, "output_tokens": 1}}\n',
)


def event_of(call: Call) -> dict:
    """The schema-v1 usage event an emitting service writes for ``call``."""
    feature = call.feature
    return {
        "schema_version": 1,
        "event_id": call.event_id,
        "ts": call.ts.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "team": feature.team,
        "feature": feature.name,
        "env": feature.env,
        "user": call.user,
        "workspace_id": feature.workspace_id,
        "api_key_id": feature.api_key_id,
        "model": feature.model,
        "service_tier": feature.service_tier,
        "speed": feature.speed,
        "inference_geo": feature.inference_geo,
        "usage": {
            "input_tokens": call.input_tokens,
            "output_tokens": call.output_tokens,
            "cache_read_input_tokens": call.cache_read,
            "cache_creation_input_tokens": call.cache_write_5m + call.cache_write_1h,
            "cache_creation": {
                "ephemeral_5m_input_tokens": call.cache_write_5m,
                "ephemeral_1h_input_tokens": call.cache_write_1h,
            },
            "server_tool_use": {"web_search_requests": call.web_searches},
        },
        "latency_ms": call.latency_ms,
        "status": call.status,
        "error_type": call.error_type,
        "request_id": "req_" + call.event_id[4:],
        "prompt_prefix_hash": call.prefix_hash,
        "prompt_prefix_tokens": call.feature.prefix_tokens,
    }


def _lines_for_day(day: date, end: datetime, today: date | None) -> Iterator[str]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    replay = random.Random(f"replay|{day.isoformat()}")
    for hour in hours(start, min(start + timedelta(days=1), end)):
        for call in calls_in_hour(hour, today):
            if not call.feature.emits_events:
                continue
            line = json.dumps(event_of(call), separators=(",", ":")) + "\n"
            yield line
            if replay.random() < REPLAY_SHARE:
                yield line


def write_demo_events(directory: Path, start: datetime, end: datetime, gzip_before: date | None = None,
                      today: date | None = None) -> int:
    """Write events for calls in [start, end); return the number of lines written. ``today``: the demo's current
    UTC day, which places the planted spike (default: the wall clock's)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = 0
    day = start.date()
    while datetime(day.year, day.month, day.day, tzinfo=UTC) < end:
        lines = list(_lines_for_day(day, end, today))
        if day == start.date() + timedelta(days=3):
            lines[100:100] = BAD_LINES
        name = f"events-{day.isoformat()}.jsonl"
        if gzip_before and day < gzip_before:
            with gzip.open(directory / f"{name}.gz", "wt") as handle:
                handle.writelines(lines)
        else:
            (directory / name).write_text("".join(lines))
        written += len(lines)
        day += timedelta(days=1)
    return written


def demo_window(now: datetime | None = None) -> tuple[datetime, datetime]:
    """The previous calendar month up to the last whole hour: the demo's history."""
    now = (now or datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    first_this_month = now.replace(day=1, hour=0)
    start = (first_this_month - timedelta(days=1)).replace(day=1)
    return start, now


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="landing directory (default: LEDGER_EVENTS_DIR)")
    args = parser.parse_args(argv)
    directory = args.out or settings.events_dir()
    start, end = demo_window()
    count = write_demo_events(directory, start, end, gzip_before=(end - timedelta(days=7)).date())
    print(f"wrote {count} demo usage events for {start:%Y-%m-%d} .. {end:%Y-%m-%d %H:00} UTC into {directory}")


if __name__ == "__main__":
    main()
