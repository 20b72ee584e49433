"""The result of one `make demo` run on a fresh data directory, and the `ledger` command against it."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from pipelines.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class DemoRun:
    home: Path  # LEDGER_HOME
    dagster_home: Path
    env: dict[str, str]
    stdout: str

    def ledger(self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
        """The installed `ledger` command against the demo's data."""
        return subprocess.run([str(BIN / "ledger"), *args], cwd=PROJECT_ROOT, env={**self.env, **(env or {})},
                              input=stdin, capture_output=True, text=True, timeout=timeout)
