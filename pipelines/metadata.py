"""Small helpers for tables: Markdown ones shown with every materialisation in the Dagster UI, and plain text ones
for the terminal (`ledger`, `make demo`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def bar(value: float, largest: float, width: int = 24) -> str:
    """A text bar for a Markdown table cell: ``value`` out of ``largest`` in ``width`` eighth-block steps."""
    if largest <= 0 or value <= 0:
        return ""
    eighths = round(value / largest * width * 8)
    return "█" * (eighths // 8) + ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")[eighths % 8]


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Collection[int] = (),
               rule: bool = False) -> list[str]:
    """A table for a terminal, one string per line: columns padded to their widest cell and two spaces apart, text
    left-aligned and the columns ``right`` (numbers) right-aligned, a line of dashes under the header if ``rule``;
    no trailing blanks."""
    widths = [max([len(header), *(len(row[i]) for row in rows)]) for i, header in enumerate(headers)]
    lines = ["  ".join(cell.rjust(width) if i in right else cell.ljust(width)
                       for i, (cell, width) in enumerate(zip(row, widths, strict=True))).rstrip()
             for row in [list(headers), *rows]]
    return [lines[0], "  ".join("-" * width for width in widths), *lines[1:]] if rule else lines
