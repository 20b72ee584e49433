"""How ``make demo`` prints its summary: one screen, at most 40 lines of at most 100 columns.

Each step prints a labelled item (the label in the first 12 columns, the text wrapped under it) and at most a small
table; what does not fit (full tables, every alert's text) is printed with ``--verbose`` and is in the tables and
the Dagster UI the summary names.
"""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Sequence
from pathlib import Path

from pipelines.metadata import text_table

WIDTH = 100
INDENT = " " * 12


def say(label: str, text: str, max_lines: int | None = None) -> None:
    """One item of the summary: ``label`` in the first 12 columns, ``text`` wrapped to the screen's width under it
    (a word longer than a line, a path, is never broken), cut with " …" after ``max_lines`` lines."""
    print(textwrap.fill(text, WIDTH, initial_indent=f"{label:<12}", subsequent_indent=INDENT,
                        break_long_words=False, break_on_hyphens=False, max_lines=max_lines, placeholder=" …"))


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = ()) -> None:
    """A small table under the current item."""
    for line in text_table(headers, rows, right):
        print(INDENT + line)


def shown(path: Path) -> str:
    """A path as the user types it: relative to the working directory when it is under it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 hour``, ``2 hours``, ``1,204 spend anomalies`` (``nouns``: the plural when it is not noun + s)."""
    return f"{count:,} {noun if count == 1 else nouns or noun + 's'}"
