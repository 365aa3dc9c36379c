"""Parse budget: read one document in a child process with a wall-time and a memory limit.

Whatever a reader does with a hostile or broken file (a loop, a blow-up, a crash), the
caller gets the ``Document`` or a one-line ``DocumentError`` naming the file, in bounded
time, and the program goes on: ``qa build`` and the chat skip the file, ``qa parse``
says why. The child is forked from a single-threaded program (``qa parse``, ``qa build``:
about 10 ms a file) and started afresh as ``python -m qa.budget`` from a threaded one
(the chat, whose threads must not be forked: about 150 ms a file). ``start_reading`` starts
the child and returns at once (a build reads two documents at once); the time
limit counts from the child's start. Limits: ``QA_PARSE_SECONDS`` (default 300) and
``QA_PARSE_MEMORY_MB`` (address space the reader may add, default 4096); 0 turns the
budget off (the reader then runs in this process).
"""

from __future__ import annotations

import collections
import importlib
import multiprocessing
import os
import pickle
import resource
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, TypeVar

from qa.errors import DocumentError, QAError
from qa.parse import parse_file
from qa.records import Document

DEFAULT_SECONDS = 300.0
DEFAULT_MEMORY_MB = 4096
Parser = Callable[[Path, str], Document]


@dataclass(frozen=True)
class DocumentLimits:
    """What one document may cost, whatever it holds (a file of 25 MB of "Aa. " made 6.5 M passages and
    needed ~65 GB): paragraphs and notes kept from the reader (in its child, before they reach the
    caller), characters a paragraph or note keeps, and passages cut from it (``chunk``); each passage
    holds at most the model's window of word pieces, so a document embeds at most passages × window."""

    paragraphs: int = 50_000
    notes: int = 50_000
    chars: int = 1_000_000
    passages: int = 50_000


def document_limits() -> DocumentLimits:
    """Return the per-document limits: ``QA_DOC_PASSAGES`` (default 50,000) sets the passages, and the
    paragraphs and notes with them; the characters of one paragraph stay 1,000,000."""
    try:
        passages = int(os.environ.get("QA_DOC_PASSAGES") or DocumentLimits.passages)
    except ValueError:
        raise QAError("QA_DOC_PASSAGES must be a whole number of passages a document (default 50000)") from None
    passages = max(passages, 1)
    return DocumentLimits(paragraphs=passages, notes=passages, passages=passages)


def cut(document: Document, limits: DocumentLimits) -> tuple[Document, str | None]:
    """Return the document within ``limits`` (its first paragraphs and notes, each cut to ``chars``) and
    a line naming what was left out (None: nothing)."""
    paragraphs, notes = document.paragraphs, document.footnotes
    over = [f"{len(paragraphs):,} paragraphs (the limit: {limits.paragraphs:,})"] \
        if len(paragraphs) > limits.paragraphs else []
    over += [f"{len(notes):,} notes (the limit: {limits.notes:,})"] if len(notes) > limits.notes else []
    long = sum(1 for p in paragraphs[:limits.paragraphs] if len(p.text) > limits.chars or len(p.display) > limits.chars)
    long += sum(1 for n in notes[:limits.notes] if len(n.text) > limits.chars)
    if long:
        over.append(f"{long:,} paragraph{'' if long == 1 else 's'} or note{'' if long == 1 else 's'} "
                    f"of over {limits.chars:,} characters (cut there)")
    if not over:
        return document, None
    kept = tuple(replace(p, text=p.text[:limits.chars], display=p.display[:limits.chars])
                 for p in paragraphs[:limits.paragraphs])
    kept_notes = tuple(replace(n, text=n.text[:limits.chars]) for n in notes[:limits.notes])
    return replace(document, paragraphs=kept, footnotes=kept_notes), (
        f"{document.doc}: indexed in part: {', '.join(over)}; the rest is left out (QA_DOC_PASSAGES): "
        "split the file to index all of it")


def limits() -> tuple[float, int]:
    """Return (seconds, memory MB) of the parse budget from the environment (0: no limit)."""
    try:
        seconds = float(os.environ.get("QA_PARSE_SECONDS") or DEFAULT_SECONDS)
        memory = int(os.environ.get("QA_PARSE_MEMORY_MB") or DEFAULT_MEMORY_MB)
    except ValueError:
        raise QAError("QA_PARSE_SECONDS and QA_PARSE_MEMORY_MB must be numbers (0: no limit)") from None
    return seconds, memory


def parse_within_budget(path: Path, doc: str | None = None, parse: Parser = parse_file,
                        seconds: float | None = None, memory_mb: int | None = None) -> Document:
    """Return ``parse(path, doc)`` run in a child process within the budget (and the document limits),
    or raise DocumentError."""
    return read_within_budget(path, doc, parse, seconds, memory_mb)[0]


def read_within_budget(path: Path, doc: str | None = None, parse: Parser = parse_file,
                       seconds: float | None = None, memory_mb: int | None = None) -> tuple[Document, str | None]:
    """Return (``parse(path, doc)`` run in a child process within the budget and cut to the document
    limits, the line saying what was cut or None), or raise DocumentError."""
    return start_reading(path, doc, parse, seconds, memory_mb).result()


GRACE_SECONDS = 1.0  # a child collected after its time is up still gets this long to hand over what it read


@dataclass
class Reading:
    """One document being read in its child process: started by ``start_reading``, its answer taken by
    ``result`` (a build starts the next document's child before it takes this one's answer)."""

    path: Path
    seconds: float
    memory_mb: int
    started: float
    collect: Callable[[float | None], tuple[str, Any]]  # time left → (kind, value) as ``_read`` makes them
    stop: Callable[[], None]  # end the child (a reading that is not wanted after all)

    def result(self) -> tuple[Document, str | None]:
        """Return (the document within the document limits, what was cut or None), or raise DocumentError;
        the time limit counts from the child's start."""
        left = None if self.seconds <= 0 else max(self.seconds - (time.monotonic() - self.started), GRACE_SECONDS)
        kind, value = self.collect(left)
        return _answer(self.path, kind, value, self.seconds, self.memory_mb)


def start_reading(path: Path, doc: str | None = None, parse: Parser = parse_file,
                  seconds: float | None = None, memory_mb: int | None = None) -> Reading:
    """Return a ``Reading`` of ``parse(path, doc)``: its child process started now (forked from a
    single-threaded program, a fresh interpreter from a threaded one); without a budget, the reader
    runs here when the result is asked for."""
    path = Path(path)
    doc = doc or path.name
    default_seconds, default_memory = limits()
    seconds = default_seconds if seconds is None else seconds
    memory_mb = default_memory if memory_mb is None else memory_mb
    started = time.monotonic()
    if seconds <= 0 and memory_mb <= 0:  # no budget: read here, but a reader's error is still one file's
        return Reading(path, seconds, memory_mb, started, lambda left: _read(parse, path, doc, 0), lambda: None)
    start = _forked if threading.active_count() == 1 else _started
    collect, stop = start(path, doc, parse, memory_mb)
    return Reading(path, seconds, memory_mb, started, collect, stop)


AHEAD = 2  # documents read in their children at once (the machine's two cores)
T = TypeVar("T")
U = TypeVar("U")


def read_ahead(items: Iterable[T], start: Callable[[T], U], reading_of: Callable[[U], Reading | None],
               ahead: int = AHEAD) -> Generator[U, None, None]:
    """Yield ``start(item)`` for each item, in order, while the readings of up to ``ahead`` of them (those whose
    ``reading_of`` is not None) run in their children; when the caller stops (close it: ``contextlib.closing``),
    the readings not yet yielded are stopped."""
    todo, started = iter(items), collections.deque[U]()

    def running() -> int:
        return sum(1 for u in started if reading_of(u) is not None)

    try:
        while True:
            if running() < ahead:
                for item in todo:  # goes on where the last look stopped
                    started.append(start(item))
                    if running() >= ahead:
                        break
            if not started:
                return
            yield started.popleft()
    finally:  # a caller that stops (an error, ^C) leaves no reader running
        for u in started:
            reading = reading_of(u)
            if reading is not None:
                reading.stop()


def finished(path: Path, document: Document, cut: str | None) -> Reading:
    """Return a ``Reading`` already done: a document read earlier (the chat reads an upload before it goes
    into the documents folder), handed on without reading it again."""
    return Reading(Path(path), 0.0, 0, time.monotonic(), lambda left: ("ok", (document, cut)), lambda: None)


def _answer(path: Path, kind: str, value: Any, seconds: float, memory_mb: int) -> tuple[Document, str | None]:
    """Return the child's document and cut line, or raise its DocumentError."""
    if kind == "ok":
        document, note = value
        return document, note
    if kind == "timeout":
        raise DocumentError(f"{path}: skipped: reading it took more than {seconds:g} s (a damaged or hostile "
                            "file?); raise QA_PARSE_SECONDS if it is a sound, very long document")
    if kind == "memory" and memory_mb <= 0:
        raise DocumentError(f"{path}: skipped: the memory ran out while reading it")
    if kind == "memory":
        raise DocumentError(f"{path}: skipped: reading it needed more than {memory_mb} MB of memory; "
                            "raise QA_PARSE_MEMORY_MB if it is a sound, very large document")
    if kind == "died":
        raise DocumentError(_died(path, value, memory_mb))
    raise DocumentError(value)


Started = tuple[Callable[[float | None], tuple[str, Any]], Callable[[], None]]


def _forked(path: Path, doc: str, parse: Parser, memory_mb: int) -> Started:
    """Start the reader in a forked child; return (collect, stop) for its ``Reading``."""
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, parse, path, doc, memory_mb), daemon=True)
    child.start()
    send.close()

    def stop() -> None:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()

    def collect(left: float | None) -> tuple[str, Any]:
        try:
            if not receive.poll(left):
                return "timeout", None
            try:
                return receive.recv()
            except (EOFError, OSError):
                child.join(5)
                return "died", child.exitcode
        finally:
            stop()

    return collect, stop


def _started(path: Path, doc: str, parse: Parser, memory_mb: int) -> Started:
    """Start the reader in a fresh ``python -m qa.budget`` (safe from a threaded program); return
    (collect, stop) for its ``Reading``."""
    reader = f"{parse.__module__}:{parse.__qualname__}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen([sys.executable, "-m", "qa.budget", reader, str(memory_mb), str(path), doc],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env)

    def stop() -> None:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()

    def collect(left: float | None) -> tuple[str, Any]:
        try:
            out, _ = proc.communicate(timeout=left)
        except subprocess.TimeoutExpired:
            stop()
            return "timeout", None
        if proc.returncode != 0 or not out:
            return "died", proc.returncode
        try:
            return pickle.loads(out)  # our own child's answer, never a file
        except Exception:
            return "died", proc.returncode

    return collect, stop


def _died(path: Path, code: int | None, memory_mb: int) -> str:
    """The message for a reader that ended without an answer (killed, crashed in C code)."""
    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return (f"{path}: skipped: the reader stopped ({how}) while reading it (a damaged or hostile file, "
            f"or more than {memory_mb} MB of memory)")


def _child(send: Connection, parse: Parser, path: Path, doc: str, memory_mb: int) -> None:
    """In a forked child: send ``_read``'s answer to the parent."""
    result = _read(parse, path, doc, memory_mb)
    try:
        send.send(result)
    except MemoryError:
        send.send(("memory", ""))
    send.close()


def _read(parse: Parser, path: Path, doc: str, memory_mb: int) -> tuple[str, Any]:
    """In the child (or here, without a budget): set the memory limit, parse; return ("ok", (Document
    within the document limits, what was cut or None)) or (kind, message)."""
    try:
        if memory_mb > 0:
            page = os.sysconf("SC_PAGE_SIZE")
            with open("/proc/self/statm") as f:
                now = int(f.read().split()[0]) * page  # a forked child starts as big as its parent
            limit = now + memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        return "ok", cut(parse(path, doc), document_limits())  # cut here: the whole never reaches the caller
    except MemoryError:
        return "memory", ""
    except QAError as exc:
        return "error", str(exc)
    except RecursionError:
        return "error", f"{path}: skipped: the reader recursed too deep (a damaged or hostile file?)"
    except Exception as exc:  # a reader library's own error on a corrupt file
        return "error", f"{path}: could not be read ({type(exc).__name__}: {str(exc)[:200]}); is it damaged?"


def main(argv: list[str]) -> int:
    """``python -m qa.budget MODULE:READER MEMORY_MB PATH DOC``: write the pickled answer to stdout."""
    module, _, name = argv[0].partition(":")
    answer = sys.stdout.buffer
    sys.stdout = sys.stderr  # whatever a reader prints must not mix with the answer
    parse = getattr(importlib.import_module(module), name)
    result = _read(parse, Path(argv[2]), argv[3], int(argv[1]))
    try:
        data = pickle.dumps(result)
    except MemoryError:
        data = pickle.dumps(("memory", ""))
    answer.write(data)
    answer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
