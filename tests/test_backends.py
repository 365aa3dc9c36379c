"""embed backends: the backend is part of the recorded model name; ONNX export is local and matches torch."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

from qa.embed import DEFAULT_MODEL, Embedder, model_name, split_name
from qa.errors import ModelError


def test_backend_is_part_of_the_model_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.delenv("QA_BACKEND", raising=False)
    assert model_name() == DEFAULT_MODEL
    assert model_name(backend="torch") == DEFAULT_MODEL
    assert model_name(backend="onnx-int8") == f"{DEFAULT_MODEL}+onnx-int8"
    assert model_name(f"{DEFAULT_MODEL}+onnx") == f"{DEFAULT_MODEL}+onnx"  # a manifest's name loads its backend
    monkeypatch.setenv("QA_BACKEND", "onnx")
    assert model_name() == f"{DEFAULT_MODEL}+onnx"
    assert split_name(f"{DEFAULT_MODEL}+onnx-int8") == (DEFAULT_MODEL, "onnx-int8")
    assert split_name("my+model") == ("my+model", "torch")  # a '+' that names no backend is part of the name
    with pytest.raises(ModelError, match="unknown"):
        model_name(backend="tpu")


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None and not os.environ.get("CI"),
                    reason="needs the fast extra (.ci/run installs it; under CI this never skips)")
def test_onnx_export_is_local_and_matches_torch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QA_CACHE", str(tmp_path))
    texts = ["The EEC opened a delegation in Tokyo in 1974.", "nuclear", "Apples bloom in April."] * 12
    torch_vectors = Embedder(backend="torch").encode(texts)
    onnx = Embedder(backend="onnx")
    assert onnx.name == f"{DEFAULT_MODEL}+onnx"
    assert list(tmp_path.rglob("model.onnx"))  # exported into the local cache, nothing downloaded
    vectors = onnx.encode(texts)
    assert vectors.shape == torch_vectors.shape and vectors.dtype == np.float32
    assert float(np.min(np.sum(vectors * torch_vectors, axis=1))) > 0.9999


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None and not os.environ.get("CI"),
                    reason="needs the fast extra (.ci/run installs it; under CI this never skips)")
def test_questions_go_through_the_onnx_twin_with_torch_equal_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    torch_model = Embedder()
    searcher = Embedder(queries=True)
    assert searcher.name == torch_model.name == DEFAULT_MODEL  # same model, same index
    assert searcher._query_onnx is not None
    question = ["Which source says the EU would seek a defence pact with Japan?", "archipelago", "shortfall"]
    assert float(np.min(np.sum(searcher.encode(question) * torch_model.encode(question), axis=1))) > 0.9999
    batch = [f"Passage number {i} about harbours and the river." for i in range(40)]  # a build batch: torch
    assert np.allclose(searcher.encode(batch), torch_model.encode(batch), atol=1e-6)
    monkeypatch.setenv("QA_QUERY_ONNX", "0")
    assert Embedder(queries=True)._query_onnx is None
