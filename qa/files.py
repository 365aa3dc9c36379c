"""Files the program writes (the feedback file, the index's manifest and notes, settings.json) opened so
that a link put in their place is never followed and a pipe never blocks: the last part of the path is
opened with ``O_NOFOLLOW`` and ``O_NONBLOCK``, and anything but a regular file is refused with
``NotRegular`` (an OSError naming the file), before a byte is read or written.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path


class NotRegular(OSError):
    """The path is a link, a pipe, a device or a folder: the program reads and writes only regular files."""


def open_regular(path: Path, flags: int, mode: int = 0o644) -> int:
    """Return a file descriptor of ``path`` opened with ``flags`` (plus no-follow, non-blocking) when it is
    a regular file, else raise NotRegular (a link, a pipe, a device) or the OSError of the open."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENXIO, errno.EISDIR):  # a link; a pipe nobody reads; a folder
            raise _not_regular(path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _not_regular(path)
    os.set_blocking(fd, True)
    return fd


def _not_regular(path: Path) -> NotRegular:
    return NotRegular(errno.EINVAL, "is a link, a pipe, a device or a folder, not a regular file; "
                      "move it aside", str(path))


def read_text(path: Path, max_bytes: int | None = None, errors: str = "strict") -> str:
    """Return the text of a regular file of at most ``max_bytes`` (raises NotRegular, FileNotFoundError,
    UnicodeDecodeError, or OSError EFBIG when larger: never read into memory whole)."""
    with os.fdopen(open_regular(path, os.O_RDONLY), "rb") as f:
        if max_bytes is not None and os.fstat(f.fileno()).st_size > max_bytes:
            raise OSError(errno.EFBIG, f"over {max_bytes >> 20} MB; move it aside", str(path))
        return f.read().decode("utf-8", errors)


def append_text(path: Path, text: str) -> None:
    """Append ``text`` to a regular file, made when missing (raises NotRegular for anything else)."""
    with os.fdopen(open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT), "ab") as f:
        f.write(text.encode("utf-8"))


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a new temporary file beside it (never an existing
    name, never through a link), synced, then renamed over ``path``."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    fd = open_regular(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
