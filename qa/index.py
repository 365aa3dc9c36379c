"""Index stage: build, save, load and check the on-disk index.

An index is a folder of plain files::

    index/manifest.json          format version, model, dimension, documents (hashes), counts
    index/gen-<id>/paragraphs.jsonl  footnotes.jsonl  chunks.jsonl
    index/gen-<id>/vectors.npy   vectors.faiss   bm25/

The vectors are searched through a ``store.VectorStore``: the FAISS file of the generation
(the default), or a Milvus collection the manifest names (``qa build --store milvus:…``).

Each build writes a new ``gen-*`` folder (marked as the index's own by a marker file)
and then swaps ``manifest.json`` with an atomic rename, so a crash or ``kill -9``
mid-build leaves the previous index loading and answering; clean-up removes only
marked folders. Builds of one index take turns (a lock file). A rebuild re-parses
only documents whose hash changed and re-embeds only chunks whose text hash is new:
a vector is reused only when the hash stored beside its row matches, and a damaged
last build is ignored (rebuilt from scratch, said in one line). Documents are read
in their children (``qa.budget``), two at a time; then all new texts are embedded as one
list, longest first. ``Index`` is the loaded state that ``search`` reads.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qa import budget, files, indexfiles, lexical
from qa import chunk as chunking
from qa import settings as settings_mod
from qa import store as store_mod
from qa import vectors as vectors_mod
from qa.embed import TextEmbedder, model_name, pinned
from qa.errors import DocumentError, IndexLoadError, QAError, one_line
from qa.parse import KINDS, SUPPORTED, parse_file
from qa.parse import VERSION as PARSE_VERSION
from qa.records import (
    Chunk,
    Document,
    Footnote,
    Marker,
    Paragraph,
    chunk_from_dict,
    footnote_from_dict,
    paragraph_from_dict,
    to_dict,
)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MARKER = ".qa-generation"  # in every folder a build writes: clean-up never touches any other folder
VECTOR_HASHES = "vectors.sha256"  # one text hash per row of vectors.npy: what that row is the vector of
LOCK = ".build.lock"
PENDING = "store-pending.json"  # the documents a build is changing in a Milvus collection, until its manifest is written
EMBED_BATCH = 64  # texts per call to the model: a question waits at most one batch (see qa.web.chat.Serialised)
# Single words a call: a question waits about as long as for 64 passages, and a word costs half of what it
# does 64 at a time (the vocabulary's 6,294 new words of two law reviews, 3,928 of them not in the model's word
# table, OpenVINO: 2.4-2.7 s → 1.3-1.4 s).
WORD_BATCH = 512
PROGRESS_SECONDS = 10.0
# Documents are re-read when it changes (and an index of another pipeline is stale).
PIPELINE = f"parse-{PARSE_VERSION}/chunk-{chunking.VERSION}/lexical-{lexical.VERSION}"


@dataclass(frozen=True)
class BuildReport:
    """What a build did: documents indexed, reused, skipped (with reasons), counts, time."""

    documents: int
    parsed: int
    reused: int
    embedded: int
    chunks: int
    paragraphs: int
    footnotes: int
    seconds: float
    skipped: tuple[tuple[str, str], ...] = ()
    word_pieces: int = 0  # word pieces that went through the model (the passages', not the vocabulary's)
    notices: tuple[str, ...] = ()  # documents indexed in part, one line each (a document limit)


@dataclass
class Index:
    """A loaded index: paragraphs, footnotes, chunks, the vector store and BM25."""

    path: Path
    manifest: dict[str, Any]
    paragraphs: list[Paragraph]
    notes: dict[str, dict[Marker, Footnote]]
    chunks: list[Chunk]
    chunk_paragraph: np.ndarray  # chunk row → paragraph row
    store: Any  # a store.VectorStore, or None when loaded without search
    bm25: Any
    by_id: dict[str, int] = field(default_factory=dict)
    vocab: list[str] = field(default_factory=list)
    vocab_vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    vocab_rows: dict[str, int] = field(default_factory=dict)  # word → row of vocab_vectors
    # What search uses: settings.json when tuned for this model, else the model's defaults (qa/settings.py).
    settings: settings_mod.Settings = settings_mod.DEFAULT
    settings_source: str = "defaults"
    settings_notice: str | None = None  # why settings.json was not used, when it exists

    @functools.cached_property
    def paragraph_docs(self) -> np.ndarray:
        """Return each paragraph's document name as an array (for filtering by document)."""
        return np.array([p.doc for p in self.paragraphs], dtype=object)

    @functools.cached_property
    def chunk_rows(self) -> dict[str, int]:
        """Return each chunk id's row (the store answers with ids)."""
        return {c.id: row for row, c in enumerate(self.chunks)}

    @functools.cached_property
    def chunk_is_note(self) -> np.ndarray:
        """Return, per chunk row, whether it is a cited footnote's text (a "note" chunk)."""
        return np.array([c.kind == "note" for c in self.chunks], dtype=bool)

    def chunk_vectors(self) -> np.ndarray:
        """Return the vectors of the chunks, one row per chunk in order (read from disk, memory-mapped)."""
        return indexfiles.read_npy(self.path / str(self.manifest["generation"]) / "vectors.npy", "f", 2, mmap=True)

    @property
    def model(self) -> str:
        """Return the name of the model the index was built with."""
        return str(self.manifest["model"])


def document_files(docs_dir: Path) -> list[Path]:
    """Return the supported document files under ``docs_dir``, sorted; hidden ones and links
    to files outside the folder are skipped (``outside_links`` lists those)."""
    root = _docs_root(docs_dir)
    return [p for p in _candidates(docs_dir) if p.resolve().is_relative_to(root)]


def outside_links(docs_dir: Path) -> list[Path]:
    """Return the documents folder's links (or linked folders) to files outside it: never read or served."""
    root = _docs_root(docs_dir)
    return [p for p in _candidates(docs_dir) if not p.resolve().is_relative_to(root)]


def _docs_root(docs_dir: Path) -> Path:
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        raise DocumentError(f"{docs_dir}: documents folder not found; create it and put {KINDS} files in it")
    return docs_dir.resolve()


def _candidates(docs_dir: Path) -> list[Path]:
    docs_dir = Path(docs_dir)
    found = [p for p in docs_dir.rglob("*")
             if p.suffix.lower() in SUPPORTED and _maybe_file(p)
             and not any(part.startswith(".") for part in p.relative_to(docs_dir).parts)]
    return sorted(found)


def _maybe_file(path: Path) -> bool:
    """Return whether ``path`` is a file, or a link that cannot be followed (a folder the user cannot read):
    that one is listed, and the build skips it with the reason reading it gives."""
    try:
        return path.is_file()
    except OSError:
        return True


def file_hash(path: Path) -> str:
    """Return the sha256 hex digest of a regular file's bytes (links followed); anything else raises OSError
    at once: a pipe put in a document's place after the folder was listed would block the build or the chat
    forever, waiting for a writer."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    os.set_blocking(fd, True)
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def text_hash(text: str) -> str:
    """Return the sha256 of a chunk's text: it decides whether the chunk is re-embedded."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def build(
    docs_dir: Path,
    index_dir: Path,
    embedder: TextEmbedder,
    progress: bool = False,
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
    faiss_kind: str = "auto",
    parse: Callable[[Path, str], Document] = parse_file,
    status: Callable[[str], None] | None = None,
    store: str | None = None,
    new_passages: int | None = None,
    read_already: dict[str, tuple[str, Document, str | None]] | None = None,
) -> BuildReport:
    """Build (or incrementally update) the index of ``docs_dir`` in ``index_dir``; return a report.

    Builds of one index take turns: a second one waits for the first (and says so). Each
    document is read by ``parse`` within the parse budget (``qa.budget``): a file that
    takes too long or too much memory is skipped with a one-line reason. ``store`` is where the
    vectors go (``faiss``, ``milvus:PATH.db``, ``milvus://HOST:PORT``; default: where they went last
    time). ``read_already``: documents read before the build (doc → its file's sha256, the document and
    its cut line, as ``budget.read_within_budget`` gives them), taken as they are while the file's hash is
    that one. ``status`` hears what the build is doing ("reading …", "… passages embedded · about … left");
    with ``progress`` and no ``status``, those lines go to ``log`` every 10 s (a terminal or not).
    Writing the index fails with one line (a full disk), the previous index unchanged."""
    start = time.perf_counter()
    docs_dir, index_dir = Path(docs_dir), Path(index_dir)
    document_files(docs_dir)  # a missing folder is said before waiting for a lock
    spec = store_mod.parse_spec(store) if store is not None else None
    if status is None:
        status = every(PROGRESS_SECONDS, log) if progress else (lambda line: None)
    try:
        with build_lock(index_dir, log):
            return _build(docs_dir, index_dir, embedder, status, log, faiss_kind, start, parse, spec, new_passages,
                          read_already or {})
    except OSError as exc:
        if isinstance(exc, files.NotRegular):
            raise QAError(f"{exc.filename}: {exc.strerror}") from None
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        raise QAError(f"{index_dir}: could not write the index ({exc.strerror}); free some space (or make the "
                      "folder writable) and build again; the previous index is unchanged") from exc


def every(seconds: float, log: Callable[[str], None]) -> Callable[[str], None]:
    """Return a status callback passing a line on to ``log`` at most once per ``seconds``."""
    last = [time.monotonic()]

    def say(line: str) -> None:
        now = time.monotonic()
        if now - last[0] >= seconds:
            last[0] = now
            log(line)

    return say


@contextlib.contextmanager
def build_lock(index_dir: Path, log: Callable[[str], None] = lambda line: None) -> Iterator[None]:
    """Hold the index's build lock (``.build.lock``, released when the process ends in any way)."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with os.fdopen(files.open_regular(index_dir / LOCK, os.O_RDWR | os.O_CREAT), "r+b") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another build of {index_dir}/ is running; waiting for it to finish…")
            fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@dataclass
class _Documents:
    """What a build read: per document its record for the manifest and its (paragraphs, notes, chunks)."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    parts: list[tuple[list[Paragraph], list[Footnote], list[Chunk]]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # documents indexed in part (over a document limit)
    new_passages: int = 0  # passages of the documents read anew (not reused)
    changed: set[str] = field(default_factory=set)  # documents whose chunks may differ from the last build's
    parsed: int = 0
    reused: int = 0


def _build(docs_dir: Path, index_dir: Path, embedder: TextEmbedder, status: Callable[[str], None],
           log: Callable[[str], None], faiss_kind: str, start: float,
           parse: Callable[[Path, str], Document], spec: dict[str, str] | None = None,
           new_passages: int | None = None,
           read_already: dict[str, tuple[str, Document, str | None]] | None = None) -> BuildReport:
    previous = _previous(index_dir, embedder, log)
    count = functools.lru_cache(maxsize=None)(embedder.count_tokens)  # each text's word pieces counted once
    progress = _Progress(status, count, embedder.max_tokens)
    read = _read_documents(docs_dir, previous, embedder, progress, log, parse, new_passages, read_already or {})
    paragraphs = [p for ps, _, _ in read.parts for p in ps]
    notes = [n for _, ns, _ in read.parts for n in ns]
    chunks = [c for _, _, cs in read.parts for c in cs]
    if not paragraphs:
        reason = f"; {len(read.skipped)} skipped" if read.skipped else ""
        raise DocumentError(f"{docs_dir}: no readable documents ({KINDS}){reason}; add documents and run qa build again")
    # All documents' new texts in one list, longest first: batches of one length (embedding each document as it
    # is read, its own texts in batches of their own, cost 18% more of the encoder's CPU on three law reviews,
    # and changed the int8 backend's vectors, which depend on their batch's other texts).
    by_marker = {(n.doc, n.marker): n for n in notes}
    lexical_texts = [lexical.document_text(p, by_marker) for p in paragraphs]
    vocab = lexical.vocabulary(lexical_texts)
    known_word = previous.word_vector if previous else _nothing
    new_words = [word for word in vocab if known_word(word) is None]  # what the time left counts after the passages
    vectors, embedded, pieces = _reuse_or_embed([c.text for c in chunks], previous.chunk_vector if previous else _nothing,
                                                embedder, progress.embedded, count,
                                                lambda todo: progress.planned(todo, new_words))
    _warm_word_table(embedder, log)  # first: most of the vocabulary's words are then read from it, not embedded
    vocab_vectors, _, _ = _reuse_or_embed(vocab, known_word, embedder, progress.words_embedded, count,
                                          encode=embedder.encode_words, batch=WORD_BATCH)
    manifest = {
        "format_version": FORMAT_VERSION, "model": embedder.name, "model_fingerprint": embedder.fingerprint,
        "dim": int(embedder.dimension),
        "max_tokens": int(embedder.max_tokens), "pipeline": PIPELINE, "docs_dir": str(docs_dir.resolve()),
        "documents": read.records, "skipped": dict(read.skipped),
        "counts": {"documents": len(read.records), "paragraphs": len(paragraphs),
                   "footnotes": len(notes), "chunks": len(chunks)},
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:  # where the last build's vectors went, even when they cannot be reused (another model)
        last: dict[str, Any] | None = read_manifest(index_dir).get("store", {"kind": "faiss"})
    except IndexLoadError:
        last = None
    if spec is None:
        spec = {"kind": "milvus", "uri": last["uri"]} if last and last.get("kind") == "milvus" else {"kind": "faiss"}
    if spec["kind"] == "faiss":
        manifest["faiss"] = vectors_mod.choose_kind(faiss_kind, len(chunks))
    fill = functools.partial(_fill_store, spec=spec, index_dir=index_dir, read=read, vectors=vectors,
                             last=last if previous and previous.same_pipeline else None,
                             old_docs=previous.manifest.get("documents", {}) if previous else {}, faiss_kind=faiss_kind)
    progress.status(f"writing the index ({len(chunks):,} passages)")
    written = _write(index_dir, manifest, paragraphs, notes, chunks, vectors, lexical_texts, vocab, vocab_vectors,
                     previous.manifest.get("generation") if previous else None, fill)
    (index_dir / PENDING).unlink(missing_ok=True)
    note = store_mod.retire(last, written.get("store", {"kind": "faiss"}))
    if note:
        log(note)
    return BuildReport(len(read.records), read.parsed, read.reused, embedded, len(chunks), len(paragraphs),
                       len(notes), time.perf_counter() - start, tuple(read.skipped), pieces, tuple(read.notices))


@dataclass
class _Next:
    """A document looked at, not yet taken: its file's hash and stat, the last build's parts when it is
    unchanged, else its reading (started), or why it is skipped."""

    path: Path
    doc: str
    last_hash: str | None  # the last build's hash, when its parts could be reused
    reusable: tuple[list[Paragraph], list[Footnote], list[Chunk]] | None = None  # the last build's parts
    digest: str = ""
    before: os.stat_result | None = None
    reading: budget.Reading | None = None
    skipped: _Skipped | None = None


def _read_documents(docs_dir: Path, previous: _Previous | None, embedder: TextEmbedder, progress: _Progress,
                    log: Callable[[str], None], parse: Callable[[Path, str], Document], new_passages: int | None = None,
                    read_already: dict[str, tuple[str, Document, str | None]] | None = None) -> _Documents:
    """Return the documents of ``docs_dir``: unchanged ones taken from the last build, the others parsed
    (within the parse budget, in their children, ``budget.AHEAD`` at a time) and cut into chunks, at most
    ``new_passages`` of theirs in all (the chat's bound on one update); unreadable ones, links out and
    those past that bound skipped with a reason. ``read_already`` holds documents read before (see ``build``)."""
    read = _Documents()
    for link in outside_links(docs_dir):
        doc = _shown(link.relative_to(docs_dir).as_posix())
        read.skipped.append((doc, f"{doc}: skipped: a link to a file outside {docs_dir}/ (only files inside it are read)"))
        log(read.skipped[-1][1])
    old_docs = previous.manifest.get("documents", {}) if previous else {}
    paths = document_files(docs_dir)
    progress.documents = len(paths)

    def look(path: Path) -> _Next:
        doc = path.relative_to(docs_dir).as_posix()
        reusable = previous.by_doc.get(doc) if previous and previous.same_pipeline else None
        if reusable is not None and "title" not in old_docs.get(doc, {}):  # built before titles were kept
            reusable = None
        return _look(path, doc, old_docs.get(doc, {}).get("sha256") if reusable else None, reusable, parse,
                     (read_already or {}).get(doc))

    with contextlib.closing(budget.read_ahead(paths, look, lambda item: item.reading)) as looked:
        for item in looked:
            _take(item, old_docs, embedder, progress, log, parse, read, new_passages)
    return read


def _look(path: Path, doc: str, last_hash: str | None,
          reusable: tuple[list[Paragraph], list[Footnote], list[Chunk]] | None,
          parse: Callable[[Path, str], Document], ready: tuple[str, Document, str | None] | None = None) -> _Next:
    """Return a document looked at: hashed, and its reading started unless the last build's parts serve or
    it was ``ready`` (read before the build: its file's hash, the document, its cut line)."""
    item = _Next(path, doc, last_hash)
    if _shown(doc) != doc:  # bytes the file system allows but no index file (JSON, UTF-8) can hold
        item.doc = _shown(doc)
        item.skipped = _Skipped(f"{item.doc}: skipped: its name is not valid UTF-8; rename it")
        return item
    try:
        item.before, item.digest = _stat_and_hash(path, doc)
    except _Skipped as exc:
        item.skipped = exc
        return item
    item.reusable = reusable
    if ready is not None and ready[0] == item.digest:
        item.reading = budget.finished(path, ready[1], ready[2])
    elif reusable is None or item.digest != last_hash:
        item.reading = budget.start_reading(path, doc, parse)
    return item


def _take(item: _Next, old_docs: dict[str, Any], embedder: TextEmbedder, progress: _Progress,
          log: Callable[[str], None], parse: Callable[[Path, str], Document], read: _Documents,
          new_passages: int | None) -> None:
    """Record a looked-at document in ``read``: its reading's answer, or the last build's parts, or why it is
    skipped (said in one line)."""
    doc, digest, before = item.doc, item.digest, item.before
    said = len(read.notices)
    try:
        if item.skipped is not None:
            raise item.skipped
        document, cut = None, None
        if item.reading is not None:
            progress.reading(doc)
            try:
                document, cut = item.reading.result()
            except QAError as exc:
                raise _Skipped(str(exc), f"skipped: {exc}") from None
        if before is None or not _same_file(before, item.path):  # changed while it was read: read it again
            digest, before, document = _read_one(item.path, doc, item.last_hash, parse, progress.status, read.notices)
        elif cut:
            read.notices.append(cut)
    except _Skipped as exc:
        read.skipped.append((doc, exc.reason))
        log(exc.line)
        progress.pages_read([], reused=True)
        return
    for line in read.notices[said:]:
        log(line)
    if document is None and item.reusable is not None:  # unchanged: the last build's parts
        paragraphs, notes, chunks = item.reusable
        read.reused += 1
    else:
        # only a new or changed document counts (one read again for a new version of qa does not)
        new = old_docs.get(doc, {}).get("sha256") != digest
        room = None if new_passages is None or not new else new_passages - read.new_passages
        if room is not None and room <= 0:
            read.skipped.append((doc, f"{doc}: skipped: this update already adds {read.new_passages:,} passages, "
                                      f"the chat's limit (QA_UPLOAD_PASSAGES); add it in another upload, or put it "
                                      "in the documents folder and run qa build"))
            log(read.skipped[-1][1])
            progress.pages_read([], reused=True)
            return
        paragraphs = list(document.paragraphs) if document else []
        notes = list(document.footnotes) if document else []
        progress.status(f"cutting {doc} into passages ({len(paragraphs):,} paragraphs)")
        paragraphs, notes, chunks = _within_limit(doc, paragraphs, notes, embedder, read, log, room)
        read.new_passages += len(chunks) if new else 0
        read.parsed += 1
        read.changed.add(doc)
    # size and time from before the hash: a save after it shows as a change at the next look
    read.records[doc] = {"sha256": digest, "size": before.st_size, "mtime": before.st_mtime,
                         "paragraphs": len(paragraphs), "footnotes": len(notes), "chunks": len(chunks)}
    read.records[doc].update(_citation_fields(document, old_docs.get(doc, {})))
    read.parts.append((paragraphs, notes, chunks))
    progress.pages_read(paragraphs, reused=document is None and item.reusable is not None)


READ_ATTEMPTS = 3


def _within_limit(doc: str, paragraphs: list[Paragraph], notes: list[Footnote], embedder: TextEmbedder,
                  read: _Documents, log: Callable[[str], None],
                  room: int | None = None) -> tuple[list[Paragraph], list[Footnote], list[Chunk]]:
    """Return (paragraphs, notes, chunks) of a document within its passage limit (``budget.document_limits``,
    or the ``room`` this build has left when smaller): chunking stops at the limit and the paragraphs after
    the last chunked one are left out, said in one line."""
    per_document = budget.document_limits().passages
    limit = per_document if room is None else min(room, per_document)
    what, knob = ("a document", "QA_DOC_PASSAGES") if limit == per_document else ("this update had left", "QA_UPLOAD_PASSAGES")
    # one passage more than the limit tells a document over it from one that just fills it
    chunks = chunking.chunk_document(paragraphs, notes, embedder.count_tokens, embedder.max_tokens, limit + 1)
    if len(chunks) <= limit:
        return paragraphs, notes, chunks
    chunks = chunks[:limit]
    last = next(row for row, p in enumerate(paragraphs) if p.id == chunks[-1].paragraph_id)
    kept = paragraphs[:last + 1]
    cited = {m for p in kept for m in p.footnotes}
    line = (f"{doc}: indexed in part: the limit of {limit:,} passages {what} was reached in paragraph "
            f"{last + 1:,} of {len(paragraphs):,}; the rest is left out ({knob}): split the file to index all of it")
    read.notices.append(line)
    log(line)
    return kept, [n for n in notes if n.marker in cited], chunks


class _Skipped(Exception):
    """A document the build leaves out: the reason kept in the manifest, the line said."""

    def __init__(self, reason: str, line: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line or reason


def _shown(name: str) -> str:
    """Return a file name as text: undecodable bytes (lone surrogates in a ``Path``) written as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _stat_and_hash(path: Path, doc: str) -> tuple[os.stat_result, str]:
    """Return (stat, sha256) of a document file, the stat taken before hashing (a save after it shows as a change
    at the next look); raise _Skipped when it cannot be read."""
    try:
        return path.stat(), file_hash(path)
    except OSError as exc:
        raise _Skipped(f"{doc}: skipped: cannot be read ({exc.strerror or exc})") from None


def _read_one(path: Path, doc: str, last_hash: str | None, parse: Callable[[Path, str], Document],
              status: Callable[[str], None], notices: list[str]) -> tuple[str, os.stat_result, Document | None]:
    """Return (hash, stat before hashing, parsed document) of a document file, the document None when its
    hash is ``last_hash`` (unchanged: not parsed); raise _Skipped when it cannot be read. A file that
    changes while it is read (inode, size or time differ after) is read again. A document cut to the
    document limits adds its line to ``notices``."""
    for _ in range(READ_ATTEMPTS):
        before, digest = _stat_and_hash(path, doc)
        document, cut = None, None
        if digest != last_hash:
            status(f"reading {doc}")
            try:
                document, cut = budget.read_within_budget(path, doc, parse)
            except QAError as exc:
                raise _Skipped(str(exc), f"skipped: {exc}") from None
        if _same_file(before, path):
            if cut:
                notices.append(cut)
            return digest, before, document
    raise _Skipped(f"{doc}: skipped: it changed each time it was read; run qa build again when it is saved")


def _same_file(before: os.stat_result, path: Path) -> bool:
    """Return whether ``path`` is still the file ``before`` describes (same inode, size and time)."""
    try:
        after = path.stat()
    except OSError:
        return False
    return (after.st_ino, after.st_size, after.st_mtime_ns) == (before.st_ino, before.st_size, before.st_mtime_ns)


def _fill_store(generation: Path, *, spec: dict[str, str], index_dir: Path, read: _Documents, vectors: np.ndarray,
                last: dict[str, Any] | None, old_docs: dict[str, Any], faiss_kind: str) -> dict[str, Any]:
    """Put the vectors into the store (only the changed documents when it holds the last build's ``last``);
    return the store's record for the manifest."""
    n_chunks = sum(len(cs) for _, _, cs in read.parts)
    vector_store, holds_last = store_mod.for_build(spec, index_dir, generation, last, int(vectors.shape[1]),
                                                   n_chunks, faiss_kind)
    touched: set[str] = set()
    if holds_last:  # changed in place: written down first, so a build killed before its manifest is undone by the next
        touched = (set(old_docs) - set(read.records)) | read.changed | _pending(index_dir)
        files.write_atomic(index_dir / PENDING, json.dumps(sorted(touched), ensure_ascii=False).encode("utf-8"))
    for doc in sorted(touched):
        vector_store.delete(doc)
    row = 0
    for doc, (_, _, cs) in zip(read.records, read.parts, strict=True):
        if not holds_last or doc in touched:
            vector_store.add(doc, [c.id for c in cs], vectors[row:row + len(cs)])
        row += len(cs)
    return vector_store.commit()


def _citation_fields(document: Document | None, old: dict[str, Any]) -> dict[str, Any]:
    """Return a document's title, authors and year for its manifest record (an unchanged one's from the last build)."""
    if document is None:
        return {"title": old.get("title"), "authors": old.get("authors", []), "year": old.get("year")}
    return {"title": document.title, "authors": list(document.authors), "year": document.year}


def _pending(index_dir: Path) -> set[str]:
    """Return the documents a killed build was changing in the store (none when the last build finished)."""
    try:
        return set(indexfiles.read_json(index_dir / PENDING, [str]))
    except (OSError, ValueError):
        return set()


def _warm_word_table(embedder: TextEmbedder, log: Callable[[str], None]) -> None:
    """Make the model's word table once per model, into the cache: questions' words are then looked up, not encoded."""
    try:
        words_embedded = embedder.build_word_table()
    except OSError as exc:  # a read-only cache costs speed, never the build
        log(f"word table not cached ({exc.strerror or exc}); questions' new words will be embedded each time")
        return
    if words_embedded:
        log(f"word table: {words_embedded} words of the model's vocabulary embedded once for faster questions")


@dataclass(frozen=True)
class _Previous:
    """The last build, for reuse: its manifest, its documents' records, and its vectors by text."""

    manifest: dict[str, Any]
    by_doc: dict[str, tuple[list[Paragraph], list[Footnote], list[Chunk]]]
    same_pipeline: bool  # documents read and cut as this version does: unchanged ones need no parsing
    vectors: np.ndarray
    rows: dict[str, int]  # text hash → row of ``vectors``
    old: Index

    def chunk_vector(self, text: str) -> np.ndarray | None:
        """Return the last build's vector of a chunk text, or None."""
        row = self.rows.get(text_hash(text))
        return None if row is None else self.vectors[row]

    def word_vector(self, word: str) -> np.ndarray | None:
        """Return the last build's vector of a vocabulary word, or None."""
        row = self.old.vocab_rows.get(word)
        return None if row is None else self.old.vocab_vectors[row]


def _previous(index_dir: Path, embedder: TextEmbedder,
              log: Callable[[str], None] = lambda line: None) -> _Previous | None:
    """The last build's documents and vectors, when it exists, used the same model and is whole.

    A vector is reused by the hash of the text it was made from (stored beside its row), never by
    position alone; files that disagree with each other or with the manifest's counts make the
    whole last build unusable: everything is rebuilt from the documents, said in one line."""
    try:
        old = load(index_dir, with_search=False)
    except IndexLoadError as exc:
        if (index_dir / MANIFEST).is_file():
            log(f"the last build could not be read ({exc}); building from scratch")
        return None
    if old.model != embedder.name or old.manifest.get("model_fingerprint", embedder.fingerprint) != embedder.fingerprint:
        return None  # another model (or the same name with other files): nothing to reuse
    gen = index_dir / old.manifest["generation"]
    try:
        vectors = old.chunk_vectors()
        hashes_file = gen / VECTOR_HASHES
        hashes = (hashes_file.read_text(encoding="ascii").split() if hashes_file.is_file()
                  else [text_hash(c.text) for c in old.chunks])  # indexes written before the hashes file
        counts = old.manifest.get("counts", {})
        found = {"chunks": len(old.chunks), "paragraphs": len(old.paragraphs)}
        problems = [f"{name}: {found[name]} in the files, {counts.get(name)} in the manifest"
                    for name in found if counts.get(name) != found[name]]
        if vectors.ndim != 2 or vectors.shape[0] != len(hashes) or vectors.shape[0] != len(old.chunks):
            problems.append(f"vectors.npy has {vectors.shape[0] if vectors.ndim else 0} rows for {len(old.chunks)} chunks")
        elif vectors.shape[1] != embedder.dimension:
            problems.append(f"vectors of dimension {vectors.shape[1]}, not {embedder.dimension}")
        elif not np.isfinite(vectors).all():  # reused rows are copied into the next build: never carry damage over
            problems.append("vectors.npy holds values that are not finite numbers")
        if len(old.vocab) != len(old.vocab_vectors):
            problems.append(f"{len(old.vocab)} words for {len(old.vocab_vectors)} word vectors")
    except (OSError, ValueError, EOFError) as exc:
        problems = [f"vectors.npy unreadable ({type(exc).__name__})"]
    if problems:
        log(f"the last build in {gen} is damaged ({problems[0]}); building from scratch")
        return None
    by_doc: dict[str, tuple[list[Paragraph], list[Footnote], list[Chunk]]] = {
        doc: ([], [], []) for doc in old.manifest["documents"]}
    for p in old.paragraphs:
        by_doc[p.doc][0].append(p)
    for doc, notes in old.notes.items():
        by_doc[doc][1].extend(notes.values())
    for c in old.chunks:
        by_doc[old.paragraphs[old.by_id[c.paragraph_id]].doc][2].append(c)
    same = old.manifest.get("pipeline") == PIPELINE and old.manifest.get("max_tokens") == embedder.max_tokens
    return _Previous(old.manifest, by_doc, same, vectors, {digest: row for row, digest in enumerate(hashes)}, old)


def _nothing(text: str) -> None:
    """Return None: no earlier build to take a vector from."""
    return None


def _reuse_or_embed(texts: list[str], known: Callable[[str], np.ndarray | None], embedder: TextEmbedder,
                    embedded: Callable[[list[str]], None] = lambda batch: None,
                    count: Callable[[str], int] | None = None,
                    planned: Callable[[list[str]], None] = lambda todo: None,
                    encode: Callable[[list[str]], np.ndarray] | None = None,
                    batch: int | None = None) -> tuple[np.ndarray, int, int]:
    """Return (vectors of ``texts``, how many were embedded, the word pieces the model read): ``known`` gives
    a text's vector from the last build, or None; only the rest go through ``encode`` (the model's
    ``encode_passages``; for words ``encode_words``, which reads its word table first), each distinct text
    once, ``batch`` (default ``EMBED_BATCH``) at a time (a shared model is held for one batch, never a whole build; ``planned``
    hears the texts to embed first, ``embedded`` each batch once done), the batches in ``mixed_order``.
    ``count``: a text's word pieces (default: the embedder's count)."""
    encode = encode or embedder.encode_passages
    count = count or embedder.count_tokens
    vectors = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    rows_of: dict[str, list[int]] = {}  # a text still to embed → every row that holds it
    for row, text in enumerate(texts):
        vector = known(text) if text not in rows_of else None
        if vector is None:
            rows_of.setdefault(text, []).append(row)
        else:
            vectors[row] = vector
    # Longest first, by word pieces: a batch of texts of one length pads little (in the order the chunks
    # come, paragraphs beside single sentences, a law-review build padded to 1.45× the real word pieces).
    sizes = {text: count(text) for text in rows_of}
    todo = sorted(rows_of, key=lambda text: -sizes[text])
    planned(todo)
    batch = batch or EMBED_BATCH
    starts = range(0, len(todo), batch)
    for k in mixed_order(len(starts)):
        part = todo[starts[k]:starts[k] + batch]
        for text, vector in zip(part, encode(part), strict=True):
            vectors[rows_of[text]] = vector
        embedded(part)
    return vectors, len(todo), sum(sizes.values())


def mixed_order(n: int) -> list[int]:
    """Return the order to embed ``n`` batches in, given longest first: the longest, then spread over all
    lengths (a golden-ratio stride), so that the rate of the batches done holds for those left (the time
    left: taken longest first, OpenVINO's estimate said half the time left, its short texts costing more
    than the cost model counts). Each batch keeps its texts: the same vectors, whatever the order."""
    return sorted(range(n), key=lambda i: (i * 0.6180339887498949) % 1.0)


class _Progress:
    """What a build has done, said as one line through ``status``: the pages (or documents) read, the
    passages (then the vocabulary's new words) embedded of those to embed, and the time left, from the work
    done so far and the time it took (``_work``: a long text costs more than its word pieces)."""

    def __init__(self, status: Callable[[str], None], count: Callable[[str], int], max_tokens: int = 254,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.status, self.count, self.max_tokens, self.clock = status, count, max_tokens, clock
        self.documents = 0  # to read (those the last build's parts serve are not counted)
        self.taken = 0
        self.pages = 0
        self.todo = 0  # texts to embed
        self.work = 0.0  # their cost (``_work``)
        self.done, self.work_done = 0, 0.0
        self.words, self.words_done = 0, 0  # the vocabulary's words the last build lacks, embedded after the passages
        self.since: tuple[float, float] | None = None  # (time, work done) when the first batch was done

    def reading(self, doc: str) -> None:
        """Say that the build waits for ``doc``'s reader."""
        self.status(f"reading {doc} ({self.taken + 1} of {self.documents} documents)")

    def pages_read(self, paragraphs: list[Paragraph], reused: bool) -> None:
        """Count a document taken, with its pages (the last page a paragraph is on); one the last build's
        parts serve, or one skipped, is not counted at all."""
        if reused:
            self.documents -= 1
            return
        self.taken += 1
        self.pages += max((p.page_end or p.page or 0 for p in paragraphs), default=0)

    def planned(self, todo: list[str], words: Sequence[str] = ()) -> None:
        """Count the texts that will go through the model, and the vocabulary's ``words`` after them (those
        the model's word table holds cost nothing: counted all the same), and say so."""
        self.todo, self.words = len(todo), len(words)
        self.work = sum(_work(self.count(text), self.max_tokens) for text in todo) + WORD_WORK * len(words)
        if todo:
            self.status(self.line())

    def words_embedded(self, batch: list[str]) -> None:
        """Count a batch of the vocabulary's words embedded, and say where the build is."""
        self.words_done += len(batch)
        self.work_done += WORD_WORK * len(batch)
        if self.todo:
            self.status(self.line())

    def embedded(self, batch: list[str]) -> None:
        """Count a batch of passages embedded, and say where the build is."""
        self.done += len(batch)
        self.work_done += sum(_work(self.count(text), self.max_tokens) for text in batch)
        if self.since is None:  # the rate is taken from the second batch on: the first also warms the model up
            self.since = (self.clock(), self.work_done)
        self.status(self.line())

    def line(self) -> str:
        """Return the progress line: "93 of 93 pages read · 840 of 2,100 passages embedded · about 40 s left"."""
        read = (f"{self.pages:,} of {self.pages:,} pages read" if self.pages and self.taken == self.documents
                else f"{self.taken} of {self.documents} documents read")
        line = f"{read} · {self.done:,} of {self.todo:,} passages embedded"
        if self.words_done:
            line += f" · {self.words_done:,} of {self.words:,} words"
        if self.since is None or self.work_done <= self.since[1]:
            return line
        left = (self.clock() - self.since[0]) / (self.work_done - self.since[1]) * max(self.work - self.work_done, 0)
        return f"{line} · about {_duration(left)} left"


# What a new vocabulary word costs in ``_work``'s units, on average, those the model's word table holds (free)
# among them: 9.4 (onnx-int8), 13.7 (torch), 14.2 (openvino), measured on two law reviews' 3,000 first words
# against their 3,163 passages, where ``_work`` would say 31 (one word piece and a text's fixed cost).
WORD_WORK = 12.0


def _work(pieces: int, max_tokens: int) -> float:
    """Return what embedding a text of ``pieces`` word pieces costs, in word pieces: the model's two marks,
    its attention growing with the square of the length, and a fixed cost a text. Fitted on the 2,056 texts of
    3 law reviews (onnx-int8, CPU-s a batch of 64, longest first: 3.3e-5 a piece, 6.8e-7 a piece squared,
    8.9e-4 a text): counting word pieces alone said 3.4x the time left after the first batch of a real upload."""
    n = min(pieces, max_tokens) + 2
    return n + n * n / 49 + 27


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


def _write(index_dir: Path, manifest: dict[str, Any], paragraphs: list[Paragraph],
           notes: list[Footnote], chunks: list[Chunk], vectors: np.ndarray,
           lexical_texts: list[str], vocab: list[str], vocab_vectors: np.ndarray,
           previous_gen: str | None = None,
           fill_store: Callable[[Path], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write a new generation folder, then atomically point the manifest at it; remove what
    earlier builds wrote (marked folders, and the generation the last manifest named) and nothing else;
    return the manifest written."""
    index_dir.mkdir(parents=True, exist_ok=True)
    gen_name = f"gen-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}-{time.perf_counter_ns() % 10**6}"
    tmp = index_dir / f".tmp-{gen_name}"
    tmp.mkdir()
    try:
        with _writing(index_dir):
            (tmp / MARKER).write_text("written by qa build; removed by the next build\n", encoding="utf-8")
            _write_jsonl(tmp / "paragraphs.jsonl", (to_dict(p) for p in paragraphs))
            _write_jsonl(tmp / "footnotes.jsonl", (to_dict(n) for n in notes))
            _write_jsonl(tmp / "chunks.jsonl", (to_dict(c) for c in chunks))
            np.save(tmp / "vectors.npy", vectors, allow_pickle=False)
            (tmp / VECTOR_HASHES).write_text("".join(text_hash(c.text) + "\n" for c in chunks), encoding="ascii")
            lexical.save(lexical.build(lexical_texts), tmp / "bm25")
            lexical.save_vocab(vocab, vocab_vectors, tmp)
            if fill_store is not None:  # last: a Milvus store is changed in place, so only once all else is written
                manifest = {**manifest, "store": fill_store(tmp)}
            _fsync_dir(tmp)
            os.replace(tmp, index_dir / gen_name)
            manifest = {**manifest, "generation": gen_name}
            files.write_atomic(index_dir / MANIFEST,
                               json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
        settings_mod.forget_other_model(index_dir, manifest)  # settings tuned for another model do not carry over
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for old in index_dir.iterdir():  # earlier generations and leftovers of killed builds: only our own
        ours = (old / MARKER).is_file() or (old.name == previous_gen and (old / "chunks.jsonl").is_file())
        if old.name != gen_name and old.is_dir() and not old.is_symlink() and ours \
                and (old.name.startswith("gen-") or old.name.startswith(".tmp-gen-")):
            shutil.rmtree(old, ignore_errors=True)
    return manifest


@contextlib.contextmanager
def _writing(index_dir: Path) -> Iterator[None]:
    """Turn a failed write of the index into one line (QAError): a full disk is an OSError with an errno,
    numpy's OSError without one ("N requested and 0 written"), or FAISS' RuntimeError ("write error")."""
    try:
        yield
    except (OSError, RuntimeError) as exc:
        if isinstance(exc, files.NotRegular) or (isinstance(exc, RuntimeError) and "write error" not in str(exc)):
            raise
        try:
            full = shutil.disk_usage(index_dir).free < 2**20
        except OSError:
            full = False
        said = (str(exc).splitlines() or [type(exc).__name__])[0]
        said = said[said.find("write error"):] if "write error" in said else said[-120:]
        why = getattr(exc, "strerror", None) or ("the disk is full" if full else said)
        raise QAError(f"{index_dir}: could not write the index ({why}); free some space (or make the folder "
                      "writable) and build again; the previous index is unchanged") from exc


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            with open(p, "rb") as f:
                os.fsync(f.fileno())


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """Return the index's manifest, or raise IndexLoadError saying how to (re)build it."""
    path = Path(index_dir) / MANIFEST
    if not path.is_file():
        raise IndexLoadError(f"{index_dir}: no index found; build it with: qa build --index {index_dir}")
    try:
        manifest = indexfiles.read_json(path, {"format_version": (int, float, str, bool, None)})
    except (OSError, ValueError) as exc:
        raise IndexLoadError(f"{path}: unreadable manifest ({_why(exc)}); rebuild with: qa build --index {index_dir}") from None
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexLoadError(f"{path}: index format is not version {FORMAT_VERSION}; rebuild with: qa build --index {index_dir}")
    try:
        indexfiles.check(manifest, indexfiles.MANIFEST, str(path))
        if not re.fullmatch(r"gen-[A-Za-z0-9_-]{1,200}", manifest["generation"]):
            raise indexfiles.Damaged(f"{path}: 'generation': not a generation folder's name")
    except indexfiles.Damaged as exc:
        raise IndexLoadError(f"damaged index: {exc}; rebuild with: qa build --index {index_dir}") from None
    return dict(manifest)


def _why(exc: Exception) -> str:
    """Return what is wrong with an index file, in a few words (the file named once, by the caller)."""
    if isinstance(exc, indexfiles.Damaged):
        return str(exc).rsplit(": ", 1)[-1]
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


def load(index_dir: Path, with_search: bool = True) -> Index:
    """Return the loaded index in ``index_dir`` (its vector store and BM25 only when ``with_search``)."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    gen = index_dir / manifest["generation"]
    try:
        paragraphs = [paragraph_from_dict(d) for d in indexfiles.read_jsonl(gen / "paragraphs.jsonl", indexfiles.PARAGRAPH)]
        footnotes = [footnote_from_dict(d) for d in indexfiles.read_jsonl(gen / "footnotes.jsonl", indexfiles.FOOTNOTE)]
        chunks = [chunk_from_dict(d) for d in indexfiles.read_jsonl(gen / "chunks.jsonl", indexfiles.CHUNK)]
        if len({p.id for p in paragraphs}) != len(paragraphs) or len({c.id for c in chunks}) != len(chunks):
            raise indexfiles.Damaged(f"{gen}: the same id on two rows")
        vector_store = bm25 = None
        if with_search:
            by_id_doc = {p.id: p.doc for p in paragraphs}
            vector_store = store_mod.open_store(manifest.get("store", {"kind": "faiss"}), gen,
                                                [c.id for c in chunks], [by_id_doc.get(c.paragraph_id, "") for c in chunks])
            if isinstance(vector_store, store_mod.FaissStore) and vector_store.dim != manifest["dim"]:
                raise indexfiles.Damaged(f"{gen / store_mod.FAISS_FILE}: vectors of dimension {vector_store.dim}, "
                                         f"not {manifest['dim']}")
            bm25 = lexical.load(gen / "bm25", len(paragraphs))
            vectors_mod.query_threads()
        vocab, vocab_vectors = lexical.load_vocab(gen, manifest["dim"])
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        why = f"damaged: {exc}" if isinstance(exc, indexfiles.Damaged) else f"missing or damaged ({type(exc).__name__})"
        raise IndexLoadError(f"{index_dir}: index files are {why}; rebuild with: qa build --index {index_dir}") from exc
    by_id = {p.id: row for row, p in enumerate(paragraphs)}
    notes: dict[str, dict[Marker, Footnote]] = {doc: {} for doc in manifest.get("documents", {})}
    for n in footnotes:
        notes.setdefault(n.doc, {})[n.marker] = n
    try:
        chunk_paragraph = np.array([by_id[c.paragraph_id] for c in chunks], dtype=np.int64)
    except KeyError as exc:
        raise IndexLoadError(f"{index_dir}: index is inconsistent; rebuild with: qa build --index {index_dir}") from exc
    tuned = settings_mod.read(index_dir, manifest)
    return Index(index_dir, manifest, paragraphs, notes, chunks, chunk_paragraph, vector_store, bm25, by_id,
                 vocab, vocab_vectors, {w: row for row, w in enumerate(vocab)},
                 tuned.settings, tuned.source, tuned.notice)


def model_for(index_dir: Path, model: str | None = None) -> str:
    """Return the full name of the model to search ``index_dir`` with: the one asked for (``model``,
    else $QA_MODEL), else the one the index was built with (raises IndexLoadError without an index)."""
    if model or os.environ.get("QA_MODEL"):
        return model_name(model)
    return pinned(str(read_manifest(index_dir)["model"]))  # an index of torch vectors is searched with torch


def _stderr(line: str) -> None:
    print(one_line(line), file=sys.stderr)


def open_index(index_dir: Path, embedder: TextEmbedder, log: Callable[[str], None] | None = _stderr) -> Index:
    """Return the loaded index in ``index_dir`` for searching with ``embedder``; say (``log``; None: do
    not look) when its documents changed. The one rule for a model mismatch: an index built with another
    model is refused (IndexLoadError saying how to rebuild); ``qa serve`` rebuilds on any refusal."""
    index_dir = Path(index_dir)
    idx = load(index_dir)
    if idx.model != embedder.name:
        raise IndexLoadError(f"{index_dir}: built with model '{idx.model}', not '{embedder.name}'; "
                             f"rebuild with: qa build --model {embedder.name} --index {index_dir}")
    changes = stale(idx.manifest, Path(idx.manifest.get("docs_dir", "docs_src"))) if log else []
    if idx.settings_notice:  # said even when staleness is not looked at (the chat): search quality depends on it
        (log or _stderr)(f"qa: warning: {idx.settings_notice}")
    if log and changes:
        log(f"qa: warning: {index_dir} is stale ({', '.join(changes[:3])}"
            f"{', …' if len(changes) > 3 else ''}); run: qa build --index {index_dir}")
    return idx


def stale(manifest: dict[str, Any], docs_dir: Path) -> list[str]:
    """Return what changed in ``docs_dir`` since the build (empty when the index is current)."""
    docs_dir = Path(docs_dir)
    if not docs_dir.is_dir():
        return []
    built = manifest.get("documents", {})
    skipped = manifest.get("skipped", {})
    now = {_shown(p.relative_to(docs_dir).as_posix()): p for p in document_files(docs_dir)}
    changes = [] if manifest.get("pipeline") == PIPELINE else ["built by another version of qa"]
    changes += [f"removed {doc}" for doc in built if doc not in now]
    for doc, path in now.items():
        if doc not in built:
            if doc not in skipped:
                changes.append(f"new {doc}")
            continue
        record = built[doc]
        try:
            stat = path.stat()
            if stat.st_size == record.get("size") and stat.st_mtime == record.get("mtime"):
                continue  # fast path: unchanged size and time
            changed = file_hash(path) != record.get("sha256")
        except OSError:
            changed = True  # unreadable now: the next build says why
        if changed:
            changes.append(f"changed {doc}")
    return changes
