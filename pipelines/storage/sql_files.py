"""Each domain keeps its queries in ``sql/`` beside the Python that runs them; this module loads them.

    sql = Queries(__file__)           # the sql/ folder next to this module
    client.command(sql("allocation_hourly_of_month"), parameters={...})

Values are always bound as ClickHouse query parameters, never pasted into the text. The root ``sql/``
folder holds what domains share: the numbered migrations (the tables are the contracts between domains),
the cluster DDL and the read-only role. A test checks that every query file is referenced and every
reference names a file (``tests/storage/test_query_files.py``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SHARED_SQL_DIR = Path(__file__).resolve().parent.parent.parent / "sql"


@cache
def _read(path: Path) -> str:
    return path.read_text()


class Queries:
    """The query files of one domain: ``<folder of module_file>/sql/<name>.sql``."""

    def __init__(self, module_file: str) -> None:
        self.directory = Path(module_file).resolve().parent / "sql"

    def __call__(self, name: str) -> str:
        return _read(self.directory / f"{name}.sql")


def split_statements(script: str) -> list[str]:
    """Split a script on semicolons that end a line (ClickHouse runs one statement per call)."""
    statements, current = [], []
    for line in script.splitlines():
        if line.strip().startswith("--") and not current:
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).rstrip().rstrip(";").strip())
            current = []
    tail = "\n".join(current).strip()
    if tail:
        statements.append(tail)
    return [s for s in statements if any(line.strip() and not line.strip().startswith("--") for line in s.splitlines())]
