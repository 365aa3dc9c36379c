"""jsonl: the one JSON Lines reader — line numbers, blank lines, bad lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa import jsonl


def test_rows_are_numbered_by_line_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"a": 1}\n\n  \n[2]\n', encoding="utf-8")
    assert list(jsonl.rows(path)) == [(1, {"a": 1}), (4, [2])]


def test_a_bad_line_names_its_number_or_is_skipped_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "b.jsonl"
    path.write_text('{"a": 1}\n{not json\n{"b": 2}\n', encoding="utf-8")
    with pytest.raises(jsonl.JSONLError) as caught:
        list(jsonl.rows(path))
    assert caught.value.line == 2 and "b.jsonl:2" in str(caught.value)
    assert [n for n, _ in jsonl.rows(path, skip_bad=True)] == [1, 3]


def test_undecodable_bytes_are_replaced_unless_strict(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_bytes(b'{"q": "caf\xe9"}\n')
    assert list(jsonl.rows(path)) == [(1, {"q": "caf\ufffd"})]
    with pytest.raises(UnicodeDecodeError):
        list(jsonl.rows(path, errors="strict"))
