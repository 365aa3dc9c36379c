"""JSON Lines: the one reader of the package's ``.jsonl`` files (the index's passages, footnotes and
chunks, question sets, ``qa search --questions`` batches, the chat's feedback file)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


class JSONLError(ValueError):
    """A line that is not JSON; ``line`` is its number (from 1)."""

    def __init__(self, path: Path, line: int) -> None:
        super().__init__(f"{path}:{line}: not valid JSON")
        self.path, self.line = path, line


def rows(path: Path, skip_bad: bool = False, errors: str = "replace") -> Iterator[tuple[int, Any]]:
    """Yield (line number, value) for each non-blank line of a JSONL file; a line that is not JSON raises
    JSONLError (``skip_bad``: is skipped). Undecodable bytes are replaced (``errors="strict"``: raise)."""
    with open(path, encoding="utf-8", errors=errors) as f:
        yield from parse_lines(f, skip_bad, Path(path))


def parse_lines(lines: Iterable[str], skip_bad: bool = False, path: Path = Path("-")) -> Iterator[tuple[int, Any]]:
    """Yield (line number, value) for each non-blank line of JSON Lines text (see ``rows``)."""
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            if skip_bad:
                continue
            raise JSONLError(path, n) from None
        yield n, value
