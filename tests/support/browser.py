"""A real headless Chromium (Debian's ``chromium``) driven over the DevTools protocol, for testing pages.

Started on loopback with a fresh profile and no background networking; the test stops it. ``open`` loads a
page with network logging on, so a test can assert that a page fetched nothing beyond its own file.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
                  "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0")
START_TIMEOUT_S = 60.0


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Page:
    """One tab, attached through the browser's DevTools connection (flattened session)."""

    def __init__(self, browser: Chromium, session_id: str) -> None:
        self.browser = browser
        self.session_id = session_id
        self.requests: list[str] = []

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self.browser.send(method, params, self.session_id, on_event=self._event)

    def _event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Network.requestWillBeSent" and message.get("sessionId") == self.session_id:
            self.requests.append(message["params"]["request"]["url"])

    def evaluate(self, expression: str) -> Any:
        reply = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"page script failed: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout_s: float) -> Any:
        """Poll ``expression`` until it is truthy; return its value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression} still falsy after {timeout_s:.0f} s")
            time.sleep(0.2)

    def screenshot(self, path: Path, width: int = 1100) -> Path:
        """A PNG of the whole page (the viewport is resized to the page's height)."""
        height = int(self.evaluate("document.documentElement.scrollHeight"))
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path


class Chromium:
    """``with Chromium(profile_dir) as browser: page = browser.open(url)``."""

    def __init__(self, profile_dir: Path) -> None:
        self.profile_dir = profile_dir
        self.process: subprocess.Popen | None = None
        self.socket: ClientConnection | None = None
        self.ids = itertools.count(1)
        self.stack = ExitStack()

    def __enter__(self) -> Chromium:
        binary = chromium_binary()
        if binary is None:
            raise RuntimeError("chromium is not installed (apt-get install chromium; .ci/run does)")
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([binary, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile_dir}",
                                         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = self.profile_dir / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self.socket = self.stack.enter_context(
            connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=START_TIMEOUT_S))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stack.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)

    def send(self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None,
             on_event: Any = None, timeout_s: float = 120.0) -> dict[str, Any]:
        assert self.socket is not None
        message_id = next(self.ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout_s
        while True:
            reply = json.loads(self.socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if on_event is not None:
                on_event(reply)

    def open(self, url: str) -> Page:
        """A new tab with network logging on, navigated to ``url`` and loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        page.send("Network.enable")
        page.send("Page.enable")
        page.send("Page.navigate", url=url)
        page.wait_for("document.readyState === 'complete'", timeout_s=120)
        return page
