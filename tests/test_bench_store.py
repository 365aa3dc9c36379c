"""bench_store: the stores side by side on synthetic vectors (tiny sizes here; the real run is docs/scale.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from qa import bench_store


def seeds() -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((50, 32)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def check(row: dict, n: int) -> None:
    assert row["count"] == n and row["recall@10"] == 1.0  # exact below 100k vectors
    assert row["ingest_per_s"] > 0 and 0 < row["p50_ms"] <= row["p95_ms"]
    assert row["filtered"]["p50_ms"] > 0 and row["disk_mb"] > 0


def test_faiss_is_measured_and_the_table_shows_it(tmp_path: Path) -> None:
    result = bench_store.run({"kind": "faiss"}, [1000], seeds(), n_queries=10, work=tmp_path)
    check(result["points"][0]["faiss"], 1000)
    assert "| 1,000 | faiss | flat |" in bench_store.table(result)


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("milvus_lite") is None, reason="milvus-lite not installed")
def test_milvus_lite_is_measured_beside_faiss(tmp_path: Path) -> None:
    result = bench_store.run({"kind": "milvus", "uri": str(tmp_path / "m.db")}, [1000], seeds(), n_queries=10,
                             work=tmp_path)
    point = result["points"][0]
    check(point["faiss"], 1000)
    check(point["milvus"], 1000)
    assert point["milvus"]["index_type"] == "FLAT"
