"""The index's files read through one door: every value checked for type, range and depth.

``index.load`` (and the settings, the pending-store note, the lexical files) read the index's JSON,
JSON Lines and ``.npy`` files only here. A value that is not what the build writes — a string where
an object goes, a number of 400 digits, an array nested 10,000 deep, an array of the wrong shape or
type, bytes that are no ``.npy`` at all — raises ``Damaged`` (a ValueError naming the file and what
is wrong), never the reader's own error: the index then counts as damaged, ``qa build`` and
``qa serve`` rebuild it, ``qa search`` says so in one line.

A shape is a small description of what a value must be: ``str``, ``int``, ``float`` (an int or a
finite float), ``bool``, ``None``, a tuple of shapes (any of them), ``[shape]`` (a list of),
``Map(shape)`` (an object of any keys to values of a shape), or ``{"key": shape, "key?": shape}``
(an object with these keys; ``?`` marks one that may be missing; other keys are allowed, within
``MAX_DEPTH``).
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_DEPTH = 16  # deeper than anything a build writes
MAX_INT = 2**53  # counts, sizes, dimensions, page numbers: all far below
MAX_JSON_BYTES = 64 * 2**20  # a manifest, settings or bm25 vocabulary file; JSONL files are read line by line


class Damaged(ValueError):
    """An index file that is not what a build writes; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Map:
    """Shape of an object with any keys, each value of ``value``'s shape."""

    value: Any


def check(value: Any, shape: Any, where: str) -> Any:
    """Return ``value`` when it has ``shape`` (see the module docstring), else raise Damaged naming ``where``."""
    problem = _problem(value, shape, 0)
    if problem:
        raise Damaged(f"{where}: {problem}")
    return value


def _problem(value: Any, shape: Any, depth: int) -> str | None:
    if depth > MAX_DEPTH:
        return f"nested over {MAX_DEPTH} deep"
    if shape is None:
        return None if value is None else f"expected null, got {_kind(value)}"
    if isinstance(shape, tuple):
        problems = [_problem(value, one, depth) for one in shape]
        return None if any(p is None for p in problems) else next(p for p in problems if p)
    if shape is bool:
        return None if isinstance(value, bool) else f"expected true or false, got {_kind(value)}"
    if shape is int:
        ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT
        return None if ok else f"expected a whole number up to {MAX_INT}, got {_kind(value)}"
    if shape is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= 1e300 \
            and math.isfinite(value)
        return None if ok else f"expected a finite number, got {_kind(value)}"
    if shape is str:
        return None if isinstance(value, str) else f"expected text, got {_kind(value)}"
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"expected a list, got {_kind(value)}"
        return next((f"[{i}]: {p}" for i, v in enumerate(value) if (p := _problem(v, shape[0], depth + 1))), None)
    if isinstance(shape, Map):
        if not isinstance(value, dict):
            return f"expected an object, got {_kind(value)}"
        return next((f"{k[:40]!r}: {p}" for k, v in value.items() if (p := _problem(v, shape.value, depth + 1))), None)
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"expected an object, got {_kind(value)}"
        for key, inner in shape.items():
            name = key.rstrip("?")
            if name not in value:
                if key.endswith("?"):
                    continue
                return f"no {name!r}"
            if (p := _problem(value[name], inner, depth + 1)):
                return f"{name!r}: {p}"
        return next((f"{k[:40]!r}: {p}" for k, v in value.items() if k not in shape and f"{k}?" not in shape
                     and (p := _deep(v, depth + 1))), None)
    raise TypeError(f"not a shape: {shape!r}")


def _deep(value: Any, depth: int) -> str | None:
    """Return why a value no shape describes is too deep (None: within MAX_DEPTH)."""
    stack = [(value, depth)]
    while stack:
        v, d = stack.pop()
        if d > MAX_DEPTH:
            return f"nested over {MAX_DEPTH} deep"
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return None


def _kind(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value) if not isinstance(value, int) or abs(value) < 10**20 else f"a number of {len(str(abs(value)))} digits"
    names: dict[type, str] = {str: "text", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


def parse(text: str, where: str) -> Any:
    """Return the JSON value of ``text``, or raise Damaged (not JSON, nested past Python's limit, a number
    of thousands of digits)."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        what = "nested too deep" if isinstance(exc, RecursionError) else \
            f"not valid JSON at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not valid JSON"
        raise Damaged(f"{where}: {what}") from None


def _regular(path: Path) -> Path:
    """Return ``path`` when it is a regular file (a pipe would block the reader), else raise Damaged."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise Damaged(f"{path}: not a regular file")
    return Path(path)


def read_json(path: Path, shape: Any) -> Any:
    """Return the value of a JSON file when it has ``shape``, or raise Damaged (OSError when unreadable)."""
    path = _regular(path)
    with open(path, "rb") as f:
        raw = f.read(MAX_JSON_BYTES + 1)
    if len(raw) > MAX_JSON_BYTES:
        raise Damaged(f"{path}: over {MAX_JSON_BYTES >> 20} MB")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Damaged(f"{path}: not UTF-8 text") from None
    return check(parse(text, str(path)), shape, str(path))


def read_jsonl(path: Path, shape: Any) -> Iterator[Any]:
    """Yield each row of a JSON Lines file that has ``shape``; raise Damaged at the first that does not."""
    path = _regular(path)
    with open(path, encoding="utf-8", errors="strict") as f:
        try:
            for n, line in enumerate(f, start=1):
                if line.strip():
                    yield check(parse(line, f"{path}:{n}"), shape, f"{path}:{n}")
        except UnicodeDecodeError:
            raise Damaged(f"{path}: not UTF-8 text") from None


def read_npy(path: Path, kind: str, ndim: int, mmap: bool = False, finite: bool = False) -> np.ndarray:
    """Return the array of a ``.npy`` file whose dtype is of ``kind`` ("f": float, "i": integer) and which has
    ``ndim`` dimensions (and only finite values when ``finite``), or raise Damaged (OSError when missing)."""
    path = _regular(path)
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except OSError:
        raise
    except Exception as exc:  # numpy's errors for a damaged header or body vary (ValueError, SyntaxError, EOF…)
        raise Damaged(f"{path}: not a readable .npy file ({type(exc).__name__})") from None
    if not isinstance(array, np.ndarray) or array.dtype.kind not in (kind, "u" if kind == "i" else kind) \
            or array.ndim != ndim:
        raise Damaged(f"{path}: expected a {ndim}-D {'float' if kind == 'f' else 'integer'} array, "
                      f"got {getattr(array, 'ndim', '?')}-D {getattr(array, 'dtype', '?')}")
    if finite and array.size and not np.isfinite(array).all():
        raise Damaged(f"{path}: holds values that are not finite numbers")
    return array


# What each file of an index holds (qa/index.py writes them; older builds may lack the "?" keys).
DOCUMENT = {"sha256": str, "size": int, "mtime": float, "paragraphs": int, "footnotes": int, "chunks": int,
            "title?": (str, None), "authors?": [str], "year?": (int, None)}
STORE = {"kind": str, "uri?": str, "alias?": str, "aliased?": bool, "collection?": str, "dim?": int, "metric?": str,
         "partition_key?": (str, None), "index_type?": str, "params?": Map(int), "search_params?": Map(int),
         "consistency?": str, "file?": str, "doc_key?": str}
MANIFEST = {"format_version": int, "model": str, "model_fingerprint?": str, "dim": int, "max_tokens?": int,
            "pipeline?": str, "docs_dir?": str, "documents": Map(DOCUMENT), "skipped?": Map(str),
            "counts?": Map(int), "built_at?": str, "faiss?": str, "store?": STORE, "generation": str}
PARAGRAPH = {"id": str, "doc": str, "number": int, "section": (str, None), "page": (int, None),
             "page_end": (int, None), "text": str, "display": str, "footnotes?": [(int, str)],
             "page_label?": (str, None), "page_label_end?": (str, None)}
REFERENCE = {"kind": str, "start": int, "end": int, "status": str, "authority?": (str, None),
             "authority_note?": (int, str, None), "pin?": (str, None), "opinion?": (str, None), "resolved?": (str, None)}
FOOTNOTE = {"doc": str, "marker": (int, str), "text": str, "urls?": [str], "resolved?": (str, None),
            "resolved_marker?": (int, str, None), "unresolved?": bool, "references?": [REFERENCE]}
CHUNK = {"id": str, "paragraph_id": str, "kind": str, "text": str}
