"""budget: a reader that loops, eats memory or crashes costs one skipped file, never the program."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from conftest import SMALL_TXT, FakeEmbedder

from qa import budget, index
from qa.errors import DocumentError
from qa.parse import parse_file
from qa.records import Document


def loops_forever(path: Path, doc: str) -> Document:
    """A stand-in reader stuck in a loop (like a PDF whose form draws itself)."""
    while True:
        time.sleep(0.01)


def eats_memory(path: Path, doc: str) -> Document:
    """A stand-in reader whose memory grows without end."""
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))


def dies(path: Path, doc: str) -> Document:
    """A stand-in reader that crashes the process (as a bug in C code would)."""
    os._exit(3)


def breaks_on_traps(path: Path, doc: str) -> Document:
    """The real reader, except that a reader library raises its own error on files named 'trap'."""
    if "trap" in path.name:
        raise ValueError("Exceeds the limit (4300 digits) for integer string conversion")
    return parse_file(path, doc)


def loops_on_traps(path: Path, doc: str) -> Document:
    """The real reader, except on files whose name says 'trap'."""
    if "trap" in path.name:
        loops_forever(path, doc)
    return parse_file(path, doc)


@pytest.fixture
def doc(tmp_path: Path) -> Path:
    path = tmp_path / "harbours.txt"
    path.write_text(SMALL_TXT, encoding="utf-8")
    return path


def test_a_sound_file_reads_the_same_within_the_budget(doc: Path) -> None:
    assert budget.parse_within_budget(doc, "harbours.txt", seconds=60) == parse_file(doc, "harbours.txt")


def test_a_reader_that_loops_is_stopped_with_a_one_line_reason(doc: Path) -> None:
    start = time.monotonic()
    with pytest.raises(DocumentError) as exc:
        budget.parse_within_budget(doc, parse=loops_forever, seconds=1)
    message = str(exc.value)
    assert message.startswith(f"{doc}: skipped: reading it took more than 1 s") and "\n" not in message
    assert "QA_PARSE_SECONDS" in message
    assert time.monotonic() - start < 60  # returned, and the child is gone
    assert not [p for p in __import__("multiprocessing").active_children() if p.is_alive()]


def test_a_reader_that_eats_memory_is_stopped(doc: Path) -> None:
    with pytest.raises(DocumentError, match=r"harbours.txt: skipped: .*more than 256 MB"):
        budget.parse_within_budget(doc, parse=eats_memory, seconds=120, memory_mb=256)


def test_a_reader_that_crashes_the_process_is_a_skipped_file(doc: Path) -> None:
    with pytest.raises(DocumentError, match=r"harbours.txt: skipped: the reader stopped \(exit code 3\)"):
        budget.parse_within_budget(doc, parse=dies, seconds=60)


def test_errors_of_the_reader_pass_through(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"empty\.md: no text found"):
        budget.parse_within_budget(empty, seconds=60)


def test_the_budget_works_from_a_threaded_program(doc: Path) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)  # like the chat's server threads
    other.start()
    try:
        assert budget.parse_within_budget(doc, "harbours.txt", seconds=60) == parse_file(doc, "harbours.txt")
        with pytest.raises(DocumentError, match="took more than 2 s"):
            budget.parse_within_budget(doc, parse=loops_forever, seconds=2)
    finally:
        stop.set()
        other.join()


def test_a_build_skips_a_file_whose_reader_loops_and_indexes_the_rest(
        small_docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (small_docs / "trap.txt").write_text("Looks harmless.\n", encoding="utf-8")
    monkeypatch.setenv("QA_PARSE_SECONDS", "10")  # room for a sound file on a busy machine
    said: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=said.append, parse=loops_on_traps)
    assert report.documents == 2 and [doc for doc, _ in report.skipped] == ["trap.txt"]
    assert len(said) == 1 and "trap.txt: skipped: reading it took more than 10 s" in said[0]
    assert set(index.load(tmp_path / "idx").manifest["documents"]) == {"harbours.txt", "notes.md"}


def test_qa_parse_says_why_a_file_was_skipped(doc: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from qa import cli

    monkeypatch.setattr(cli, "PARSER", loops_forever)
    monkeypatch.setenv("QA_PARSE_SECONDS", "1")
    assert cli.main(["parse", str(doc)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("qa: error: ") and "took more than 1 s" in err and err.count("\n") == 1


def test_without_a_budget_a_readers_own_error_still_costs_one_file(
        small_docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # QA_PARSE_SECONDS=0 QA_PARSE_MEMORY_MB=0 read in this process, and any error but a QAError
    # (a PdfiumError of a damaged page, a ValueError) stopped the whole build
    (small_docs / "trap.txt").write_text("Looks harmless.\n", encoding="utf-8")
    monkeypatch.setenv("QA_PARSE_SECONDS", "0")
    monkeypatch.setenv("QA_PARSE_MEMORY_MB", "0")
    with pytest.raises(DocumentError, match=r"trap\.txt: could not be read \(ValueError: Exceeds"):
        budget.parse_within_budget(small_docs / "trap.txt", parse=breaks_on_traps)
    report = index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None, parse=breaks_on_traps)
    assert report.documents == 2 and [doc for doc, _ in report.skipped] == ["trap.txt"]
