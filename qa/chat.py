"""What the web chat serves, without Gradio: ``Chat`` holds the loaded index and embedder,
the documents folder and the feedback file; it answers questions (through ``search``, shown by
``render``), adds uploaded documents to the index, and records which passage answered a question.

``qa.ui`` lays it out as a Gradio app.
"""

import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import traceback
import unicodedata
from pathlib import Path
from typing import Any

from qa import cite, render
from qa import index as index_mod
from qa.errors import InputError, QAError
from qa.records import Answer, Hit, Paragraph
from qa.search import clean_question, search

DEFAULT_K = 5
UPLOAD_TYPES = (".txt", ".md", ".markdown", ".pdf")
SNIPPET_CHARS = 120
_GENERIC_SECTIONS = {"summary", "abstract", "introduction", "conclusion", "conclusions", "notes",
                     "references", "bibliography", "contents", "acknowledgements"}


class Serialised:
    """An embedder whose calls run one at a time: a Hugging Face fast tokenizer must not be
    used from two threads at once ("Already borrowed"), and the queue runs several searches."""

    def __init__(self, embedder: Any) -> None:
        self.inner = embedder
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return self.inner.count_tokens(text)

    def encode(self, texts: list[str], progress: bool = False) -> Any:
        with self._lock:
            return self.inner.encode(texts, progress=progress)

    def word_vectors(self, words: list[str]) -> Any:
        """Return single words' vectors from the model's word table (encoded when it has none)."""
        with self._lock:
            return getattr(self.inner, "word_vectors", self.inner.encode)(words)

    def build_word_table(self) -> int:
        """Return how many words the model's word table embedded now (0: there, or no table)."""
        with self._lock:
            return int(getattr(self.inner, "build_word_table", lambda: 0)())


def default_feedback_path(index_dir: Path) -> Path:
    """Return $QA_FEEDBACK, else feedback/questions.jsonl next to the index folder."""
    env = os.environ.get("QA_FEEDBACK")
    return Path(env) if env else Path(index_dir).resolve().parent / "feedback" / "questions.jsonl"


class Chat:
    """What the web chat serves: a loaded index and embedder, the documents folder, the feedback file."""

    def __init__(self, docs_dir: Path, index_dir: Path, embedder: Any, feedback: Path | None = None) -> None:
        self.docs_dir, self.index_dir = Path(docs_dir), Path(index_dir)
        self.embedder = embedder if isinstance(embedder, Serialised) else Serialised(embedder)
        self.feedback_path = Path(feedback) if feedback else default_feedback_path(self.index_dir)
        self.index = index_mod.load(self.index_dir)
        self._build_lock = threading.Lock()
        self._feedback_lock = threading.Lock()
        self._ids = itertools.count(1)

    # --- asking ---------------------------------------------------------------

    def ask(self, question: object, k: object = DEFAULT_K, docs: list[str] | None = None) -> Answer:
        """Return the answer to a question, limited to ``docs`` when given (raises InputError)."""
        idx = self.index  # one snapshot: an upload may swap self.index meanwhile
        return search(idx, self.embedder, question, k, docs=frozenset(docs) if docs else None)  # type: ignore[arg-type]  (search validates both)

    def reply(self, question: object, k: object = DEFAULT_K, docs: list[str] | None = None) -> tuple[list[str], list[Hit]]:
        """Return the chat reply as HTML blocks (one per passage) and the hits they show."""
        try:
            answer = self.ask(question, k, docs)
        except QAError as exc:
            return [render.error_html(str(exc))], []
        except Exception as exc:  # never a traceback in the chat; the console gets it
            traceback.print_exc(file=sys.stderr)
            return [render.error_html(f"internal error ({type(exc).__name__}); the server console has details")], []
        uid = f"qa{next(self._ids)}"
        return render.answer_blocks(answer, uid, self.file_url), list(answer.hits)

    def search_json(self, question: object, k: object = DEFAULT_K) -> dict[str, Any]:
        """Return the ``qa search --json`` object, or the same shape with an "error" line."""
        try:
            return cite.answer_to_json(self.ask(question, k))
        except QAError as exc:
            error = str(exc)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            error = f"internal error ({type(exc).__name__}); the server console has details"
        shown = question if isinstance(question, str) else ""
        return {"question": shown, "error": error, "results": [], "abstained": True}

    # --- documents ------------------------------------------------------------

    def documents(self) -> dict[str, dict[str, Any]]:
        """Return the indexed documents with their counts, from the manifest."""
        return dict(self.index.manifest.get("documents", {}))

    def _indexed(self, doc: str) -> bool:
        return doc in self.index.manifest.get("documents", {})

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

    def add_documents(self, files: list[Any]) -> list[str]:
        """Copy uploaded files into the docs folder, update the index, reload it; return one line per file."""
        lines: list[str] = []
        staged: list[tuple[Path, str, str]] = []  # (upload, original name, doc name)
        for f in files or []:
            upload = Path(f if isinstance(f, (str, os.PathLike)) else getattr(f, "path", None) or f.name)
            name = upload.name
            try:
                doc = safe_filename(name)
                _check_readable(upload, name, doc)
            except QAError as exc:
                lines.append(str(exc))
                continue
            same = next((p for p in index_mod.document_files(self.docs_dir)
                         if p.stat().st_size == upload.stat().st_size
                         and index_mod.file_hash(p) == index_mod.file_hash(upload)), None)
            if same is not None:
                lines.append(f"{name}: already in your documents as {same.relative_to(self.docs_dir).as_posix()}")
                continue
            staged.append((upload, name, doc))
        if not staged:
            return lines or ["no file received; choose .txt, .md or .pdf files"]
        with self._build_lock:
            added = [(name, self._copy_in(upload, doc)) for upload, name, doc in staged]
            try:
                report = index_mod.build(self.docs_dir, self.index_dir, self.embedder)
            except QAError as exc:
                for _, path in added:
                    path.unlink(missing_ok=True)
                return lines + [f"{name}: not added: {exc}" for name, _ in added]
            skipped = dict(report.skipped)
            for name, path in added:
                doc = path.relative_to(self.docs_dir).as_posix()
                if doc in skipped:  # unreadable after all: take it back out
                    path.unlink(missing_ok=True)
                    lines.append(f"{name}: not added: {skipped[doc].replace(str(path), doc)}")
            self.index = index_mod.load(self.index_dir)
            counts = self.documents()
            for name, path in added:
                doc = path.relative_to(self.docs_dir).as_posix()
                if doc in counts:
                    c = counts[doc]
                    renamed = f" (saved as {doc})" if doc != name else ""
                    lines.append(f"{name}: added{renamed}, {c['paragraphs']} passages, {c['footnotes']} footnotes; ask away")
        return lines

    def _copy_in(self, upload: Path, doc: str) -> Path:
        """Copy an upload into the docs folder under a free name (a hidden temp name first, then renamed)."""
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        stem, suffix = os.path.splitext(doc)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.docs_dir)
        os.close(fd)
        shutil.copyfile(upload, tmp)
        for n in itertools.count(1):
            dest = self.docs_dir / (doc if n == 1 else f"{stem}-{n}{suffix}")
            try:
                _claim(Path(tmp), dest)
            except FileExistsError:
                continue
            return dest
        raise AssertionError("unreachable")

    # --- feedback -------------------------------------------------------------

    def record_feedback(self, question: object, passage_id: str) -> tuple[dict[str, Any], bool]:
        """Append "this passage answers this question" to the feedback file; return (row, is_new)."""
        question = clean_question(question)
        row_no = self.index.by_id.get(passage_id)
        if row_no is None:
            raise InputError(f"passage_id: unknown passage '{passage_id}'")
        paragraph = self.index.paragraphs[row_no]
        with self._feedback_lock:
            rows = read_jsonl(self.feedback_path)
            for row in rows:
                if row.get("question") == question and row.get("passage_id") == passage_id:
                    return row, False
            row = {"id": f"fb-{len(rows) + 1}", "question": question, "type": "feedback",
                   "answers": [snippet(paragraph.text)], "passage_id": passage_id,
                   "sources": [], "footnote": None, "split": "feedback"}
            self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.feedback_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return row, True

    def feedback_json(self, question: object, passage_id: object, helpful: object = True) -> str:
        """The /feedback endpoint: record a helpful passage; a 👎 alone records nothing."""
        if helpful is not True:
            return "noted; give the passage that does answer the question a 👍 to save it"
        try:
            row, new = self.record_feedback(question, str(passage_id))
        except QAError as exc:
            return f"error: {exc}"
        return f"saved as {row['id']} in {self.feedback_path}" if new else f"already saved as {row['id']}"

    def example_questions(self, n: int = 3) -> list[str]:
        """Return a few questions built from section titles, for the empty chat."""
        seen: list[str] = []
        for p in self.index.paragraphs:
            title = (p.section or "").strip()
            if title and title.lower() not in _GENERIC_SECTIONS and title not in seen and len(title) <= 80:
                seen.append(title)
        return [f"What do the documents say about “{t}”?" for t in seen[:n]]


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
        raise InputError(f"{base or 'file'}: unsupported file type '{suffix}'; upload .txt, .md or .pdf")
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-_")[:80] or "document"
    return stem + suffix.lower()


def _check_readable(upload: Path, name: str, doc: str) -> None:
    """Parse an upload before it goes near the docs folder: a bad file changes nothing."""
    from qa.budget import parse_within_budget

    try:
        parse_within_budget(upload, doc)
    except QAError as exc:
        raise InputError(str(exc).replace(str(upload), name)) from None
    except Exception as exc:  # a reader library's own error on a corrupt file
        raise InputError(f"{name}: could not read the file ({type(exc).__name__}); is it damaged?") from None


def snippet(text: str) -> str:
    """Return the first ~120 characters of a passage's clean text, cut at a word (an eval "answer")."""
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Return the JSON objects of a JSONL file (none when it does not exist; bad lines skipped)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows
