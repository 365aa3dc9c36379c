"""Parse budget: read one document in a child process with a wall-time and a memory limit.

Whatever a reader does with a hostile or broken file (a loop, a blow-up, a crash), the
caller gets the ``Document`` or a one-line ``DocumentError`` naming the file, in bounded
time, and the program goes on: ``qa build`` and the chat skip the file, ``qa parse``
says why. The child is forked directly from a single-threaded program (``qa parse``,
``qa build``: a few milliseconds) and from a small fork server otherwise (the chat, whose
threads must not be forked). Limits: ``QA_PARSE_SECONDS`` (default 300) and
``QA_PARSE_MEMORY_MB`` (address space the reader may add, default 4096); 0 turns the
budget off (the reader then runs in this process).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from qa.errors import DocumentError, QAError
from qa.parse import parse_file
from qa.records import Document

DEFAULT_SECONDS = 300.0
DEFAULT_MEMORY_MB = 4096
Parser = Callable[[Path, str], Document]


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
    """Return ``parse(path, doc)`` run in a child process within the budget, or raise DocumentError."""
    path = Path(path)
    doc = doc or path.name
    default_seconds, default_memory = limits()
    seconds = default_seconds if seconds is None else seconds
    memory_mb = default_memory if memory_mb is None else memory_mb
    if seconds <= 0 and memory_mb <= 0:
        return parse(path, doc)
    ctx = _context()
    receive, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_child, args=(send, parse, path, doc, memory_mb), daemon=True)  # type: ignore[attr-defined]
    child.start()
    send.close()
    try:
        if not receive.poll(seconds if seconds > 0 else None):
            raise DocumentError(f"{path}: skipped: reading it took more than {seconds:g} s (a damaged or hostile "
                                "file?); raise QA_PARSE_SECONDS if it is a sound, very long document")
        try:
            kind, value = receive.recv()
        except (EOFError, OSError):
            child.join(5)
            raise DocumentError(_died(path, child.exitcode, memory_mb)) from None
    finally:
        if child.is_alive():
            child.kill()
        child.join(5)
        receive.close()
    if kind == "ok":
        return value  # type: ignore[no-any-return]
    if kind == "memory":
        raise DocumentError(f"{path}: skipped: reading it needed more than {memory_mb} MB of memory; "
                            "raise QA_PARSE_MEMORY_MB if it is a sound, very large document")
    raise DocumentError(value)


def _died(path: Path, code: int | None, memory_mb: int) -> str:
    """The message for a reader that ended without an answer (killed, crashed in C code)."""
    how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return (f"{path}: skipped: the reader stopped ({how}) while reading it (a damaged or hostile file, "
            f"or more than {memory_mb} MB of memory)")


def _child(send: Connection, parse: Parser, path: Path, doc: str, memory_mb: int) -> None:
    """In the child: set the memory limit, parse, send ("ok", Document) or (kind, message)."""
    try:
        if memory_mb > 0:
            page = os.sysconf("SC_PAGE_SIZE")
            with open("/proc/self/statm") as f:
                now = int(f.read().split()[0]) * page  # the child starts as big as its parent
            limit = now + memory_mb * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        result: tuple[str, Any] = ("ok", parse(path, doc))
    except MemoryError:
        result = ("memory", "")
    except QAError as exc:
        result = ("error", str(exc))
    except RecursionError:
        result = ("error", f"{path}: skipped: the reader recursed too deep (a damaged or hostile file?)")
    except Exception as exc:  # a reader library's own error on a corrupt file
        result = ("error", f"{path}: could not be read ({type(exc).__name__}: {str(exc)[:200]}); is it damaged?")
    try:
        send.send(result)
    except MemoryError:
        send.send(("memory", ""))
    send.close()


def _context() -> Any:
    """Fork a single-threaded program directly (cheap); a threaded one through the fork server."""
    if threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(["qa.parse", "qa.budget", "qa.pdf"])
    return ctx
