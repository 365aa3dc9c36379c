"""Vector search structures: kind chosen by size, each kind finds the true neighbours, save/load round trip."""

from __future__ import annotations

import numpy as np
import pytest

from qa import vectors
from qa.errors import QAError


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_auto_is_exact_below_the_crossover_and_ivf_above() -> None:
    assert vectors.choose_kind("auto", vectors.APPROX_FROM - 1) == "flat"
    assert vectors.choose_kind("auto", vectors.APPROX_FROM) == "ivf"
    assert vectors.choose_kind("hnsw", 10) == "hnsw"
    with pytest.raises(QAError, match="--faiss"):
        vectors.choose_kind("annoy", 10)


def test_ivf_lists_grow_with_the_square_root_and_keep_enough_training_points() -> None:
    assert vectors.ivf_lists(1_000_000) == 4000
    assert vectors.ivf_lists(10_000) == 256
    assert vectors.ivf_lists(100) == 16


@pytest.mark.parametrize("kind", vectors.KINDS)
def test_each_kind_finds_the_exact_neighbours_of_stored_vectors(kind: str, tmp_path) -> None:
    data = unit(2000)
    index = vectors.build(data, kind)
    assert index.ntotal == 2000
    queries = data[:50] + 0.01 * unit(50, seed=1)
    exact = data @ queries.T
    truth = np.argsort(-exact, axis=0)[:10].T
    _, found = index.search(np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True)), 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= (1.0 if kind == "flat" else 0.9)
    assert found[0][0] == 0  # a vector's nearest neighbour is itself
    path = tmp_path / "v.faiss"
    vectors.save(index, path)
    loaded = vectors.load(path)
    _, again = loaded.search(np.ascontiguousarray(queries / np.linalg.norm(queries, axis=1, keepdims=True)), 10)
    assert (again == found).all()


def test_ivf_on_too_few_vectors_falls_back_to_exact_search() -> None:
    index = vectors.build(unit(100), "ivf")
    assert not hasattr(index, "nprobe") and index.ntotal == 100


def test_loading_sets_the_search_depth() -> None:
    hnsw = vectors.tune(vectors.build(unit(300), "hnsw"))
    assert hnsw.hnsw.efSearch == vectors.HNSW_EF_SEARCH
    ivf = vectors.build(unit(2000), "ivf")
    assert ivf.nprobe == vectors.IVF_NPROBE


@pytest.mark.parametrize("kind", vectors.KINDS)
def test_a_search_among_some_rows_is_exact_for_every_kind(kind: str, tmp_path) -> None:
    x = unit(5000, seed=3)
    vectors.save(vectors.build(x, kind), tmp_path / "v.faiss")
    index = vectors.load(tmp_path / "v.faiss")  # mapped, as the app searches
    rows = np.arange(4000, 4030, dtype=np.int64)  # a small "document", far from the question's neighbours
    query = x[7]
    sims, found = vectors.search(index, query, 10, rows)
    exact = rows[np.argsort(-(x[rows] @ query), kind="stable")[:10]]
    assert list(found) == list(exact)
    assert np.allclose(sims, x[exact] @ query, atol=1e-5)
    sims, found = vectors.search(index, query, 50, rows)  # more asked than there are rows
    assert sorted(found[found >= 0]) == list(rows) and (found[30:] == -1).all()
