"""Question sets: the project's evaluation questions on disk (``questions/`` in the repository) and
the one place their rows are read and written: ``qa eval`` reads them, the chat's 👍 appends a
"feedback" row in the same format to its feedback file.

A row: ``{"id", "question", "type", "answers": [answer substrings; none: unanswerable],
"sources": [...], "split": "dev"|"test"|…}``; a feedback row adds ``passage_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa import files, jsonl
from qa.errors import InputError

DEFAULT_QUESTIONS = Path("questions/questions.jsonl")
# Named question sets (``qa eval --questions NAME``), relative to the repository.
QUESTION_SETS = {
    "paper": DEFAULT_QUESTIONS,  # the shipped paper in docs_src/
    "realpdf": Path("questions/questions_realpdf.jsonl"),  # 20 law reviews in ../shared/realpdf/dev/pdfs
}
SNIPPET_CHARS = 120
MAX_FILE_BYTES = 64 * 2**20  # a question file read whole (the chat's feedback file): refused when larger


@dataclass(frozen=True)
class Question:
    """One evaluation question with chunking-independent gold."""

    id: str
    question: str
    type: str
    answers: tuple[str, ...]
    sources: tuple[str, ...] = ()
    split: str = "dev"


def question_file(name_or_path: str | None) -> Path:
    """Return the file of a named question set (``paper``, ``realpdf``) or the given path; default ``paper``."""
    if name_or_path in (None, ""):
        name_or_path = "paper"
    if name_or_path in QUESTION_SETS:
        relative = QUESTION_SETS[name_or_path]
        in_repo = Path(__file__).resolve().parent.parent / relative
        return in_repo if in_repo.is_file() else relative
    return Path(name_or_path)


def load_questions(path: Path, split: str | None = None) -> list[Question]:
    """Return the questions of a JSONL file (optionally one split), or raise InputError naming the line."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: questions file not found; pass --questions FILE.jsonl")
    out: list[Question] = []
    seen: set[str] = set()
    try:
        for n, row in jsonl.rows(path):
            try:
                q = _question(n, row)
            except (ValueError, KeyError, TypeError, AttributeError):
                raise InputError(_bad_line(path, n)) from None
            if q.id in seen:
                raise InputError(f"{path}:{n}: duplicate id {q.id!r}; ids must be unique")
            seen.add(q.id)
            if split is None or q.split == split:
                out.append(q)
    except jsonl.JSONLError as exc:
        raise InputError(_bad_line(path, exc.line)) from None
    if not out:
        raise InputError(f"{path}: no questions" + (f" in split {split!r}" if split else ""))
    return out


def _question(n: int, row: Any) -> Question:
    """Return the Question of one row (line ``n``), or raise KeyError/TypeError/AttributeError."""
    return Question(
        id=str(row.get("id", n)), question=str(row["question"]),
        type=str(row.get("type") or ("unanswerable" if not row.get("answers") else "fact")),
        answers=tuple(str(a) for a in row.get("answers") or ()),
        sources=tuple(str(s) for s in row.get("sources") or ()),
        split=str(row.get("split") or "dev"),
    )


def _bad_line(path: Path, n: int) -> str:
    return (f"{path}:{n}: each line must be a JSON object with \"question\" and \"answers\" "
            "(a list of answer substrings, empty for unanswerable)")


def feedback_row(n: int, question: str, passage_id: str, passage_text: str) -> dict[str, Any]:
    """Return the question row the chat's 👍 records: this passage (its first words as the answer) answers it."""
    return {"id": f"fb-{n}", "question": question, "type": "feedback", "answers": [snippet(passage_text)],
            "passage_id": passage_id, "sources": [], "footnote": None, "split": "feedback"}


def snippet(text: str) -> str:
    """Return the first ~120 characters of a passage's clean text, cut at a word (an eval "answer")."""
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Return the rows of a question file that may have been edited by hand (none when it does not
    exist; lines that are not JSON objects skipped; raises files.NotRegular for a link, a pipe, a device)."""
    try:
        text = files.read_text(path, MAX_FILE_BYTES, errors="replace")
    except FileNotFoundError:
        return []
    return [row for _, row in jsonl.parse_lines(text.splitlines(), skip_bad=True) if isinstance(row, dict)]


def append_row(path: Path, row: dict[str, Any]) -> None:
    """Append one question row to a question file (made with its folder when missing; raises
    files.NotRegular when it is a link, a pipe or a device)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    files.append_text(path, json.dumps(row, ensure_ascii=False) + "\n")  # never through a link, never into a pipe
