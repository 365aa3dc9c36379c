"""index: build → load round trip, manifest, incremental rebuilds, staleness, load errors, atomicity."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_TXT, FakeEmbedder

from qa import index
from qa.chunk import chunk_document
from qa.errors import DocumentError, IndexLoadError, QAError
from qa.parse import parse_file
from qa.search import search

QUESTIONS = ["When was the harbour of Vellmar opened?", "When do apple trees bloom?", "What does the fish market sell?"]


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        return super().encode(texts, progress)


class BrokenEmbedder(FakeEmbedder):
    """Same model name as the fake one, but encoding crashes (a killed or failing build)."""

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        raise RuntimeError("model crashed")


def quiet(line: str) -> None:
    pass


def build(docs: Path, idx: Path, embedder=None) -> index.BuildReport:
    return index.build(docs, idx, embedder or FakeEmbedder(), log=quiet)


def answers(idx_dir: Path) -> list[list[tuple[str, float]]]:
    loaded = index.load(idx_dir)
    return [[(h.paragraph.id, h.score) for h in search(loaded, FakeEmbedder(), q, k=5).hits] for q in QUESTIONS]


# --- build → load --------------------------------------------------------------------------

def test_build_then_load_round_trip(small_docs: Path, tmp_path: Path) -> None:
    report = build(small_docs, tmp_path / "idx")
    loaded = index.load(tmp_path / "idx")
    embedder = FakeEmbedder()
    expected_paragraphs, expected_notes, expected_chunks = [], [], []
    for name in ("harbours.txt", "notes.md"):
        document = parse_file(small_docs / name, name)
        expected_paragraphs += document.paragraphs
        expected_notes += document.footnotes
        expected_chunks += chunk_document(document.paragraphs, document.footnotes,
                                          embedder.count_tokens, embedder.max_tokens)
    assert loaded.paragraphs == expected_paragraphs
    assert [n for doc in loaded.notes.values() for n in doc.values()] == expected_notes
    assert loaded.chunks == expected_chunks
    assert loaded.store.count() == len(loaded.chunks) == report.chunks
    vectors = np.load(tmp_path / "idx" / loaded.manifest["generation"] / "vectors.npy")
    assert vectors.shape == (len(expected_chunks), embedder.dimension)
    assert np.allclose(vectors, embedder.encode([c.text for c in expected_chunks]))
    assert (report.documents, report.parsed, report.reused, report.embedded) == (2, 2, 0, len(expected_chunks))
    assert [loaded.paragraphs[row].id for row in loaded.chunk_paragraph] == [c.paragraph_id for c in loaded.chunks]


def test_resolved_back_references_round_trip_through_the_index(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "brief.md").write_text(
        "Harbours were dredged.[^1] The court agreed.[^2] Later it did not.[^3]\n\n"
        "[^1]: Midler v. Ford Motor Co., 849 F.2d 460, 461 (9th Cir. 1988).\n"
        "[^2]: Id. at 462 (Kozinski, J., concurring).\n[^3]: See id.; Tribe, supra note 9.\n", encoding="utf-8")
    build(docs, tmp_path / "idx")
    notes = index.load(tmp_path / "idx").notes["brief.md"]
    assert notes == {n.marker: n for n in parse_file(docs / "brief.md", "brief.md").footnotes}
    assert notes[2].references[0].opinion == "Kozinski, J., concurring" and notes[2].references[0].authority_note == 1
    assert [r.status for r in notes[3].references] == ["resolved", "not found"]


def test_word_web_page_and_epub_documents_are_built_with_their_notes(small_docs: Path, tmp_path: Path) -> None:
    from test_docx import fref, make_docx, para, run
    from test_epub import make_epub, ref, xhtml

    make_docx(small_docs / "order.docx", para(run("The quay was rebuilt in 1910."), fref(2)), {2: "Port survey, 1911."})
    (small_docs / "page.html").write_text('<p>The lighthouse was lit in 1851.<a href="#n1">[1]</a></p>'
                                          '<ol><li id="n1">Coast guard log.</li></ol>', encoding="utf-8")
    make_epub(small_docs / "book.epub", {"c.xhtml": xhtml(f'<p>The ferry ran daily{ref(1)}.</p><aside id="note-1" '
                                                         'epub:type="footnote">Timetable, 1900.</aside>')}, ["c.xhtml"])
    build(small_docs, tmp_path / "idx")
    loaded = index.load(tmp_path / "idx")
    assert {p.doc: p.footnotes for p in loaded.paragraphs if p.footnotes} == {
        "order.docx": (1,), "page.html": (1,), "book.epub": (1,), "notes.md": ("a",), "harbours.txt": (3,)}
    assert {doc: [n.text for n in notes.values()] for doc, notes in loaded.notes.items() if doc[-3:] not in (".md", "txt")} == {
        "order.docx": ["Port survey, 1911."], "page.html": ["Coast guard log."], "book.epub": ["Timetable, 1900."]}


def test_manifest_fields(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    loaded = index.load(tmp_path / "idx")
    assert manifest["format_version"] == index.FORMAT_VERSION == 1
    assert (manifest["model"], manifest["dim"]) == ("fake-hash-64", 64)
    assert set(manifest["documents"]) == {"harbours.txt", "notes.md"}
    for doc, record in manifest["documents"].items():
        assert record["sha256"] == hashlib.sha256((small_docs / doc).read_bytes()).hexdigest()
    assert manifest["counts"] == {"documents": 2, "paragraphs": len(loaded.paragraphs),
                                  "footnotes": sum(len(n) for n in loaded.notes.values()),
                                  "chunks": len(loaded.chunks)}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", manifest["built_at"])
    assert (tmp_path / "idx" / manifest["generation"]).is_dir()
    assert loaded.model == "fake-hash-64"


def test_only_the_current_generation_is_kept(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    (small_docs / "notes.md").write_text("# Orchards\n\nPlums ripen in August.\n", encoding="utf-8")
    build(small_docs, tmp_path / "idx")
    generation = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))["generation"]
    assert [p.name for p in (tmp_path / "idx").iterdir() if "gen-" in p.name] == [generation]


# --- incremental rebuilds ------------------------------------------------------------------

def test_rebuild_with_nothing_changed_embeds_nothing(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    before = answers(tmp_path / "idx")
    counting = CountingEmbedder()
    report = build(small_docs, tmp_path / "idx", counting)
    assert counting.encoded == []
    assert (report.embedded, report.parsed, report.reused) == (0, 0, 2)
    assert answers(tmp_path / "idx") == before


def test_documents_carry_their_title_and_an_index_built_without_titles_reads_them_again(
        small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    manifest_path = tmp_path / "idx" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    assert manifest["documents"]["harbours.txt"]["title"] == "Tiny Report on Harbours"
    assert manifest["documents"]["harbours.txt"]["authors"] == [] and manifest["documents"]["notes.md"]["title"] == "Orchards"
    for record in manifest["documents"].values():  # as an index built before titles were kept
        del record["title"], record["authors"], record["year"]
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    counting = CountingEmbedder()
    report = build(small_docs, tmp_path / "idx", counting)
    assert (report.parsed, report.reused, counting.encoded) == (2, 0, [])  # read again, nothing embedded again
    again = json.loads(manifest_path.read_text(encoding="utf-8"))["documents"]
    assert again["harbours.txt"]["title"] == "Tiny Report on Harbours"
    assert build(small_docs, tmp_path / "idx").reused == 2  # and then reused, title kept
    assert json.loads(manifest_path.read_text(encoding="utf-8"))["documents"]["notes.md"]["title"] == "Orchards"


def test_changing_one_document_reparses_it_and_embeds_only_its_new_chunks(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    old_texts = {c.text for c in index.load(tmp_path / "idx").chunks}
    notes = small_docs / "notes.md"
    notes.write_text(notes.read_text(encoding="utf-8").replace("in September", "in the first days of October"),
                     encoding="utf-8")
    counting = CountingEmbedder()
    report = build(small_docs, tmp_path / "idx", counting)
    assert (report.parsed, report.reused) == (1, 1)
    loaded = index.load(tmp_path / "idx")
    new_texts = {c.text for c in loaded.chunks} - old_texts
    changed = "Pears ripen later, in the first days of October."
    assert new_texts == {changed, f"Orchards: {changed}"}  # its window and its titled first sentence
    chunk_texts = {c.text for c in loaded.chunks} | old_texts
    assert sorted(t for t in counting.encoded if t in chunk_texts) == sorted(new_texts)  # no unchanged chunk re-embedded
    assert report.embedded == 2
    # The reused vectors are the right ones: the index answers as a fresh build does.
    build(small_docs, tmp_path / "fresh")
    assert answers(tmp_path / "idx") == answers(tmp_path / "fresh")


def test_a_new_parser_version_reparses_everything_but_reuses_vectors(
        small_docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(small_docs, tmp_path / "idx")
    assert index.stale(index.read_manifest(tmp_path / "idx"), small_docs) == []
    monkeypatch.setattr(index, "PIPELINE", "parse-999/chunk-999")
    assert index.stale(index.read_manifest(tmp_path / "idx"), small_docs) != []
    report = build(small_docs, tmp_path / "idx", CountingEmbedder())
    assert (report.parsed, report.reused, report.embedded) == (2, 0, 0)  # same chunk texts, same vectors
    assert index.read_manifest(tmp_path / "idx")["pipeline"] == "parse-999/chunk-999"


def test_another_model_reembeds_everything(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")

    class Other(CountingEmbedder):
        name = "other-model"

    other = Other()
    report = build(small_docs, tmp_path / "idx", other)
    assert report.embedded == report.chunks
    assert {c.text for c in index.load(tmp_path / "idx").chunks} <= set(other.encoded)
    assert index.load(tmp_path / "idx").model == "other-model"


# --- staleness -----------------------------------------------------------------------------

def test_stale_is_empty_when_current(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    assert index.stale(index.read_manifest(tmp_path / "idx"), small_docs) == []


def test_stale_reports_changed_new_and_removed_documents(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    manifest = index.read_manifest(tmp_path / "idx")
    (small_docs / "harbours.txt").write_text("The harbour closed in 2020 after a long decline of trade.\n",
                                            encoding="utf-8")
    (small_docs / "notes.md").unlink()
    (small_docs / "new.txt").write_text("A new document about bridges.\n", encoding="utf-8")
    assert sorted(index.stale(manifest, small_docs)) == ["changed harbours.txt", "new new.txt", "removed notes.md"]
    build(small_docs, tmp_path / "idx")
    assert index.stale(index.read_manifest(tmp_path / "idx"), small_docs) == []


def test_stale_ignores_a_touched_but_identical_file(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    path = small_docs / "notes.md"
    path.write_bytes(path.read_bytes())  # new mtime, same bytes
    assert index.stale(index.read_manifest(tmp_path / "idx"), small_docs) == []


# --- loading errors ------------------------------------------------------------------------

def assert_actionable(exc: pytest.ExceptionInfo, folder: Path) -> None:
    message = str(exc.value)
    assert str(folder) in message
    assert "qa build" in message
    assert "\n" not in message


def test_loading_a_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexLoadError) as exc:
        index.load(tmp_path / "nowhere")
    assert_actionable(exc, tmp_path / "nowhere")


@pytest.mark.parametrize("content", ["{not json", "[]", '{"format_version": 99}', ""])
def test_loading_a_corrupt_manifest(small_docs: Path, tmp_path: Path, content: str) -> None:
    build(small_docs, tmp_path / "idx")
    (tmp_path / "idx" / "manifest.json").write_text(content, encoding="utf-8")
    with pytest.raises(IndexLoadError) as exc:
        index.load(tmp_path / "idx")
    assert_actionable(exc, tmp_path / "idx")


@pytest.mark.parametrize("victim", ["", "chunks.jsonl", "paragraphs.jsonl", "vectors.faiss", "bm25"])
def test_loading_with_missing_generation_files(small_docs: Path, tmp_path: Path, victim: str) -> None:
    build(small_docs, tmp_path / "idx")
    gen = tmp_path / "idx" / index.read_manifest(tmp_path / "idx")["generation"]
    target = gen / victim
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(IndexLoadError) as exc:
        index.load(tmp_path / "idx")
    assert_actionable(exc, tmp_path / "idx")


def test_loading_a_truncated_chunks_file(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    chunks = tmp_path / "idx" / index.read_manifest(tmp_path / "idx")["generation"] / "chunks.jsonl"
    chunks.write_text(chunks.read_text(encoding="utf-8")[:-40], encoding="utf-8")
    with pytest.raises(IndexLoadError) as exc:
        index.load(tmp_path / "idx")
    assert_actionable(exc, tmp_path / "idx")


# --- atomicity -----------------------------------------------------------------------------

def change_a_document(docs: Path) -> None:
    (docs / "notes.md").write_text("# Orchards\n\nPlums ripen in August in the southern orchards.\n",
                                   encoding="utf-8")


def test_a_build_failing_while_embedding_leaves_the_previous_index(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    manifest = (tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8")
    before = answers(tmp_path / "idx")
    change_a_document(small_docs)
    with pytest.raises(RuntimeError, match="model crashed"):
        build(small_docs, tmp_path / "idx", BrokenEmbedder())
    assert (tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8") == manifest
    assert answers(tmp_path / "idx") == before


def test_a_build_failing_while_writing_leaves_the_previous_index(
        small_docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    build(small_docs, tmp_path / "idx")
    manifest = (tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8")
    before = answers(tmp_path / "idx")
    change_a_document(small_docs)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(index, "_fsync_dir", disk_full)  # every file written, just before the swap
    with pytest.raises(QAError) as exc:
        build(small_docs, tmp_path / "idx")
    assert str(exc.value) == (f"{tmp_path / 'idx'}: could not write the index (No space left on device); free some "
                              "space (or make the folder writable) and build again; the previous index is unchanged")
    monkeypatch.undo()
    assert (tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8") == manifest
    assert answers(tmp_path / "idx") == before
    assert not [p for p in (tmp_path / "idx").iterdir() if p.name.startswith(".tmp")]


# --- documents folder ----------------------------------------------------------------------

def test_a_binary_document_is_skipped_and_reported(small_docs: Path, tmp_path: Path) -> None:
    (small_docs / "notes.md").unlink()
    (small_docs / "scan.txt").write_bytes(b"\x00\x01\x02\x03" * 100)
    lines: list[str] = []
    said: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lines.append, status=said.append)
    assert report.documents == 1
    assert said[-2].startswith("1 of 1 documents read · ")  # the skipped file is not one still to read
    assert [doc for doc, _ in report.skipped] == ["scan.txt"]
    assert "binary" in report.skipped[0][1]
    assert len(lines) == 1 and "scan.txt" in lines[0]
    loaded = index.load(tmp_path / "idx")
    assert {p.doc for p in loaded.paragraphs} == {"harbours.txt"}
    assert list(loaded.manifest["skipped"]) == ["scan.txt"]
    assert index.stale(loaded.manifest, small_docs) == []  # a known-bad file is not "new"


def test_a_file_whose_name_is_not_utf8_is_skipped_and_the_rest_built(small_docs: Path, tmp_path: Path) -> None:
    # Linux allows any bytes in a name; the index files (JSON, UTF-8) cannot hold them: the build crashed
    (small_docs / os.fsdecode(b"scan-\xff.txt")).write_text("A sound sentence about harbours.\n", encoding="utf-8")
    lines: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lines.append)
    assert report.documents == 2
    assert report.skipped == (("scan-\\xff.txt", "scan-\\xff.txt: skipped: its name is not valid UTF-8; rename it"),)
    assert lines == ["scan-\\xff.txt: skipped: its name is not valid UTF-8; rename it"]
    loaded = index.load(tmp_path / "idx")
    assert index.stale(loaded.manifest, small_docs) == []  # the known-bad name is not "new" at each search


def test_subfolders_are_indexed_and_hidden_files_skipped(small_docs: Path, tmp_path: Path) -> None:
    (small_docs / "sub").mkdir()
    (small_docs / "sub" / "bridges.txt").write_text("The old bridge was built in 1820.\n", encoding="utf-8")
    (small_docs / ".hidden.txt").write_text("Secret text.\n", encoding="utf-8")
    (small_docs / "readme.rtf").write_text("Not a supported type.\n", encoding="utf-8")
    build(small_docs, tmp_path / "idx")
    docs = set(index.read_manifest(tmp_path / "idx")["documents"])
    assert docs == {"harbours.txt", "notes.md", "sub/bridges.txt"}


def test_an_empty_docs_folder_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    with pytest.raises(DocumentError, match="no readable documents"):
        build(tmp_path / "docs", tmp_path / "idx")
    assert not (tmp_path / "idx" / "manifest.json").exists()


def test_a_missing_docs_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="not found"):
        build(tmp_path / "nowhere", tmp_path / "idx")


_KILL_SCRIPT = r"""
import sys, time, pathlib
sys.path.insert(0, {tests!r})
import numpy as np
from conftest import SMALL_TXT, FakeEmbedder
from qa import index

stage, docs, out, flag = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]), pathlib.Path(sys.argv[4])

class Stuck(FakeEmbedder):
    def encode(self, texts, progress=False):
        if stage == "embed":
            flag.write_text("embedding")
            time.sleep(60)
        return super().encode(texts, progress)

real_save = np.save
def stuck_save(*args, **kwargs):
    real_save(*args, **kwargs)
    if stage == "write":
        flag.write_text("writing")
        time.sleep(60)
np.save = stuck_save
index.build(docs, out, Stuck(), log=lambda line: None)
"""


@pytest.mark.parametrize("stage", ["embed", "write"])
def test_a_build_killed_with_sigkill_leaves_the_previous_index_answering(tmp_path, small_docs, fake_embedder, stage):
    import signal
    import subprocess
    import sys
    import time as _time

    from qa.search import search

    out = tmp_path / "index"
    index.build(small_docs, out, fake_embedder, log=lambda line: None)
    before = [h.paragraph.id for h in search(index.load(out), fake_embedder, "When was the harbour opened?", 3).hits]
    (small_docs / "harbours.txt").write_text(SMALL_TXT.replace("1911", "1912") + "\nA new closing line.\n", encoding="utf-8")
    script = tmp_path / "build.py"
    script.write_text(_KILL_SCRIPT.format(tests=str(Path(__file__).parent)), encoding="utf-8")
    flag = tmp_path / "flag"
    proc = subprocess.Popen([sys.executable, str(script), stage, str(small_docs), str(out), str(flag)])
    try:
        deadline = _time.monotonic() + 60
        while not flag.exists() and proc.poll() is None and _time.monotonic() < deadline:
            _time.sleep(0.05)
        assert flag.exists(), "the build never reached the stage to kill"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    if stage == "write":
        assert any(p.name.startswith(".tmp-gen-") for p in out.iterdir()), "killed before the new generation was written"
    loaded = index.load(out)
    after = [h.paragraph.id for h in search(loaded, fake_embedder, "When was the harbour opened?", 3).hits]
    assert after == before
    assert "1911" in " ".join(p.text for p in loaded.paragraphs)
    # The next build completes and clears what the killed one left behind.
    index.build(small_docs, out, fake_embedder, log=lambda line: None)
    assert not any(p.name.startswith(".tmp-") for p in out.iterdir())
    assert "1912" in " ".join(p.text for p in index.load(out).paragraphs)


def test_a_word_table_that_cannot_be_cached_never_fails_the_build(small_docs: Path, tmp_path: Path) -> None:
    class NoCache(FakeEmbedder):
        def build_word_table(self) -> int:
            raise PermissionError(13, "Permission denied", "/root/.cache/qa/words")

    said: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", NoCache(), log=said.append)
    assert report.paragraphs > 0 and index.load(tmp_path / "idx").paragraphs
    assert any("word table not cached (Permission denied)" in line for line in said)


# --- a damaged last build, clean-up, concurrent builds ---------------------------------------

def gen_dir(idx: Path) -> Path:
    return idx / index.read_manifest(idx)["generation"]


def assert_vectors_match_chunks(idx: Path) -> None:
    loaded = index.load(idx)
    vectors = np.load(gen_dir(idx) / "vectors.npy")
    assert np.allclose(vectors, FakeEmbedder().encode([c.text for c in loaded.chunks]))


def test_a_rebuild_after_a_lost_chunk_line_gives_every_chunk_its_own_vector(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    chunks = gen_dir(tmp_path / "idx") / "chunks.jsonl"
    lines = chunks.read_text(encoding="utf-8").splitlines(keepends=True)
    chunks.write_text("".join(lines[1:]), encoding="utf-8")  # the first line lost: every row shifts
    said: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=said.append)
    assert_vectors_match_chunks(tmp_path / "idx")
    assert report.chunks == len(lines) and report.embedded == len(lines)  # rebuilt from scratch
    assert len(said) == 1 and "damaged" in said[0] and "building from scratch" in said[0]


def test_a_vector_is_reused_only_for_the_text_it_was_made_from(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    chunks = gen_dir(tmp_path / "idx") / "chunks.jsonl"
    lines = chunks.read_text(encoding="utf-8").splitlines(keepends=True)
    chunks.write_text("".join([lines[1], lines[0], *lines[2:]]), encoding="utf-8")  # same count, rows swapped
    change_a_document(small_docs)
    build(small_docs, tmp_path / "idx")
    assert_vectors_match_chunks(tmp_path / "idx")


def test_each_distinct_text_is_embedded_once_longest_first_and_every_row_gets_its_vector() -> None:
    texts = ["a b", "one two three four", "a b", "x", "one two three four", "c d e"]
    counting = CountingEmbedder()
    vectors, embedded, pieces = index._reuse_or_embed(texts, index._nothing, counting)
    assert embedded == 4 and sorted(counting.encoded) == sorted(set(texts))
    assert pieces == 2 + 4 + 1 + 3  # the word pieces the model read: each distinct text once
    assert [counting.count_tokens(t) for t in counting.encoded] == [4, 3, 2, 1]  # batches of one length pad little
    assert np.allclose(vectors, FakeEmbedder().encode(texts))


def test_the_vocabulary_is_read_from_the_models_word_table_and_only_the_rest_embedded(small_docs: Path,
                                                                                       tmp_path: Path) -> None:
    class WithTable(CountingEmbedder):
        """A model whose word table (made once, at the first build) holds two of the corpus's words."""

        def __init__(self) -> None:
            super().__init__()
            self.table: dict[str, np.ndarray] = {}

        def build_word_table(self) -> int:
            words = ["harbour", "orchards"]
            self.table = dict(zip(words, FakeEmbedder.encode(self, words), strict=True))  # not counted
            return len(self.table)

        def encode_words(self, words: list[str]) -> np.ndarray:
            missing = [w for w in words if w not in self.table]
            fresh = dict(zip(missing, self.encode(missing), strict=True)) if missing else {}
            return np.array([self.table[w] if w in self.table else fresh[w] for w in words])

    model = WithTable()
    index.build(small_docs, tmp_path / "idx", model, log=lambda line: None)
    built = index.load(tmp_path / "idx", with_search=False)
    assert {"harbour", "orchards", "pears"} <= set(built.vocab)
    assert "harbour" not in model.encoded and "orchards" not in model.encoded  # read from the table, not embedded
    assert "pears" in model.encoded  # a word the table lacks is embedded
    row = built.vocab_rows["harbour"]
    assert np.allclose(built.vocab_vectors[row], FakeEmbedder().encode(["harbour"])[0], atol=1e-3)  # float16 on disk


@pytest.mark.parametrize("damage", [b"", b"\x93NUMPY garbage", b"not numpy at all" * 10])
def test_a_damaged_vectors_file_is_rebuilt_with_a_notice(small_docs: Path, tmp_path: Path, damage: bytes) -> None:
    build(small_docs, tmp_path / "idx")
    (gen_dir(tmp_path / "idx") / "vectors.npy").write_bytes(damage)
    said: list[str] = []
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=said.append)
    assert_vectors_match_chunks(tmp_path / "idx")
    assert len(said) == 1 and "vectors.npy" in said[0] and "building from scratch" in said[0]
    said.clear()
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=said.append)  # and the next one is quiet
    assert said == []


def test_clean_up_removes_only_what_builds_wrote(small_docs: Path, tmp_path: Path) -> None:
    mine = small_docs / "gen-2024-drafts"  # the user's own folder, in a docs folder that is also the index
    mine.mkdir()
    (mine / "draft.txt").write_text("A draft about the harbour.\n", encoding="utf-8")
    (small_docs / ".tmp-gen-notes").mkdir()
    (small_docs / ".tmp-gen-notes" / "keep.txt").write_text("kept\n", encoding="utf-8")
    first = build(small_docs, small_docs)
    first_gen = index.read_manifest(small_docs)["generation"]
    change_a_document(small_docs)
    build(small_docs, small_docs)
    assert (mine / "draft.txt").is_file() and (small_docs / ".tmp-gen-notes" / "keep.txt").is_file()
    assert not (small_docs / first_gen).exists()  # the index's own earlier generation is gone
    gens = [p.name for p in small_docs.iterdir() if p.name.startswith("gen-") and p != mine]
    assert gens == [index.read_manifest(small_docs)["generation"]]
    assert first.documents == 3


def test_clean_up_removes_the_generation_of_an_index_written_before_markers(small_docs: Path, tmp_path: Path) -> None:
    build(small_docs, tmp_path / "idx")
    old = gen_dir(tmp_path / "idx")
    (old / index.MARKER).unlink()
    change_a_document(small_docs)
    build(small_docs, tmp_path / "idx")
    assert not old.exists()


def test_a_second_build_waits_for_the_first(small_docs: Path, tmp_path: Path) -> None:
    import threading

    entered, release, waiting = threading.Event(), threading.Event(), threading.Event()

    class Slow(FakeEmbedder):
        def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
            entered.set()
            release.wait(60)
            return super().encode(texts, progress)

    errors: list[BaseException] = []

    def run(embedder: FakeEmbedder, log) -> None:
        try:
            index.build(small_docs, tmp_path / "idx", embedder, log=log)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    first = threading.Thread(target=run, args=(Slow(), quiet))
    first.start()
    assert entered.wait(60)
    said: list[str] = []

    def log(line: str) -> None:
        said.append(line)
        waiting.set()

    second = threading.Thread(target=run, args=(FakeEmbedder(), log))
    second.start()
    try:
        assert waiting.wait(60), "the second build did not wait for the first"
        assert second.is_alive()
        assert said == [f"another build of {tmp_path / 'idx'}/ is running; waiting for it to finish…"]
    finally:
        release.set()
        first.join(60)
        second.join(60)
    assert errors == []
    gens = [p.name for p in (tmp_path / "idx").iterdir() if p.name.startswith("gen-")]
    assert gens == [index.read_manifest(tmp_path / "idx")["generation"]]
    assert_vectors_match_chunks(tmp_path / "idx")


def test_links_to_files_outside_the_documents_folder_are_skipped_and_listed(small_docs: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("The vault code is 4711.\n", encoding="utf-8")
    (small_docs / "vault.txt").symlink_to(secret)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "far.md").write_text("# Far\n\nFar away text.\n", encoding="utf-8")
    (small_docs / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    (small_docs / "inside.txt").symlink_to(small_docs / "harbours.txt")  # a link inside the folder is fine
    said: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=said.append)
    loaded = index.load(tmp_path / "idx")
    assert set(loaded.manifest["documents"]) == {"harbours.txt", "inside.txt", "notes.md"}
    assert "4711" not in " ".join(p.text for p in loaded.paragraphs)
    assert [doc for doc, _ in report.skipped] == ["vault.txt"]  # a linked folder is not walked at all
    assert any(line.startswith("vault.txt: skipped: a link to a file outside") for line in said)
    assert index.stale(loaded.manifest, small_docs) == []


def test_progress_lines_name_what_the_build_does(small_docs: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(index, "EMBED_BATCH", 4)
    lines: list[str] = []
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet, status=lines.append)
    assert lines[:2] == ["reading harbours.txt (1 of 2 documents)", "cutting harbours.txt into passages (4 paragraphs)"]
    assert lines[2:4] == ["reading notes.md (2 of 2 documents)", "cutting notes.md into passages (2 paragraphs)"]
    embedding = [line for line in lines if "passages embedded" in line]
    assert embedding[0] == "2 of 2 documents read · 0 of 21 passages embedded"
    assert embedding[1] == "2 of 2 documents read · 4 of 21 passages embedded"  # the time left from the second batch on
    assert re.fullmatch(r"2 of 2 documents read · \d+ of 21 passages embedded · about \d+ s left", embedding[2])
    done = [int(re.search(r"· (\d+) of 21", line).group(1)) for line in embedding]
    assert done == sorted(done) and len(set(done)) == 7  # 0, then each of the 6 batches (the last of one text)
    words = [line for line in embedding if "words" in line]  # then the vocabulary's new words
    assert words and re.fullmatch(r"2 of 2 documents read · 21 of 21 passages embedded · (\d+) of \1 words · about 0 s left",
                                  words[-1])
    assert lines[-1].startswith("writing the index")


def test_the_time_left_holds_when_a_text_costs_other_than_counted() -> None:
    """A model whose texts cost the same whatever their length (OpenVINO's short texts cost more than ``_work``
    counts them): from a quarter of the time on, each "about N s left" is within 30% of the time then left.
    Taken longest first, the rate of the long texts done said half the time left of the short ones (the upload
    of two law reviews with OpenVINO, docs/performance.md)."""
    clock = [0.0]

    class Flat(FakeEmbedder):
        def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
            clock[0] += 0.05 * len(texts)  # a twentieth of a second a text, long or short
            return super().encode_passages(texts, progress)

    model = Flat()
    said: list[tuple[float, str]] = []
    progress = index._Progress(lambda line: said.append((clock[0], line)), model.count_tokens, clock=lambda: clock[0])
    texts = [f"text {i} " + "word " * (i % 250) for i in range(2560)]  # 128 s in 40 batches, 2 to 251 word pieces
    index._reuse_or_embed(texts, index._nothing, model, progress.embedded, model.count_tokens, progress.planned)
    checked = [(int(m.group(1)) / (128 - at), line) for at, line in said
               if (m := re.search(r"about (\d+) s left", line)) and 32 <= at <= 122]  # the last batch aside
    assert len(checked) >= 10 and all(0.7 <= ratio <= 1.3 for ratio, _ in checked), checked


class BatchSensitiveEmbedder(FakeEmbedder):
    """The fake embedder, each vector moved a little towards its batch's mean: as the int8 ONNX model's
    are (its activations quantised with one scale a batch: a chunk embedded beside others moved by up to
    0.04 in cosine, measured on three law reviews)."""

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        vectors = super().encode(texts, progress)
        moved = vectors + 0.1 * vectors.mean(axis=0)
        return moved / np.linalg.norm(moved, axis=1, keepdims=True)


def _parse_beside_the_other(file: Path, doc: str):
    """Parse, marking on disk that this document's reading began; the first one only once the second's has
    (this runs in the parse budget's child): a build that reads one document after the other gets an error."""
    (file.parent.parent / f"began-{doc}").touch()
    if doc == "harbours.txt":
        deadline = time.monotonic() + 20
        while not (file.parent.parent / "began-notes.md").exists():
            if time.monotonic() > deadline:
                raise QAError(f"{doc}: read alone")
            time.sleep(0.01)
    return parse_file(file, doc)


def test_two_documents_are_read_at_once(tmp_path, small_docs, fake_embedder) -> None:
    report = index.build(small_docs, tmp_path / "idx", fake_embedder, log=quiet, parse=_parse_beside_the_other)
    assert report.skipped == () and report.documents == 2


def test_reading_two_at_a_time_writes_the_index_reading_in_turn_writes(tmp_path, small_docs, monkeypatch) -> None:
    """Documents read two at a time in their children: the same files, byte for byte, as reading each in turn
    here (no budget); chunks in document order, each row the vector of its own text, a repeated text embedded once;
    the vectors those of all new texts embedded as one list, longest first (with a model whose vectors depend on
    their batch, as the int8 ONNX model's do)."""
    (small_docs / "again.txt").write_text("Pears ripen later, in September.\n\nA line of its own.\n", encoding="utf-8")
    monkeypatch.setattr(index, "EMBED_BATCH", 4)
    counting = CountingEmbedder()
    index.build(small_docs, tmp_path / "ahead", counting, log=quiet)
    index.build(small_docs, tmp_path / "sensitive", BatchSensitiveEmbedder(), log=quiet)
    monkeypatch.setenv("QA_PARSE_SECONDS", "0")
    monkeypatch.setenv("QA_PARSE_MEMORY_MB", "0")
    index.build(small_docs, tmp_path / "in-turn", FakeEmbedder(), log=quiet)
    for name in ("paragraphs.jsonl", "footnotes.jsonl", "chunks.jsonl", "vectors.npy"):
        assert (gen_dir(tmp_path / "ahead") / name).read_bytes() == (gen_dir(tmp_path / "in-turn") / name).read_bytes()
    loaded = index.load(tmp_path / "ahead")
    expected = []
    for path in index.document_files(small_docs):
        document = parse_file(path, path.name)
        expected += chunk_document(list(document.paragraphs), list(document.footnotes), FakeEmbedder().count_tokens, 40)
    assert [c.id for c in loaded.chunks] == [c.id for c in expected]
    texts = [c.text for c in loaded.chunks]
    assert np.array_equal(loaded.chunk_vectors(), FakeEmbedder().encode(texts))
    assert "Pears ripen later, in September." in texts[texts.index("Pears ripen later, in September.") + 1:]
    assert sorted(counting.encoded[:len(set(texts))]) == sorted(set(texts))  # each text once (then the words)
    one_list, _, _ = index._reuse_or_embed(texts, index._nothing, BatchSensitiveEmbedder())
    assert np.array_equal(index.load(tmp_path / "sensitive").chunk_vectors(), one_list)


def test_a_build_with_progress_prints_lines_when_not_on_a_terminal(small_docs: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(index, "PROGRESS_SECONDS", 0.0)  # every line, without waiting for the clock
    said: list[str] = []
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), progress=True, log=said.append)
    assert "reading harbours.txt (1 of 2 documents)" in said and any("passages embedded" in line for line in said)


def test_no_test_reads_or_writes_the_users_documents_or_index() -> None:
    """The user's docs_src/ and index/ change with every upload and build: tests use their own copies."""
    tests = Path(__file__).parent
    users = [re.compile(r"""["']docs_src\b"""), re.compile(r"""REPO\s*/\s*["']index\b""")]
    offending = [f"{path.name}:{n}" for path in sorted(tests.rglob("*.py")) if path.name != Path(__file__).name
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                 if any(pattern.search(line) for pattern in users)]
    assert offending == []


def test_a_build_never_writes_through_links_planted_in_the_index_folder(tmp_path, small_docs, fake_embedder) -> None:
    import os

    from qa import settings

    idx = tmp_path / "idx"
    index.build(small_docs, idx, fake_embedder, log=lambda line: None)
    victim = tmp_path / "victim"
    victim.write_text("keep me\n", encoding="utf-8")
    for name in (f".{index.MANIFEST}.tmp", f".{settings.FILE}.tmp-{os.getpid()}"):  # the old, predictable names
        (idx / name).symlink_to(victim)
    (small_docs / "more.txt").write_text("Ferries cross the bay twice a day.\n", encoding="utf-8")
    index.build(small_docs, idx, fake_embedder, log=lambda line: None)
    settings.write(idx, index.read_manifest(idx), settings.DEFAULT, {})
    assert victim.read_text(encoding="utf-8") == "keep me\n"
    assert not (idx / index.MANIFEST).is_symlink() and "more.txt" in index.read_manifest(idx)["documents"]
    (idx / index.LOCK).unlink()
    (idx / index.LOCK).symlink_to(victim)
    with pytest.raises(QAError, match="not a regular file"):
        index.build(small_docs, idx, fake_embedder, log=lambda line: None)
    assert victim.read_text(encoding="utf-8") == "keep me\n"


def test_a_link_the_build_cannot_follow_is_skipped_with_its_reason(tmp_path, small_docs, fake_embedder) -> None:
    # a target name over 255 bytes: stat fails (ENAMETOOLONG) even for root, as a link into a folder
    # the user cannot read does (EACCES)
    (small_docs / "locked.txt").symlink_to("x" * 300 + ".txt")
    report = index.build(small_docs, tmp_path / "idx", fake_embedder, log=lambda line: None)
    assert report.documents == 2
    assert dict(report.skipped)["locked.txt"] == "locked.txt: skipped: cannot be read (File name too long)"
    idx = index.open_index(tmp_path / "idx", fake_embedder, log=None)
    assert index.stale(idx.manifest, small_docs) == []


def _parse_while_saved(file: Path, doc: str):
    """Parse, and the first time (marked on disk: this runs in the parse budget's child) save the file anew."""
    document = parse_file(file, doc)
    saved = file.parent.parent / "saved"
    if doc == "notes.md" and not saved.exists():  # the user saves the file while the build reads it
        saved.touch()
        file.write_text("# Orchards\n\nPlums ripen in August.\n", encoding="utf-8")
        os.utime(file, ns=(file.stat().st_atime_ns, file.stat().st_mtime_ns + 10**9))
    return document


def test_a_document_saved_while_it_is_read_is_read_again(tmp_path, small_docs, fake_embedder) -> None:
    index.build(small_docs, tmp_path / "idx", fake_embedder, log=lambda line: None, parse=_parse_while_saved)
    idx = index.load(tmp_path / "idx")
    assert [p.text for p in idx.paragraphs if p.doc == "notes.md"] == ["Plums ripen in August."]
    assert index.stale(idx.manifest, small_docs) == []


def test_a_document_of_tiny_sentences_is_indexed_up_to_the_passage_limit(tmp_path, small_docs, fake_embedder,
                                                                          monkeypatch) -> None:
    monkeypatch.setenv("QA_DOC_PASSAGES", "500")
    (small_docs / "tiny.txt").write_text("Aa. " * 20_000 + "\n\nBb.\n", encoding="utf-8")  # 40,001 passages before
    said: list[str] = []
    report = index.build(small_docs, tmp_path / "idx", fake_embedder, log=said.append)
    idx = index.load(tmp_path / "idx")
    tiny = [c for c in idx.chunks if c.id.startswith("tiny.txt#")]
    assert len(tiny) == 500 and report.documents == 3
    (line,) = report.notices
    assert line.startswith("tiny.txt: indexed in part: ") and "500 passages" in line and line in said
    assert [p.doc for p in idx.paragraphs].count("tiny.txt") == 1  # "Bb." is past the limit: left out
    assert search(idx, fake_embedder, "When was the harbour of Vellmar opened?", 1).hits[0].paragraph.id \
        == "harbours.txt#p2"


def test_the_reader_child_cuts_a_document_to_the_limits_before_handing_it_over(tmp_path) -> None:
    from qa import budget
    from qa.records import Document, Footnote, Paragraph

    paragraphs = tuple(Paragraph(f"d#p{i}", "d", i, None, None, None, "x" * (2_000 if i == 0 else 5), "x")
                       for i in range(30))
    document = Document("d", None, paragraphs, (Footnote("d", 1, "n" * 3_000),))
    limits = budget.DocumentLimits(paragraphs=20, notes=20, chars=1_000, passages=20)
    cut, line = budget.cut(document, limits)
    assert len(cut.paragraphs) == 20 and len(cut.paragraphs[0].text) == 1_000 and len(cut.footnotes[0].text) == 1_000
    assert line == ("d: indexed in part: 30 paragraphs (the limit: 20), 2 paragraphs or notes of over 1,000 characters "
                    "(cut there); the rest is left out (QA_DOC_PASSAGES): split the file to index all of it")
    assert budget.cut(cut, limits)[1] is None


def test_hashing_a_pipe_in_a_documents_place_fails_at_once(tmp_path: Path) -> None:
    # the folder is listed (regular files only), then each file hashed: a pipe swapped in between blocked the
    # build (and the chat's upload check) forever, waiting for a writer
    import threading
    fifo = tmp_path / "swapped.txt"
    os.mkfifo(fifo)
    outcome: list[str] = []

    def hash_it() -> None:
        try:
            index.file_hash(fifo)
            outcome.append("hashed")
        except OSError as exc:
            outcome.append(exc.strerror or "")

    worker = threading.Thread(target=hash_it, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():  # the old code: still waiting; let it go before failing
        with open(fifo, "wb"):
            pass
    assert outcome == ["not a regular file"]
    with pytest.raises(index._Skipped, match=r"swapped\.txt: skipped: cannot be read \(not a regular file\)"):
        index._stat_and_hash(fifo, "swapped.txt")
