"""Vector search structures: which FAISS index to build for a corpus, how to build, save and load it.

Exact search (``IndexFlatIP``) below ``APPROX_FROM`` chunks; above it an IVF index
(inverted lists over k-means cells), which the scale curve in
docs/performance.md measured faster to build and more accurate than HNSW at one
million vectors. HNSW stays available with ``--faiss hnsw``. All three use inner
product on normalised vectors (cosine).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qa.errors import QAError

KINDS = ("flat", "hnsw", "ivf")
APPROX_FROM = 100_000  # chunks; exact search reaches ~10 ms per question here on one core
HNSW_M, HNSW_EF_CONSTRUCTION = 32, 80
HNSW_EF_SEARCH = 128  # recall@10 0.98 at 100k (0.94 at 64)
IVF_NPROBE = 32  # cells visited per question: recall@10 0.999 at 1M (docs/performance.md)
TRAIN_PER_LIST = 64


def choose_kind(kind: str, n: int) -> str:
    """Return the index kind to build for ``n`` chunks ("auto" picks by size), or raise QAError."""
    if kind == "auto":
        return "ivf" if n >= APPROX_FROM else "flat"
    if kind not in KINDS:
        raise QAError(f"--faiss: unknown index kind '{kind}'; use auto, {', '.join(KINDS)}")
    return kind


def ivf_lists(n: int) -> int:
    """Return the number of IVF cells for ``n`` vectors: about 4·√n, ≥ 39 training points each, ≥ 16."""
    return max(16, int(min(4 * np.sqrt(n), n / 39)))


def build(vectors: np.ndarray, kind: str) -> Any:
    """Return a FAISS index of ``kind`` holding ``vectors`` (float32, normalised)."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if kind == "ivf" and n < 16 * 39:
        kind = "flat"  # too few vectors to train cells; exact search is instant anyway
    index: faiss.Index
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    elif kind == "ivf":
        nlist = ivf_lists(n)
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rows = np.random.default_rng(0).choice(n, min(n, TRAIN_PER_LIST * nlist), replace=False)
        index.train(vectors[np.sort(rows)])
    else:
        index = faiss.IndexFlatIP(dim)
    if n:
        index.add(vectors)
    tune(index)
    return index


def tune(index: Any) -> Any:
    """Return ``index`` with its search depth set (efSearch for HNSW, nprobe for IVF)."""
    if hasattr(index, "hnsw"):
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if hasattr(index, "nprobe"):
        index.nprobe = IVF_NPROBE
    return index


def search(index: Any, query: np.ndarray, k: int, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (similarities, rows) of the ``k`` nearest vectors to ``query``, among ``rows`` only when
    given (rows -1 where fewer exist). The filter is inside the search, so a small document's rows are
    all candidates however many other rows are closer; a filtered search is exact for every kind."""
    import faiss

    q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
    if rows is None:
        sims, found = index.search(q, k)
        return sims[0], found[0]
    selector = faiss.IDSelectorBatch(np.ascontiguousarray(rows, dtype=np.int64))
    if hasattr(index, "nprobe"):  # IVF: every cell, so a row far from the question's cells still counts
        # faiss's Python wrapper takes the fields as keyword arguments; its type stubs do not say so
        params: Any = faiss.SearchParametersIVF(sel=selector, nprobe=index.nlist)  # type: ignore[call-arg]
    else:
        params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        if hasattr(index, "hnsw"):  # a graph walk under a narrow filter misses rows: scan its flat storage
            index = faiss.downcast_index(index.storage)
    sims, found = index.search(q, k, params=params)
    return sims[0], found[0]


def save(index: Any, path: Path) -> None:
    """Write a FAISS index to ``path``."""
    import faiss

    faiss.write_index(index, str(path))


def load(path: Path) -> Any:
    """Return the FAISS index in ``path``, memory-mapped where FAISS can (flat, IVF), tuned for search."""
    import faiss

    try:  # mapped, not copied: instant load, pages shared between processes
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
    except RuntimeError:  # a type faiss cannot map (HNSW)
        index = faiss.read_index(str(path))
    return tune(index)


def query_threads() -> None:
    """Run numpy's BLAS and FAISS on one thread: a question's small products only lose by sharing
    them between cores (ten times so on a busy machine, see docs/performance.md)."""
    import faiss
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")
    faiss.omp_set_num_threads(1)
