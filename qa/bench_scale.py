"""Scale curve for ``qa bench``: synthetic vectors, each FAISS kind built and searched at a size.

The vectors are synthetic where the text does not matter: mixtures of real corpus
embeddings plus noise, L2-normalised. Each kind (``qa.vectors``) is measured for
build time, size on disk, memory growth, query latency on one thread and
recall@10 against exact search.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np


def ms(seconds: Sequence[float]) -> dict[str, float]:
    """Return p50 and p95 of ``seconds`` in milliseconds."""
    xs = sorted(seconds)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    return {"p50_ms": round(1000 * statistics.median(xs), 3), "p95_ms": round(1000 * p95, 3)}


def synthetic(seeds: np.ndarray, n: int, rng: np.random.Generator, noise: float = 0.3) -> np.ndarray:
    """Return ``n`` unit vectors: random mixtures of two seed embeddings plus Gaussian noise."""
    out = np.empty((n, seeds.shape[1]), dtype=np.float32)
    for start in range(0, n, 65536):
        m = min(65536, n - start)
        a, b = rng.integers(0, len(seeds), m), rng.integers(0, len(seeds), m)
        w = rng.random((m, 1), dtype=np.float32)
        x = w * seeds[a] + (1 - w) * seeds[b]
        x += rng.standard_normal(x.shape, dtype=np.float32) * (noise / np.sqrt(seeds.shape[1]))
        out[start:start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def _make_index(kind: str, vectors: np.ndarray) -> Any:
    from qa import vectors as vectors_mod

    return vectors_mod.build(vectors, kind)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    """Return mean recall@k of ``found`` ids against ``truth`` ids (both (nq, k))."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)]))


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def scale_point(seeds: np.ndarray, n: int, n_queries: int = 200, kinds: Sequence[str] = ("flat", "hnsw", "ivf"),
                efs: Sequence[int] = (16, 32, 64, 128, 256), nprobes: Sequence[int] = (8, 16, 32, 64),
                build_threads: int = 2, seed: int = 0) -> dict[str, Any]:
    """Build each index kind on ``n`` synthetic vectors; return build time, size, latency and recall@10."""
    import faiss

    from qa import vectors as vectors_mod

    rng = np.random.default_rng(seed)
    vectors = synthetic(seeds, n, rng)
    queries = synthetic(seeds, n_queries, rng)
    faiss.omp_set_num_threads(build_threads)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    del exact
    out: dict[str, Any] = {"n": n, "dim": int(vectors.shape[1]), "vectors_mb": round(vectors.nbytes / 2**20, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            faiss.omp_set_num_threads(build_threads)
            rss = rss_mb()
            start = time.perf_counter()
            ix = _make_index(kind, vectors)
            build_s = time.perf_counter() - start
            path = Path(tmp) / f"{kind}.faiss"
            faiss.write_index(ix, str(path))
            row: dict[str, Any] = {"build_s": round(build_s, 3), "disk_mb": round(path.stat().st_size / 2**20, 1),
                                   "rss_growth_mb": round(rss_mb() - rss, 1)}
            faiss.omp_set_num_threads(1)  # as the app searches: one question at a time, one thread
            if kind == "hnsw":
                row["sweep"] = {}
                for ef in efs:
                    ix.hnsw.efSearch = ef
                    row["sweep"][f"ef{ef}"] = _latency(ix, queries, truth)
                ix.hnsw.efSearch = vectors_mod.HNSW_EF_SEARCH
            elif kind == "ivf":
                row["nlist"] = ix.nlist
                row["sweep"] = {}
                for p in nprobes:
                    ix.nprobe = p
                    row["sweep"][f"nprobe{p}"] = _latency(ix, queries, truth)
                ix.nprobe = vectors_mod.IVF_NPROBE
            row.update(_latency(ix, queries, truth))
            if kind == "flat":
                faiss.omp_set_num_threads(build_threads)
                row["p50_ms_all_threads"] = _latency(ix, queries, truth)["p50_ms"]
                start = time.perf_counter()
                loaded = faiss.read_index(str(path))
                row["load_s"] = round(time.perf_counter() - start, 3)
                start = time.perf_counter()
                mapped = faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
                row["mmap_load_s"] = round(time.perf_counter() - start, 4)
                del loaded, mapped
            out[kind] = row
            del ix
    return out




def _latency(ix: Any, queries: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    found = np.empty_like(truth)
    times = []
    for i in range(len(queries)):
        start = time.perf_counter()
        _, ids = ix.search(queries[i:i + 1], 10)
        times.append(time.perf_counter() - start)
        found[i] = ids[0]
    return {**ms(times), "recall@10": round(recall(found, truth), 4)}


def crossover(curve: list[dict[str, Any]], budget_ms: float = 10.0) -> int | None:
    """Return the corpus size where exact search's p50 reaches ``budget_ms`` (linear in n), from the largest point."""
    points = [(p["n"], p["flat"]["p50_ms"]) for p in curve if "flat" in p]
    if not points:
        return None
    n, t = max(points)
    return int(round(n * budget_ms / t, -3)) if t > 0 else None


# --- the run -------------------------------------------------------------------------------------
