"""Vector store: where the passages' vectors live, added and deleted by document, searched with the
document filter inside the search.

``VectorStore`` is the seam: pooling, fusion, highlight and abstention (``search.py``) only call
``search``; the build (``index.py``) only calls ``add``, ``delete`` and ``commit``. Two stores
implement it:

- ``faiss`` (the default, embedded): a FAISS file in each index generation, written whole by
  every build (``FaissStore`` below);
- ``milvus:PATH.db`` (milvus-lite, in-process) or ``milvus://HOST:19530`` (a Milvus server):
  one collection per index, the document a partition-key field (``qa.store_milvus``).

The manifest's ``"store"`` record says which one an index uses, so searching needs no flag.
A vector is known by its chunk id (document + paragraph + chunk number), never by a position.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qa import indexfiles
from qa import vectors as vectors_mod
from qa.errors import IndexLoadError, QAError

FAISS_FILE = "vectors.faiss"
VECTORS_FILE = "vectors.npy"  # the build's own copy of the vectors, beside the FAISS file
EXACT_ROWS = 4096  # a filter to at most this many rows is scored directly on the vectors (no index scan)


class VectorStore(Protocol):
    """What the build and the search need from a vector store."""

    def add(self, doc: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add one document's chunk vectors (normalised float32) under their chunk ids."""

    def delete(self, doc: str) -> None:
        """Delete every vector of one document (nothing when it has none)."""

    def commit(self) -> dict[str, Any]:
        """Make the adds and deletes searchable; return the manifest's ``"store"`` record."""

    def search(self, vector: np.ndarray, k: int,
               docs: Collection[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Return (chunk ids, cosines) of the ``k`` nearest vectors, best first, of ``docs`` only when given."""

    def count(self) -> int:
        """Return how many vectors the store holds."""

    def describe(self) -> dict[str, Any]:
        """Return what the store is (kind, where, index type and parameters) for people and the manifest."""


def parse_spec(spec: str) -> dict[str, str]:
    """Return ``{"kind": "faiss"}`` or ``{"kind": "milvus", "uri": …}`` for a ``--store`` value, or raise QAError."""
    if spec in ("", "faiss"):
        return {"kind": "faiss"}
    if spec.startswith(("milvus://", "milvus+https://")):
        scheme = "https" if spec.startswith("milvus+https://") else "http"
        return {"kind": "milvus", "uri": f"{scheme}://{spec.split('://', 1)[1]}"}
    if spec.startswith("milvus:"):
        path = spec[len("milvus:"):]
        if not path.endswith(".db"):
            raise QAError(f"--store {spec}: a milvus-lite store is a file ending in .db, e.g. milvus:index.db")
        if not re.fullmatch(r"[A-Za-z0-9._-]{1,36}", Path(path).name):  # what milvus-lite 2.5.1 accepts
            raise QAError(f"--store {spec}: milvus-lite takes a file name of at most 36 letters, digits, '.', '-' "
                          "or '_', e.g. milvus:index/vectors.db")
        return {"kind": "milvus", "uri": str(Path(path).resolve())}
    raise QAError(f"--store: unknown store '{spec}'; use faiss, milvus:PATH.db or milvus://HOST:19530")


def for_build(spec: dict[str, str], index_dir: Path, generation: Path, previous: dict[str, Any] | None,
              dim: int, n: int, faiss_kind: str = "auto") -> tuple[VectorStore, bool]:
    """Return (the store a build writes into, whether it already holds the last build's vectors:
    then only changed documents are deleted and re-added)."""
    if spec["kind"] == "faiss":
        return FaissStore.empty(generation / FAISS_FILE, vectors_mod.choose_kind(faiss_kind, n), dim), False
    from qa import store_milvus

    return store_milvus.for_build(spec["uri"], index_dir, previous, dim, n)


def open_store(record: dict[str, Any], generation: Path, ids: Sequence[str], docs: Sequence[str]) -> VectorStore:
    """Return the store a manifest's ``"store"`` record names, ready to search; ``ids`` and ``docs``
    are the generation's chunk ids and their documents, in order."""
    if record.get("kind", "faiss") == "faiss":
        return FaissStore.load(generation / FAISS_FILE, ids, docs)
    if record["kind"] == "milvus":
        from qa import store_milvus

        return store_milvus.MilvusStore.open(record)
    raise QAError(f"index store '{record['kind']}' is unknown to this version of qa; rebuild with: qa build")


def retire(last: dict[str, Any] | None, current: dict[str, Any]) -> str | None:
    """Drop the Milvus collection of the last build's record when this build's vectors went elsewhere
    (FAISS, another Milvus, or a new collection not reached through an alias); return a one-line
    note of what was dropped or left, or None when nothing was. Called once the new manifest is
    written, so a failed build never loses the index it replaces."""
    if not last or last.get("kind") != "milvus" or not last.get("collection"):
        return None
    if current.get("kind") == "milvus" and current.get("uri") == last.get("uri") \
            and (current.get("collection") == last["collection"] or current.get("aliased", True)):
        return None  # the same collection, or a new one the alias moved to (the old one dropped at commit)
    from qa import store_milvus

    where = f"{last['collection']} at {last['uri']}"
    try:
        dropped = store_milvus.drop(last)
    except Exception as exc:  # an unreachable server: the build stands, the user hears what is left
        return (f"left the old Milvus collection {where} (could not drop it: {store_milvus.short(exc)}); "
                f"drop it there when it is reachable")
    return f"dropped the old Milvus collection {where}: this index's vectors are now in {_place(current)}" \
        if dropped != "nothing (already gone)" else None


def _place(record: dict[str, Any]) -> str:
    if record.get("kind") == "milvus":
        return f"the Milvus collection {record.get('collection')} at {record.get('uri')}"
    return "FAISS in the index folder"


class FaissStore:
    """Vectors in one FAISS file per index generation: a build adds every document, ``commit``
    writes the file (an index is never changed in place: the next build writes a new generation)."""

    def __init__(self, path: Path, kind: str, dim: int, index: Any = None,
                 ids: Sequence[str] = (), docs: Sequence[str] = (), vectors: np.ndarray | None = None) -> None:
        self.path, self.kind, self.dim, self.index, self.vectors = path, kind, dim, index, vectors
        self.ids = list(ids)
        self._pending: dict[str, tuple[list[str], np.ndarray]] = {}
        self._doc_rows = _rows_by_doc(docs)
        self._mapped: list[tuple[Path, os.stat_result]] = []  # the files this store reads through memory maps

    @classmethod
    def empty(cls, path: Path, kind: str, dim: int) -> FaissStore:
        """Return a store to build into ``path``."""
        return cls(path, kind, dim)

    @classmethod
    def load(cls, path: Path, ids: Sequence[str], docs: Sequence[str]) -> FaissStore:
        """Return the store in ``path`` (memory-mapped where FAISS can) whose rows are ``ids`` of ``docs``."""
        index = vectors_mod.load(path)
        if index.ntotal != len(ids):
            raise ValueError(f"{path.name}: {index.ntotal} vectors for {len(ids)} chunks")
        vectors = None
        if (path.parent / VECTORS_FILE).is_file():  # mapped: only a filtered search's rows are read
            vectors = indexfiles.read_npy(path.parent / VECTORS_FILE, "f", 2, mmap=True)
            if vectors.shape != (index.ntotal, index.d):
                raise indexfiles.Damaged(f"{path.parent / VECTORS_FILE}: {vectors.shape} vectors for "
                                         f"{index.ntotal} of dimension {index.d}")
            ends = np.concatenate([vectors[:32], vectors[-32:]])  # a sample: reading all would undo the mapping
            if not np.isfinite(ends).all():
                raise indexfiles.Damaged(f"{path.parent / VECTORS_FILE}: holds values that are not finite numbers")
        store = cls(path, _kind_of(index), index.d, index, ids, docs, vectors)
        store._mapped = [(p, p.stat()) for p in (path, path.parent / VECTORS_FILE) if p.is_file()]
        return store

    def add(self, doc: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Add one document's vectors (written by ``commit``)."""
        self._writable()
        self._pending[doc] = (list(ids), np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim))

    def delete(self, doc: str) -> None:
        """Drop one document's vectors from the build."""
        self._writable()
        self._pending.pop(doc, None)

    def commit(self) -> dict[str, Any]:
        """Build the FAISS index of every added document and write it; return the manifest record."""
        self._writable()
        docs = [doc for doc, (ids, _) in self._pending.items() for _ in ids]
        self.ids = [i for ids, _ in self._pending.values() for i in ids]
        parts = [v for _, v in self._pending.values()]
        vectors = np.concatenate(parts) if parts else np.zeros((0, self.dim), dtype=np.float32)
        self.index, self.vectors = vectors_mod.build(vectors, self.kind), vectors
        self.kind = _kind_of(self.index)  # too few vectors for IVF cells: built exact
        vectors_mod.save(self.index, self.path)
        self._doc_rows = _rows_by_doc(docs)
        self._pending = {}
        return self.describe()

    def _writable(self) -> None:
        if self.index is not None:
            raise QAError(f"{self.path}: a FAISS index is written whole by qa build, never changed in place")

    def search(self, vector: np.ndarray, k: int,
               docs: Collection[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Return (chunk ids, cosines) of the ``k`` nearest chunks, of ``docs`` only when given."""
        self._check_mapped()
        rows = None
        if docs is not None:
            parts = [self._doc_rows[d] for d in sorted(docs) if d in self._doc_rows]
            rows = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        k = min(k, self.count() if rows is None else len(rows))
        if k <= 0:
            return [], np.zeros(0, dtype=np.float32)
        if rows is not None and len(rows) <= EXACT_ROWS and self.vectors is not None:
            # a few documents: scoring their rows directly beats scanning the index for them
            rows = np.sort(rows)
            sims = np.asarray(self.vectors[rows], dtype=np.float32) @ np.asarray(vector, dtype=np.float32)
            best = np.argsort(-sims, kind="stable")[:k]
            return [self.ids[r] for r in rows[best]], sims[best]
        sims, found = vectors_mod.search(self.index, vector, k, rows)
        keep = found >= 0
        return [self.ids[r] for r in found[keep]], sims[keep]

    def _check_mapped(self) -> None:
        """Raise IndexLoadError when a file this store maps was cut short in place since it was loaded: reading
        a mapped page past a file's end kills the whole process (SIGBUS), the chat with it. A file a build
        removed or replaced since is no concern: the map holds the old one, which no name reaches."""
        for path, was in self._mapped:
            try:
                now = path.stat()
            except OSError:
                continue
            if (now.st_dev, now.st_ino) == (was.st_dev, was.st_ino) and now.st_size != was.st_size:
                raise IndexLoadError(f"{path}: changed on disk since the index was loaded ({was.st_size:,} bytes, now "
                                     f"{now.st_size:,}); rebuild with: qa build --index {path.parent.parent}, "
                                     "then restart the chat")

    def count(self) -> int:
        """Return how many vectors the store holds."""
        return int(self.index.ntotal) if self.index is not None else sum(len(i) for i, _ in self._pending.values())

    def describe(self) -> dict[str, Any]:
        """Return the manifest record: kind, FAISS index type and its search parameters."""
        params = {"flat": {}, "ivf": {"nprobe": vectors_mod.IVF_NPROBE},
                  "hnsw": {"M": vectors_mod.HNSW_M, "efSearch": vectors_mod.HNSW_EF_SEARCH}}[self.kind]
        if self.kind == "ivf" and self.index is not None and hasattr(self.index, "nlist"):
            params = {"nlist": int(self.index.nlist), **params}
        return {"kind": "faiss", "index_type": self.kind, "params": params, "metric": "IP", "file": FAISS_FILE}


def _kind_of(index: Any) -> str:
    return "hnsw" if hasattr(index, "hnsw") else "ivf" if hasattr(index, "nprobe") else "flat"


def _rows_by_doc(docs: Sequence[str]) -> dict[str, np.ndarray]:
    """Return each document's rows in a list of per-row documents."""
    if not len(docs):
        return {}
    arr = np.asarray(docs, dtype=object)
    order = np.argsort(arr, kind="stable")
    names, starts = np.unique(arr[order], return_index=True)
    # no names: np.split still gives one (empty) piece
    return {str(name): rows for name, rows in zip(names, np.split(order.astype(np.int64), starts[1:]), strict=False)}
