"""The landing directory of usage-event files: which files there are, and how big.

A plain ``.jsonl`` file may still be growing (an appending writer); a ``.jsonl.gz`` file is read whole
once its gzip stream is complete (``ingest.py`` says how each is read).
"""

from __future__ import annotations

from pathlib import Path


def landing_files(directory: Path) -> list[Path]:
    """Every ``*.jsonl`` and ``*.jsonl.gz`` below ``directory`` (hidden files skipped), sorted."""
    if not directory.is_dir():
        return []
    found = [*directory.rglob("*.jsonl"), *directory.rglob("*.jsonl.gz")]
    return sorted(p for p in found if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:]))


def is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
