"""The landing directory of usage-event files, read incrementally and in bounded blocks.

A plain ``.jsonl`` file may still be growing (an appending writer): only complete lines are read,
a trailing partial line waits for its newline, and the next read resumes at the byte offset where
the last complete line ended. A ``.jsonl.gz`` file is read through the decompressor; its offsets
count decompressed bytes, and a gzip stream that ends mid-member is left for the next read.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

BLOCK_BYTES = 8 << 20


@dataclass(frozen=True)
class Block:
    data: bytes  # complete lines, each ending in b"\n"
    end_offset: int  # byte offset just after the block's last line


def landing_files(directory: Path) -> list[Path]:
    """Every ``*.jsonl`` and ``*.jsonl.gz`` below ``directory`` (hidden files skipped), sorted."""
    if not directory.is_dir():
        return []
    found = [*directory.rglob("*.jsonl"), *directory.rglob("*.jsonl.gz")]
    return sorted(p for p in found if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:]))


def is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def _skip(stream: BinaryIO, count: int) -> None:
    while count > 0:
        chunk = stream.read(min(count, BLOCK_BYTES))
        if not chunk:
            return
        count -= len(chunk)


def read_blocks(path: Path, offset: int, block_bytes: int = BLOCK_BYTES) -> Iterator[Block]:
    """Complete lines of ``path`` from ``offset`` on, in blocks of about ``block_bytes``."""
    gz = is_gzip(path)
    with open(path, "rb") as raw:
        stream: BinaryIO
        if gz:
            stream = gzip.GzipFile(fileobj=raw)  # type: ignore[assignment]
            _skip(stream, offset)
        else:
            raw.seek(offset)
            stream = raw
        pending = b""
        position = offset
        while True:
            try:
                chunk = stream.read(block_bytes)
            except (EOFError, gzip.BadGzipFile, OSError):
                return  # a gzip file still being written: read the rest next time
            if not chunk:
                break
            data = pending + chunk
            cut = data.rfind(b"\n") + 1
            if cut:
                position += cut
                yield Block(data[:cut], position)
            pending = data[cut:]
        if gz and pending:
            # A finished gzip file is complete: its last line needs no newline.
            yield Block(pending + b"\n", position + len(pending))


def size_of(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0
