"""chat: uploads indexed in the background while questions are answered; size limit; a full disk;
the start-up with changed documents; leftovers of a stopped server."""

from __future__ import annotations

import errno
import re
import shutil
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_TXT, FakeEmbedder

from qa import budget, index
from qa.web import chat as chat_mod
from qa.web import ui
from qa.web.chat import Chat, Serialised


def quiet(line: str) -> None:
    pass


def long_doc(n: int = 60) -> str:
    rows = [f"Station {i} of the northern railway opened in {1850 + i} with {i + 2} platforms." for i in range(n)]
    return "Railway Stations\n\n" + "\n\n".join(rows) + "\n"


@pytest.fixture
def chat(small_docs: Path, tmp_path: Path) -> Chat:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    return Chat(small_docs, tmp_path / "idx", FakeEmbedder(), feedback=tmp_path / "fb.jsonl")


class GatedBuild(FakeEmbedder):
    """Questions encode at once; each batch of a build waits for a step to be allowed."""

    def __init__(self) -> None:
        self.in_batch = threading.Event()
        self.steps = threading.Semaphore(0)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if len(texts) > chat_mod.QUESTION_TEXTS:
            self.in_batch.set()
            assert self.steps.acquire(timeout=60)
        return super().encode(texts, progress)


def ask_during_build(chat: Chat, model: GatedBuild, question: str) -> list[str]:
    """Ask while a build's batch holds the model; let that batch finish: the question goes before the next."""
    answers: list[str] = []
    asker = threading.Thread(target=lambda: answers.append(chat.ask(question, 1).hits[0].paragraph.id))
    asker.start()
    serial = chat.embedder
    assert isinstance(serial, Serialised)
    for _ in range(6000):  # the question is waiting for the model
        if serial._questions == 1:
            break
        threading.Event().wait(0.01)
    model.steps.release()
    asker.join(60)
    return answers


def test_questions_are_answered_while_an_upload_is_indexed(small_docs: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "EMBED_BATCH", 40)
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    model = GatedBuild()
    chat = Chat(small_docs, tmp_path / "idx", model, feedback=tmp_path / "fb.jsonl")
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(150), encoding="utf-8")
    job = chat.submit([upload])
    try:
        assert model.in_batch.wait(60), "the build never started embedding"
        assert chat.progress() == "indexing stations.txt: 1 of 1 documents read · 0 of 151 passages embedded"
        answers = ask_during_build(chat, model, "When was the harbour of Vellmar opened?")
        assert answers == ["harbours.txt#p2"] and not job.done.is_set()
        assert re.match(r"indexing stations\.txt: 1 of 1 documents read · (0|40) of 151 passages embedded", chat.progress())
    finally:
        for _ in range(1000):
            model.steps.release()
    assert job.done.wait(60)
    assert job.lines == ["stations.txt: added, 151 passages, 0 footnotes; ask away"]
    assert chat.ask("Which station opened in 1877?", 1).hits[0].paragraph.doc == "stations.txt"
    assert chat.progress() == ""


def test_an_upload_is_read_once_and_a_second_under_a_taken_name_is_read_again(chat: Chat, tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader's child runs once an upload: the build takes the document the check read (it read each
    twice: ~0.07 s a PDF page). One saved under another name ("harbours-2.txt") is read again, as its records
    name the file."""
    read: list[str] = []
    started = budget._started

    def counting(path: Path, doc: str, *rest):
        read.append(doc)
        return started(path, doc, *rest)

    monkeypatch.setattr(budget, "_started", counting)
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(5), encoding="utf-8")
    assert chat.add_documents([upload]) == ["stations.txt: added, 6 passages, 0 footnotes; ask away"]
    assert read == ["stations.txt"]
    read.clear()
    other = tmp_path / "harbours.txt"
    other.write_text(SMALL_TXT.replace("Vellmar", "Ostmar"), encoding="utf-8")
    lines = chat.add_documents([other])
    assert lines[0].startswith("harbours.txt: added (saved as harbours-2.txt), ") and read == ["harbours.txt", "harbours-2.txt"]
    assert chat.ask("When was the harbour of Ostmar opened?", 1).hits[0].paragraph.id == "harbours-2.txt#p2"


def test_an_upload_over_the_size_limit_is_refused_saying_the_limit(chat: Chat, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chat_mod, "UPLOAD_MB", 0.001)
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(), encoding="utf-8")
    lines = chat.add_documents([upload])
    assert lines == ["stations.txt: 0 MB, over the chat's limit of 0.001 MB a file; split it, or put it in the "
                     "documents folder and run qa build"]
    assert not (chat.docs_dir / "stations.txt").exists()


def test_a_full_disk_while_copying_an_upload_leaves_nothing_behind(chat: Chat, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    before = sorted(p.name for p in chat.docs_dir.iterdir())
    generation = chat.index.manifest["generation"]

    def disk_full(src: str, dst: str) -> None:
        Path(dst).write_bytes(Path(src).read_bytes()[:100])  # half written, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", disk_full)
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(), encoding="utf-8")
    lines = chat.add_documents([upload])
    assert lines == ["stations.txt: not added: the disk is full (No space left on device); "
                     "free some space and upload it again"]
    assert sorted(p.name for p in chat.docs_dir.iterdir()) == before  # no .upload-* file left
    assert chat.index.manifest["generation"] == generation
    monkeypatch.undo()
    assert chat.add_documents([upload]) == ["stations.txt: added, 61 passages, 0 footnotes; ask away"]


# How a full disk shows while the index is written (measured on a 420k-600k tmpfs): an OSError with its
# errno (file writes), numpy's OSError with none (np.save), FAISS' RuntimeError (write_index).
FULL_DISK = {
    "errno": ("_fsync_dir", OSError(errno.ENOSPC, "No space left on device"), "No space left on device"),
    "numpy": ("np.save", OSError("19200 requested and 4064 written"), "19200 requested and 4064 written"),
    "faiss": ("vectors_mod.save", RuntimeError("Error in void faiss::write_index(const Index*, IOWriter*, int) at "
                                               "index_write.cpp:499: Error: 'ret == (size * 4)' failed: write error "
                                               "in idx/vectors.faiss"), "write error in idx/vectors.faiss")}


@pytest.mark.parametrize("how", sorted(FULL_DISK))
def test_a_full_disk_while_writing_the_index_keeps_the_old_one(chat: Chat, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    before = sorted(p.name for p in chat.docs_dir.iterdir())
    generation = chat.index.manifest["generation"]
    where, error, said = FULL_DISK[how]

    def disk_full(*args: object, **kwargs: object) -> None:
        raise error

    owner, name = where.split(".") if "." in where else ("index", where)
    monkeypatch.setattr({"index": index, "np": index.np, "vectors_mod": index.vectors_mod}[owner], name, disk_full)
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(), encoding="utf-8")
    (line,) = chat.add_documents([upload])
    assert line.startswith("stations.txt: not added: ") and f"could not write the index ({said}" in line
    assert sorted(p.name for p in chat.docs_dir.iterdir()) == before
    assert chat.index.manifest["generation"] == generation
    assert not [p for p in chat.index_dir.iterdir() if p.name.startswith(".tmp")]
    assert chat.ask("When was the harbour of Vellmar opened?", 1).hits[0].paragraph.id == "harbours.txt#p2"


def test_partial_uploads_of_a_stopped_server_are_removed_at_start(small_docs: Path, tmp_path: Path) -> None:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    (small_docs / ".upload-abc123").write_bytes(b"half a file")
    (small_docs / ".mine.txt").write_text("the user's hidden file\n", encoding="utf-8")
    Chat(small_docs, tmp_path / "idx", FakeEmbedder(), feedback=tmp_path / "fb.jsonl")
    assert not (small_docs / ".upload-abc123").exists() and (small_docs / ".mine.txt").is_file()


def test_the_chat_starts_on_the_old_index_and_updates_it_in_the_background(small_docs: Path, tmp_path: Path) -> None:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    (small_docs / "stations.txt").write_text(long_doc(), encoding="utf-8")
    model = GatedBuild()
    chat = ui.prepare(small_docs, tmp_path / "idx", embedder=model, feedback=tmp_path / "fb.jsonl")
    try:  # serving at once, from the index as it was, while the new document is embedded
        assert model.in_batch.wait(60)
        assert "stations.txt" not in chat.documents() and chat.progress().startswith("indexing your documents: ")
        assert ask_during_build(chat, model, "When was the harbour of Vellmar opened?") == ["harbours.txt#p2"]
    finally:
        for _ in range(1000):
            model.steps.release()
    assert chat.jobs[-1].done.wait(60)
    assert "stations.txt" in chat.documents()


def test_a_failing_update_at_start_keeps_the_old_index_serving(small_docs: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    (small_docs / "stations.txt").write_text(long_doc(), encoding="utf-8")

    def disk_full(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(index, "_fsync_dir", disk_full)
    chat = ui.prepare(small_docs, tmp_path / "idx", embedder=FakeEmbedder(), feedback=tmp_path / "fb.jsonl")
    assert chat.jobs[-1].done.wait(60)
    assert chat.ask("When was the harbour of Vellmar opened?", 1).hits[0].paragraph.id == "harbours.txt#p2"
    err = capsys.readouterr().err
    assert "qa: the index was not updated (documents changed: new stations.txt): " in err
    assert "No space left on device" in err and "Traceback" not in err


def test_with_its_own_question_encoder_a_question_never_waits_for_a_build_batch(
        small_docs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "EMBED_BATCH", 40)
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    model = GatedBuild()
    chat = Chat(small_docs, tmp_path / "idx", Serialised(model, questions=FakeEmbedder()), feedback=tmp_path / "fb.jsonl")
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(150), encoding="utf-8")
    job = chat.submit([upload])
    try:
        assert model.in_batch.wait(60)  # the build's batch holds the build's model and is not let go
        answers: list[str] = []
        asker = threading.Thread(target=lambda: answers.append(
            chat.ask("When was the harbour of Vellmar opened?", 1).hits[0].paragraph.id))
        asker.start()
        asker.join(30)
        assert answers == ["harbours.txt#p2"] and not job.done.is_set()
    finally:
        for _ in range(1000):
            model.steps.release()
    assert job.done.wait(60) and "stations.txt" in chat.documents()


def test_a_huge_question_to_search_is_refused_without_echoing_it(chat: Chat) -> None:
    reply = chat.search_json("harbour " * 125_000)  # 1 MB
    assert "too long" in reply["error"] and not reply["results"]
    assert len(reply["question"]) <= 2_001  # its head, not its megabyte


def test_feedback_is_never_written_through_a_link_or_into_a_pipe(chat: Chat, tmp_path: Path) -> None:
    import os

    from qa.errors import InputError

    bashrc = tmp_path / "bashrc"
    bashrc.write_text("export PATH=/usr/bin\n", encoding="utf-8")
    chat.feedback_path.symlink_to(bashrc)
    with pytest.raises(InputError, match="feedback not saved"):
        chat.record_feedback("When was the harbour opened?", "harbours.txt#p2")
    assert bashrc.read_text(encoding="utf-8") == "export PATH=/usr/bin\n"
    chat.feedback_path.unlink()
    os.mkfifo(chat.feedback_path)
    said: list[str] = []
    asking = threading.Thread(target=lambda: said.append(
        chat.feedback_json("When was the harbour opened?", "harbours.txt#p2")), daemon=True)
    asking.start()
    asking.join(timeout=30)
    assert said and said[0].startswith("error: ") and "feedback not saved" in said[0]  # old code: still waiting


def test_many_uploads_list_the_documents_folder_once(chat: Chat, tmp_path: Path, monkeypatch) -> None:
    listed: list[Path] = []
    real = index.document_files

    def counting(docs_dir: Path) -> list[Path]:
        listed.append(docs_dir)
        return real(docs_dir)

    uploads = tmp_path / "uploads"
    uploads.mkdir()
    files = []
    for n in range(20):
        files.append(uploads / f"doc{n}.txt")
        files[-1].write_text(SMALL_TXT if n == 0 else f"Document {n} is about ferry number {n}.\n", encoding="utf-8")
    monkeypatch.setattr(index, "document_files", counting)
    with chat._build_lock:  # the indexing job waits: only the checks made at once are counted
        job = chat.submit(files)
        assert len(listed) == 1
    job.done.wait(60)
    assert job.lines[0] == "doc0.txt: already in your documents as harbours.txt"


def test_the_document_list_says_1_passage(small_docs: Path, tmp_path: Path) -> None:
    (small_docs / "one.txt").write_text("Only one paragraph here.\n", encoding="utf-8")
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=quiet)
    listed = ui.documents_html(Chat(small_docs, tmp_path / "idx", FakeEmbedder()))
    assert "1 passage ·" in listed and "0 footnotes" in listed and "1 passages" not in listed


def test_a_documents_folder_renamed_while_the_chat_runs_is_said_in_the_chat(chat: Chat, tmp_path: Path) -> None:
    upload = tmp_path / "stations.txt"
    upload.write_text(long_doc(), encoding="utf-8")
    chat.docs_dir.rename(tmp_path / "renamed")
    (line,) = chat.add_documents([upload])
    assert "the documents folder is gone" in line and str(chat.docs_dir) in line
    assert not chat.docs_dir.exists()  # not made again, empty: the next build would drop every document
    (line,) = chat.remove("harbours.txt").lines
    assert "the documents folder is gone" in line
    assert chat.ask("When was the harbour of Vellmar opened?", 1).hits[0].paragraph.id == "harbours.txt#p2"


def test_uploaded_temporaries_are_deleted_once_handled(chat: Chat, tmp_path: Path) -> None:
    good, refused = tmp_path / "stations.txt", tmp_path / "tool.exe"
    good.write_text(long_doc(), encoding="utf-8")
    refused.write_bytes(b"MZ")
    job = chat.submit([good, refused], discard=True)
    assert job.done.wait(60)
    assert not good.exists() and not refused.exists()
    assert any(line.startswith("stations.txt: added") for line in job.lines)


def test_feedback_errors_never_echo_unbounded_input_and_a_huge_feedback_file_is_refused(chat: Chat) -> None:
    from qa import questions
    from qa.errors import InputError

    with pytest.raises(InputError) as raised:
        chat.record_feedback("When was the harbour opened?", "x" * 1_000_000)
    assert len(str(raised.value)) < 400
    with open(chat.feedback_path, "wb") as f:  # sparse: no disk spent
        f.truncate(questions.MAX_FILE_BYTES + 1)
    with pytest.raises(InputError, match=r"feedback not saved \(over 64 MB"):
        chat.record_feedback("When was the harbour opened?", "harbours.txt#p2")


def test_one_upload_adds_at_most_the_chats_passage_limit(chat: Chat, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(chat_mod, "UPLOAD_PASSAGES", 300)
    files = []
    for n in range(3):  # over 200 passages each (100 one-word sentences: each alone, each pair, windows)
        files.append(tmp_path / f"tiny{n}.txt")
        files[-1].write_text(f"Word{n}. " * 100 + "\n", encoding="utf-8")
    lines = chat.add_documents(files)
    assert lines[0].startswith("tiny0.txt: added")
    assert lines[1].startswith("tiny1.txt: added") and "passages this update had left" in lines[2]
    assert lines[3].startswith("tiny2.txt: not added: ") and "QA_UPLOAD_PASSAGES" in lines[3]
    assert not (chat.docs_dir / "tiny2.txt").exists()
    assert sum(c.id.startswith("tiny") for c in chat.index.chunks) == 300
