"""A local Anthropic Messages API on 127.0.0.1 (``POST /v1/messages``), so the real ``anthropic`` SDK runs
unmodified against it: JSON answers, SSE streams (message_start / content_block_* / message_delta /
message_stop), cached-token usage, rate-limit headers and 429s. Answers come from a script (then the
default answer); every request body is recorded.

``POST /v1/messages/count_tokens`` follows the documented contract
(https://platform.claude.com/docs/en/api/messages/count_tokens): the body is a create request without
``max_tokens`` (messages, model, system, tools, tool_choice, thinking, ...), the answer ``{"input_tokens": N}``.
N is scripted (``script_count``), else the stand-in's own count: the whitespace-separated words of the JSON of
system, tools and messages. Its requests are recorded apart, in ``count_requests``."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

RATELIMIT = {"requests-limit": 4000, "requests-remaining": 3999, "tokens-limit": 2000000,
             "tokens-remaining": 1990000, "input-tokens-limit": 1600000, "input-tokens-remaining": 1595000,
             "output-tokens-limit": 400000, "output-tokens-remaining": 399000}


@dataclass(frozen=True)
class Answer:
    """One scripted answer. ``usage`` is the final usage; a stream sends ``start_usage`` in message_start
    (default: ``usage`` with output_tokens 1) and ``delta_usage`` in message_delta (default: output_tokens)."""

    status: int = 200
    usage: dict[str, Any] = field(default_factory=lambda: {"input_tokens": 10, "output_tokens": 5})
    start_usage: dict[str, Any] | None = None
    delta_usage: dict[str, Any] | None = None
    model: str | None = None  # default: the requested model
    ratelimit: dict[str, int] = field(default_factory=lambda: dict(RATELIMIT))
    error_type: str = "rate_limit_error"  # for status >= 400
    request_id: str = "req_test"
    text: str = "Hello there"
    stream_error: str | None = None  # a stream sends this error event (e.g. overloaded_error) after message_start
    delay_s: float = 0.0  # wait this long before answering (a call in flight)


@dataclass(frozen=True)
class CountAnswer:
    """One scripted answer of count_tokens: ``input_tokens``, or an error status."""

    input_tokens: int = 0
    status: int = 200


def words_of(body: dict[str, Any]) -> int:
    """The stand-in's token count of a count_tokens body."""
    return len(json.dumps([body.get(name) for name in ("system", "tools", "messages")]).split())


def rate_limited(**ratelimit: int) -> Answer:
    headers = {**RATELIMIT, "requests-remaining": 0, **{k.replace("_", "-"): v for k, v in ratelimit.items()}}
    return Answer(status=429, ratelimit=headers, request_id="req_429")


class FakeMessagesApi:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.count_requests: list[dict[str, Any]] = []
        self._script: deque[Answer] = deque()
        self._count_script: deque[CountAnswer] = deque()
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                if self.path.split("?")[0] == "/v1/messages/count_tokens":
                    self._count(body)
                    return
                with api._lock:
                    api.requests.append(body)
                    answer = api._script.popleft() if api._script else Answer()
                time.sleep(answer.delay_s)
                self.send_response(answer.status)
                self.send_header("request-id", answer.request_id)
                for name, value in answer.ratelimit.items():
                    self.send_header(f"anthropic-ratelimit-{name}", str(value))
                self.send_header("anthropic-ratelimit-requests-reset", "2026-10-05T10:16:00Z")
                if answer.status >= 400:
                    if answer.status == 429:
                        self.send_header("retry-after", "1")
                    self._send_json({"type": "error", "error": {"type": answer.error_type, "message": "slow down"}})
                elif body.get("stream"):
                    self._send_stream(body, answer)
                else:
                    self._send_json(_message(body, answer, answer.usage))

            def _count(self, body: dict[str, Any]) -> None:
                with api._lock:
                    api.count_requests.append(body)
                    answer = api._count_script.popleft() if api._count_script else CountAnswer(words_of(body))
                self.send_response(answer.status)
                self.send_header("request-id", "req_count")
                if answer.status >= 400:
                    self._send_json({"type": "error", "error": {"type": "rate_limit_error" if answer.status == 429
                                                                else "api_error", "message": "count failed"}})
                else:
                    self._send_json({"input_tokens": answer.input_tokens})

            def _send_json(self, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, body: dict[str, Any], answer: Answer) -> None:
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                start_usage = answer.start_usage or {**answer.usage, "output_tokens": 1}
                delta_usage = answer.delta_usage or {"output_tokens": answer.usage["output_tokens"]}
                message = {**_message(body, answer, start_usage), "content": [], "stop_reason": None}
                half = len(answer.text) // 2
                events = [
                    ("message_start", {"type": "message_start", "message": message}),
                    ("content_block_start", {"type": "content_block_start", "index": 0,
                                             "content_block": {"type": "text", "text": ""}}),
                    ("ping", {"type": "ping"}),
                    *[("content_block_delta", {"type": "content_block_delta", "index": 0,
                                               "delta": {"type": "text_delta", "text": part}})
                      for part in (answer.text[:half], answer.text[half:])],
                    ("content_block_stop", {"type": "content_block_stop", "index": 0}),
                    ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                          "stop_sequence": None},
                                       "usage": delta_usage}),
                    ("message_stop", {"type": "message_stop"}),
                ]
                if answer.stream_error:
                    events[1:] = [("error", {"type": "error", "error": {"type": answer.stream_error,
                                                                         "message": "Overloaded"}})]
                try:
                    for name, data in events:
                        self.wfile.write(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client closed the stream early

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def script_count(self, *answers: CountAnswer) -> None:
        with self._lock:
            self._count_script.extend(answers)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _message(body: dict[str, Any], answer: Answer, usage: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_test", "type": "message", "role": "assistant",
        "model": answer.model or body.get("model"),
        "content": [{"type": "text", "text": answer.text}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": usage,
    }
