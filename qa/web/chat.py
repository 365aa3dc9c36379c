"""What the web chat serves, without Gradio: ``Chat`` holds the loaded index and embedder,
the documents folder and the feedback file; it answers questions (through ``search``, shown by
``render``), adds uploaded documents to the index, and records which passage answered a question.

Uploads are indexed in the background, one job at a time, while questions go on being
answered from the index as it was: the model is shared batch by batch (``Serialised``
lets a waiting question in before the build's next batch), and the new index replaces
the old one when it is complete. A job that fails (a full disk, an unreadable file)
leaves nothing behind and the old index answering.

``qa.web.ui`` lays it out as a Gradio app.
"""

import contextlib
import errno
import itertools
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from qa import budget, library, output, questions
from qa import index as index_mod
from qa.embed import TextEmbedder
from qa.errors import DocumentError, InputError, QAError, one_line
from qa.parse import KINDS, SUPPORTED
from qa.records import Answer, Document, Paragraph
from qa.search import check_k, clean_question, search, shown, shown_question
from qa.web import render

DEFAULT_K = 5
UPLOAD_TYPES = SUPPORTED  # every type qa build reads
UPLOAD_MB = float(os.environ.get("QA_UPLOAD_MB") or 25)  # per file: larger ones go in docs_src/ + qa build
# Passages one update of the index in the chat may add (an upload of many files, the refresh at start): each
# costs the chat's own memory while it is indexed (1 MB of one-word sentences, 50,000 passages: 1.2 GB peak).
UPLOAD_PASSAGES = int(os.environ.get("QA_UPLOAD_PASSAGES") or 100_000)
MAX_FEEDBACK = int(os.environ.get("QA_FEEDBACK_MAX") or 10_000)  # rows: the file never grows without bound
REMOVED = ".removed"  # where removed documents go, inside the documents folder (hidden: never indexed)
QUESTION_TEXTS = 32  # a question encodes at most this many texts (itself and a few words); builds more
_GENERIC_SECTIONS = {"summary", "abstract", "introduction", "conclusion", "conclusions", "notes",
                     "references", "bibliography", "contents", "acknowledgements"}


class Serialised:
    """The chat's model (a ``TextEmbedder``), shared by questions and builds. A Hugging Face fast
    tokenizer must not be used from two threads at once ("Already borrowed"), so calls on one model
    run one at a time. With ``questions`` (a torch-free ``QueryEncoder``: its own tokenizer and ONNX
    session) questions never wait for a build at all; without it, questions go first: a build's next
    batch waits (at most ``YIELD_SECONDS``) while a question is waiting."""

    YIELD_SECONDS = 0.5

    def __init__(self, embedder: TextEmbedder, questions: TextEmbedder | None = None) -> None:
        self.model, self.questions = embedder, questions
        self.name, self.dimension, self.max_tokens = embedder.name, embedder.dimension, embedder.max_tokens
        self.fingerprint = embedder.fingerprint
        self._lock = threading.Lock()
        self._question_lock = threading.Lock() if questions is not None else self._lock
        self._turn = threading.Condition()
        self._questions = 0

    def _question(self) -> Any:
        return _Question(self)

    def _batch(self) -> threading.Lock:
        with self._turn:
            self._turn.wait_for(lambda: self._questions == 0, timeout=self.YIELD_SECONDS)
        return self._lock

    def count_tokens(self, text: str) -> int:
        """Return the model's count of word pieces (a build's turn)."""
        with self._batch():
            return self.model.count_tokens(text)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return the vectors of a question and its words (a question's turn: before any waiting batch)."""
        if len(texts) > QUESTION_TEXTS:
            return self.encode_passages(texts)
        with self._question():
            return (self.questions or self.model).encode_queries(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return the vectors of a build's batch of passages (through the build's model, a build's turn)."""
        with self._batch():
            return self.model.encode_passages(texts, progress)

    def encode_words(self, words: list[str]) -> np.ndarray:
        """Return single words' vectors (a question's turn)."""
        with self._question():
            return (self.questions or self.model).encode_words(words)

    def build_word_table(self) -> int:
        """Return how many words the model's word table embedded now (a build's turn)."""
        with self._batch():
            return self.model.build_word_table()


class _Question:
    """Hold the model for a question, counted as waiting from the moment it asks."""

    def __init__(self, owner: Serialised) -> None:
        self.owner = owner

    def __enter__(self) -> None:
        with self.owner._turn:
            self.owner._questions += 1
        self.owner._question_lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.owner._question_lock.release()
        with self.owner._turn:
            self.owner._questions -= 1
            self.owner._turn.notify_all()


@dataclass
class Job:
    """One background indexing job: what it says while running, its result lines, and when it is done."""

    status: str = "waiting for the previous upload to be indexed"
    lines: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    discard: list[Path] = field(default_factory=list)  # uploaded temporaries, deleted when the job is done

    def finish(self) -> None:
        """Mark the job done, its uploaded temporaries deleted first."""
        for path in self.discard:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        self.status = "done"
        self.done.set()


def default_feedback_path(index_dir: Path) -> Path:
    """Return $QA_FEEDBACK, else feedback/questions.jsonl next to the index folder."""
    env = os.environ.get("QA_FEEDBACK")
    return Path(env) if env else Path(index_dir).resolve().parent / "feedback" / "questions.jsonl"


class Chat:
    """What the web chat serves: a loaded index and embedder, the documents folder, the feedback file."""

    def __init__(self, docs_dir: Path, index_dir: Path, embedder: TextEmbedder, feedback: Path | None = None) -> None:
        self.docs_dir, self.index_dir = Path(docs_dir), Path(index_dir)
        self.embedder = embedder if isinstance(embedder, Serialised) else Serialised(embedder)
        self.feedback_path = Path(feedback) if feedback else default_feedback_path(self.index_dir)
        self.index = index_mod.open_index(self.index_dir, self.embedder, log=None)  # prepare() handles staleness
        self._build_lock = threading.Lock()
        self._feedback_lock = threading.Lock()
        self._ids = itertools.count(1)
        self.jobs: list[Job] = []
        _remove_partial_uploads(self.docs_dir)

    # --- asking ---------------------------------------------------------------

    def ask(self, question: object, k: object = DEFAULT_K, docs: list[str] | None = None) -> Answer:
        """Return the answer to a question, limited to ``docs`` when given (raises InputError)."""
        idx = self.index  # one snapshot: an upload may swap self.index meanwhile
        return search(idx, self.embedder, clean_question(question), check_k(k), docs=frozenset(docs) if docs else None)

    def reply(self, question: object, k: object = DEFAULT_K,
              docs: list[str] | None = None) -> tuple[list[str], Answer | None]:
        """Return the chat reply as HTML blocks (one per passage) and the answer they show (None: an error)."""
        try:
            answer = self.ask(question, k, docs)
        except QAError as exc:
            return [render.error_html(str(exc))], None
        except Exception as exc:  # never a traceback in the chat; the console gets it
            traceback.print_exc(file=sys.stderr)
            return [render.error_html(f"internal error ({type(exc).__name__}); the server console has details")], None
        # what the page shows and keeps (the conversation in the browser's storage): each passage within bounds
        answer = replace(answer, hits=tuple(render.shown_part(h) for h in answer.hits))
        uid = f"qa{next(self._ids)}"
        return render.answer_blocks(answer, uid, self.file_url, self.source, self.label), answer

    def search_json(self, question: object, k: object = DEFAULT_K) -> dict[str, Any]:
        """Return the ``qa search --json`` object, or the same shape with an "error" line."""
        try:
            return output.answer_to_json(self.ask(question, k))
        except QAError as exc:
            error = str(exc)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            error = f"internal error ({type(exc).__name__}); the server console has details"
        return {"question": shown_question(question), "error": error, "results": [], "abstained": True}

    # --- documents ------------------------------------------------------------

    def documents(self) -> dict[str, dict[str, Any]]:
        """Return the indexed documents with their counts, from the manifest."""
        return dict(self.index.manifest.get("documents", {}))

    def _indexed(self, doc: str) -> bool:
        return doc in self.index.manifest.get("documents", {})

    def source(self, doc: str) -> str:
        """Return how a document is cited in "Copy with citation": title, authors, year; else its file name."""
        return library.citation(doc, self.index.manifest.get("documents", {}).get(doc, {}))

    def label(self, doc: str) -> str:
        """Return how a document is named over its passages: its title, else its file name."""
        return library.label(doc, self.index.manifest.get("documents", {}).get(doc, {}))

    def file_url(self, paragraph: Paragraph) -> str | None:
        """Return the chat's link to a passage's original file (PDFs at the page)."""
        return render.file_href(paragraph.doc, paragraph.page) if self._indexed(paragraph.doc) else None

    def document_file(self, doc: str) -> Path | None:
        """Return the file of an indexed document, or None: only indexed files inside the docs folder."""
        if not self._indexed(doc):
            return None
        root = self.docs_dir.resolve()
        path = (root / doc).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.suffix.lower() not in UPLOAD_TYPES:
            return None
        return path

    def add_documents(self, files: list[Path]) -> list[str]:
        """Copy uploaded files into the docs folder, update the index, reload it; return one line per file
        (waits for the background job: ``submit`` does not)."""
        job = self.submit(files)
        job.done.wait()
        return job.lines

    def submit(self, files: list[Path], discard: bool = False) -> Job:
        """Check uploaded files now (type, size, already there), then index them in the background; return the job.
        ``discard``: the files are the web server's temporaries, deleted once handled (refused ones at once)."""
        job = Job()
        if discard:
            job.discard = [Path(f) for f in files or []]
        staged: list[tuple[Path, str, str]] = []  # (upload, original name, doc name)
        known = _Known(self.docs_dir)  # the folder is listed once for all the files, not once per file
        if not self.docs_dir.is_dir():  # renamed or removed while the chat runs: never made again, empty
            job.lines, files = [self.folder_gone()], []
        for f in files or []:
            upload = Path(f)
            name = upload.name
            try:
                doc = safe_filename(name)
                size = upload.stat().st_size
                if size > UPLOAD_MB * 2**20:
                    raise InputError(f"{name}: {size / 2**20:.0f} MB, over the chat's limit of {UPLOAD_MB:g} MB "
                                     "a file; split it, or put it in the documents folder and run qa build")
                same = known.same_as(upload, size)
            except (QAError, OSError) as exc:
                job.lines.append(str(exc) if isinstance(exc, QAError) else f"{name}: not received ({exc.strerror})")
                continue
            if same is not None:
                job.lines.append(f"{name}: already in your documents as {same.relative_to(self.docs_dir).as_posix()}")
                continue
            staged.append((upload, name, doc))
        if not staged:
            job.lines = job.lines or [f"no file received; choose {KINDS} files"]
            job.finish()
            return job
        self.jobs = [j for j in self.jobs if not j.done.is_set()] + [job]
        threading.Thread(target=self._run_job, args=(job, staged), name="qa-indexing", daemon=True).start()
        return job

    def folder_gone(self) -> str:
        """Return the one line said when the documents folder is no longer there."""
        return (f"{self.docs_dir}: the documents folder is gone (renamed or removed while the chat runs); "
                "put it back, or restart qa serve with --docs FOLDER; the index keeps answering as it was")

    def refresh(self, reason: str) -> Job:
        """Bring the index up to date with the documents folder in the background; return the job."""
        job = Job()
        self.jobs = [j for j in self.jobs if not j.done.is_set()] + [job]
        threading.Thread(target=self._run_job, args=(job, [], reason), name="qa-indexing", daemon=True).start()
        return job

    def remove(self, doc: object) -> Job:
        """Take an indexed document out of the library in the background: its file is moved (never deleted) to
        the documents folder's hidden ``.removed/`` and the index rebuilt without it; return the job."""
        job = Job()
        name = doc if isinstance(doc, str) else ""
        path = self.document_file(name) if name else None
        if path is None:
            job.lines = [self.folder_gone() if not self.docs_dir.is_dir() else
                         f"{name[:200] or 'no document'}: not in your documents; choose one from the list"]
            job.finish()
            return job
        self.jobs = [j for j in self.jobs if not j.done.is_set()] + [job]
        threading.Thread(target=self._run_removal, args=(job, name, path), name="qa-indexing", daemon=True).start()
        return job

    def _run_removal(self, job: Job, doc: str, path: Path) -> None:
        """Move a document's file aside, rebuild, swap the index; on any failure move it back, old index kept."""
        with self._build_lock:
            moved: Path | None = None
            try:
                job.status = f"removing {doc}"
                aside = self.docs_dir / REMOVED / doc
                aside.parent.mkdir(parents=True, exist_ok=True)
                moved = _claim_free(path, aside)

                def status(line: str) -> None:
                    job.status = f"removing {doc}: {line}"

                index_mod.build(self.docs_dir, self.index_dir, self.embedder, log=_console, status=status)
                self.index = index_mod.open_index(self.index_dir, self.embedder, log=None)
            except Exception as exc:
                if moved is not None and not path.exists():
                    os.replace(moved, path)
                if not isinstance(exc, QAError):
                    traceback.print_exc(file=sys.stderr)
                why = str(exc) if isinstance(exc, QAError) else f"internal error ({type(exc).__name__}); see the console"
                job.lines.append(f"{doc}: not removed: {why}")
            else:
                kept = moved.relative_to(self.docs_dir).as_posix() if moved else ""
                job.lines.append(f"{doc}: removed from your documents; the file is kept as "
                                 f"{self.docs_dir.name}/{kept} (move it back to add it again)")
            finally:
                job.finish()

    def progress(self) -> str:
        """Return what the background indexing is doing now ("" when idle)."""
        running = [j for j in self.jobs if not j.done.is_set()]
        return running[0].status if running else ""

    def _run_job(self, job: Job, staged: list[tuple[Path, str, str]], reason: str = "") -> None:
        """Index staged uploads (or refresh): read each within the parse budget (a few at once, in their
        children), copy the readable ones in, build (taking them as read: each file is read once), swap the
        index; on any failure take the copies back out and keep the old index."""
        with self._build_lock:
            added: list[tuple[str, Path]] = []
            read_already: dict[str, tuple[str, Document, str | None]] = {}
            copying = ""
            readings = budget.read_ahead(staged, lambda s: (*s, budget.start_reading(s[0], s[2])), lambda r: r[3])
            try:
                for n, (upload, name, doc, reading) in enumerate(readings, 1):
                    job.status = f"reading {name} ({n} of {len(staged)} files)"
                    try:
                        document, cut = _checked(reading, upload, name)
                    except QAError as exc:
                        job.lines.append(str(exc))
                        continue
                    copying = name
                    path = self._copy_in(upload, doc)
                    added.append((name, path))
                    copying = ""
                    if path.name == doc:  # under another name ("-2"), its records would name the wrong file: read again
                        read_already[doc] = (index_mod.file_hash(path), document, cut)
                if staged and not added:
                    return
                names = added[0][0] if len(added) == 1 else f"{len(added)} files" if added else "your documents"

                def status(line: str) -> None:
                    job.status = f"indexing {names}: {line}"

                report = index_mod.build(self.docs_dir, self.index_dir, self.embedder, log=_console, status=status,
                                         new_passages=UPLOAD_PASSAGES, read_already=read_already)
                job.status = f"indexing {names}: loading the new index"
                self.index = index_mod.open_index(self.index_dir, self.embedder, log=None)
            except Exception as exc:
                for _, path in added:
                    path.unlink(missing_ok=True)
                if isinstance(exc, QAError):
                    why = str(exc)
                elif isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    why = f"the disk is full ({exc.strerror}); free some space and upload it again"
                else:
                    traceback.print_exc(file=sys.stderr)
                    why = f"internal error ({type(exc).__name__}); the server console has details"
                failed = [name for name, _ in added] + ([copying] if copying else [])
                job.lines += [f"{name}: not added: {why}" for name in failed] if failed else \
                    [f"the index was not updated ({reason}): {why}"]
                if not staged:
                    print(f"qa: {job.lines[-1]}", file=sys.stderr, flush=True)
            else:
                self._report(job, report, added, reason if not staged else "")
            finally:
                readings.close()  # a job that failed while others were being read: their readers stopped
                job.finish()

    def _report(self, job: Job, report: index_mod.BuildReport, added: list[tuple[str, Path]], refresh: str) -> None:
        """Add a finished job's lines: each upload added (with its counts) or taken back out (with why)."""
        skipped = dict(report.skipped)
        counts = self.documents()
        for name, path in added:
            doc = path.relative_to(self.docs_dir).as_posix()
            if doc in skipped:  # unreadable after all: take it back out
                path.unlink(missing_ok=True)
                job.lines.append(f"{name}: not added: {skipped[doc].replace(str(path), doc)}")
            elif doc in counts:
                c = counts[doc]
                renamed = f" (saved as {doc})" if doc != name else ""
                job.lines.append(f"{name}: added{renamed}, {plural(c['paragraphs'], 'passage')}, "
                                 f"{plural(c['footnotes'], 'footnote')}; ask away")
                job.lines += [line for line in report.notices if line.startswith(f"{doc}: ")]  # indexed in part
        if refresh:
            print(f"qa: index updated ({refresh}): {plural(report.documents, 'document')}, "
                  f"{plural(report.paragraphs, 'passage')}", file=sys.stderr, flush=True)

    def _copy_in(self, upload: Path, doc: str) -> Path:
        """Copy an upload into the docs folder under a free name (a hidden temp name first, then renamed)."""
        if not self.docs_dir.is_dir():
            raise DocumentError(self.folder_gone())
        fd, tmp = tempfile.mkstemp(prefix=UPLOAD_PREFIX, dir=self.docs_dir)
        os.close(fd)
        try:
            shutil.copyfile(upload, tmp)
        except BaseException:  # a full disk: no partial file left behind
            Path(tmp).unlink(missing_ok=True)
            raise
        return _claim_free(Path(tmp), self.docs_dir / doc)

    # --- feedback -------------------------------------------------------------

    def record_feedback(self, question: object, passage_id: str) -> tuple[dict[str, Any], bool]:
        """Append "this passage answers this question" to the feedback file; return (row, is_new)."""
        question = clean_question(question)
        row_no = self.index.by_id.get(passage_id)
        if row_no is None:
            raise InputError(f"passage_id: unknown passage '{shown(passage_id)}'")
        paragraph = self.index.paragraphs[row_no]
        try:
            return self._append_feedback(question, passage_id, paragraph)
        except OSError as exc:  # a link, a pipe or a device in its place: refused, never followed or waited on
            raise InputError(f"{self.feedback_path}: feedback not saved ({exc.strerror or type(exc).__name__}); "
                             "its place: qa serve --feedback FILE") from None

    def _append_feedback(self, question: str, passage_id: str, paragraph: Paragraph) -> tuple[dict[str, Any], bool]:
        with self._feedback_lock:
            rows = questions.read_rows(self.feedback_path)
            if len(rows) >= MAX_FEEDBACK:
                raise InputError(f"the feedback file is full ({MAX_FEEDBACK:,} questions); move it aside to start "
                                 "a new one (its place: qa serve --feedback)")
            for row in rows:
                if row.get("question") == question and row.get("passage_id") == passage_id:
                    return row, False
            row = questions.feedback_row(len(rows) + 1, question, passage_id, paragraph.text)
            questions.append_row(self.feedback_path, row)
        return row, True

    def feedback_json(self, question: object, passage_id: object, helpful: object = True) -> str:
        """The /feedback endpoint: record a helpful passage; a 👎 alone records nothing."""
        if helpful is not True:
            return "noted; give the passage that does answer the question a 👍 to save it"
        try:
            row, new = self.record_feedback(question, str(passage_id))
        except QAError as exc:
            return f"error: {exc}"
        return f"saved as {row['id']} in the feedback file" if new else f"already saved as {row['id']}"

    def example_questions(self, n: int = 3) -> list[str]:
        """Return a few questions built from section titles, for the empty chat."""
        seen: list[str] = []
        for p in self.index.paragraphs:
            title = (p.section or "").strip()
            if title and title.lower() not in _GENERIC_SECTIONS and title not in seen and len(title) <= 80:
                seen.append(title)
        return [f"What do the documents say about “{t}”?" for t in seen[:n]]


UPLOAD_PREFIX = ".upload-"


class _Known:
    """The documents folder's files by size, listed once (lazily); each file hashed at most once."""

    def __init__(self, docs_dir: Path) -> None:
        self.docs_dir = docs_dir
        self._by_size: dict[int, list[Path]] | None = None
        self._hashes: dict[Path, str | None] = {}

    def same_as(self, upload: Path, size: int) -> Path | None:
        """Return the folder's file with the bytes of ``upload`` (of ``size`` bytes), or None."""
        if self._by_size is None:
            self._by_size = {}
            for path in index_mod.document_files(self.docs_dir):
                try:
                    self._by_size.setdefault(path.stat().st_size, []).append(path)
                except OSError:  # a link that cannot be followed: not the same as anything
                    continue
        candidates = self._by_size.get(size, [])
        if not candidates:
            return None
        digest = index_mod.file_hash(upload)
        return next((p for p in candidates if self._hash(p) == digest), None)

    def _hash(self, path: Path) -> str | None:
        if path not in self._hashes:
            try:
                self._hashes[path] = index_mod.file_hash(path)
            except OSError:
                self._hashes[path] = None
        return self._hashes[path]


def _remove_partial_uploads(docs_dir: Path) -> None:
    """Remove upload copies a stopped server left half-written (hidden ``.upload-*`` files: only ours)."""
    if docs_dir.is_dir():
        for leftover in docs_dir.glob(f"{UPLOAD_PREFIX}*"):
            if leftover.is_file() and not leftover.is_symlink():
                leftover.unlink(missing_ok=True)


def _claim_free(path: Path, dest: Path) -> Path:
    """Move ``path`` to ``dest`` (or ``dest-2``… when taken: nothing is overwritten); return where it went."""
    stem, suffix = os.path.splitext(dest.name)
    for n in itertools.count(1):
        target = dest.with_name(dest.name if n == 1 else f"{stem}-{n}{suffix}")
        try:
            _claim(path, target)
        except FileExistsError:
            continue
        return target
    raise AssertionError("unreachable")


def _console(line: str) -> None:
    print(one_line(f"qa: {line}"), file=sys.stderr, flush=True)


def plural(n: int, word: str) -> str:
    """Return "1 passage", "2 passages"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _claim(tmp: Path, dest: Path) -> None:
    """Give ``tmp`` the name ``dest`` unless that name exists (then FileExistsError): never overwrites."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:  # no hard links here: reserve the name exclusively, then move onto it
        os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(tmp, dest)
        return
    os.unlink(tmp)


def safe_filename(name: str) -> str:
    """Return a plain file name for an upload (no folders, no leading dot), or raise InputError."""
    base = unicodedata.normalize("NFKC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, ext = base.rpartition(".")
    suffix = dot + ext if dot else ""
    if suffix.lower() not in UPLOAD_TYPES:
        raise InputError(f"{base or 'file'}: unsupported file type '{suffix}'; upload {KINDS}")
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-_")[:80] or "document"
    return stem + suffix.lower()


def _checked(reading: budget.Reading, upload: Path, name: str) -> tuple[Document, str | None]:
    """Return an upload's document (and its cut line), read before it goes near the docs folder: a bad file
    changes nothing (InputError naming the file as uploaded)."""
    try:
        return reading.result()
    except QAError as exc:
        raise InputError(str(exc).replace(str(upload), name)) from None
    except Exception as exc:  # a reader library's own error on a corrupt file
        raise InputError(f"{name}: could not read the file ({type(exc).__name__}); is it damaged?") from None
