"""A real Prometheus (Debian's ``prometheus``) on loopback with a temporary config and data directory.

``with PrometheusServer(config_text, directory) as prometheus: prometheus.query("up")`` — started by the test,
stopped (SIGTERM, then SIGKILL) when the block ends.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


class PrometheusServer:
    def __init__(self, config_text: str, directory: Path) -> None:
        self.directory = directory
        self.config_text = config_text
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> PrometheusServer:
        binary = prometheus_binary()
        if binary is None:
            raise RuntimeError("prometheus is not installed (apt-get install prometheus; .ci/run does)")
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "prometheus.yml"
        config.write_text(self.config_text)
        self.log = open(self.directory / "prometheus.log", "wb")  # closed in __exit__
        self.process = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={self.directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=5) as reply:
                    if reply.status == 200:
                        return self
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"prometheus did not start: {(self.directory / 'prometheus.log').read_text()}")
            time.sleep(0.2)

    def __exit__(self, *exc_info: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        self.log.close()

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=30) as reply:
            body = json.loads(reply.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expression: str) -> dict[str, float]:
        """An instant query: {label set as 'k=v,...': value}."""
        result = self.api("query", query=expression)["result"]
        hidden = ("__name__", "instance", "job")
        return {",".join(f"{k}={v}" for k, v in sorted(r["metric"].items()) if k not in hidden): float(r["value"][1])
                for r in result}

    def wait_for(self, expression: str, timeout_s: float = 180.0) -> dict[str, float]:
        """Poll an instant query until it returns a sample (the target has been scraped)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = self.query(expression)
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression}: no sample after {timeout_s:.0f} s; targets: {self.api('targets')}")
            time.sleep(0.5)
