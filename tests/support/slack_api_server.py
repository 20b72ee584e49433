"""A local Slack on 127.0.0.1 speaking the Web API (``POST /api/chat.postMessage``) and incoming webhooks
(``POST /services/...``), so slack-sdk runs unmodified. It records every request it receives and answers
from a script of responses (then ``ok``): faults are injected here, never by mocking the client."""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: dict[str, Any] | str | None = None  # None: the method's ok answer
    headers: tuple[tuple[str, str], ...] = ()


OK = Reply()


def rate_limited(retry_after_s: int) -> Reply:
    return Reply(429, {"ok": False, "error": "ratelimited"}, (("Retry-After", str(retry_after_s)),))


def server_error(status: int = 503) -> Reply:
    return Reply(status, "<html><body>Service Unavailable</body></html>")


def api_error(error: str) -> Reply:
    return Reply(200, {"ok": False, "error": error})


@dataclass(frozen=True)
class Received:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    reply: Reply


class FakeSlack:
    def __init__(self) -> None:
        self.received: list[Received] = []
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ts = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                try:
                    body = json.loads(raw or b"{}")
                except json.JSONDecodeError:
                    body = {"raw": raw.decode()}
                reply, payload = fake._answer(self.path)
                fake.received.append(Received(self.path, body, dict(self.headers), time.monotonic(), reply))
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(reply.status)
                self.send_header("Content-Type", "text/plain" if isinstance(payload, str) else "application/json")
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def _answer(self, path: str) -> tuple[Reply, dict[str, Any] | str]:
        with self._lock:
            reply = self._script.popleft() if self._script else OK
            if reply.body is not None:
                return reply, reply.body
            if path.startswith("/services/"):
                return reply, "ok"
            self._ts += 1
            return reply, {"ok": True, "channel": "C0123", "ts": f"1763900000.{self._ts:06d}"}

    def will_answer(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order; after them, ``ok``."""
        with self._lock:
            self._script.extend(replies)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    @property
    def webhook_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/services/T000/B000/secretpart"

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Bodies of the requests Slack accepted, in order."""
        return [r.body for r in self.received if r.reply.status == 200 and r.reply.body is None]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
