"""JSON Lines: the one reader of the package's ``.jsonl`` files (the index's passages, footnotes and
chunks, question sets, ``qa search --questions`` batches, the chat's feedback file)."""

from __future__ import annotations

import json
from collections.abc import Iterator
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
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                if skip_bad:
                    continue
                raise JSONLError(Path(path), n) from None
            yield n, value
