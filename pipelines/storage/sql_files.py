"""SQL lives in ``sql/``, named for what it builds; Python only loads and binds it."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent.parent / "sql"


@cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``; values are bound as ClickHouse query parameters."""
    return (SQL_DIR / f"{name}.sql").read_text()


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
    return [s for s in statements if s]
