"""Shared test fixtures: a tiny fake embedder, small corpora, and no network.

Outgoing sockets are blocked for every test (loopback stays open, so the web app
tests can talk to their own server).
"""

from __future__ import annotations

import hashlib
import os
import re
import socket
from pathlib import Path

import numpy as np
import pytest

# gRPC's own log lines (pymilvus' channel to milvus-lite, closed at exit: "GOAWAY … ENHANCE_YOUR_CALM …
# too_many_pings") came after pytest's summary; read before grpc is first imported.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

REPO = Path(__file__).resolve().parent.parent
# The shipped paper, as the tests' own copy: tests never read or write the user's docs_src/ or index/.
CORPUS = REPO / "tests" / "data" / "corpus" / "ambitions-and-limits-japan-eu-security.txt"
QUESTIONS = REPO / "questions" / "questions.jsonl"

_real_connect = socket.socket.connect
_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")


def _guarded_connect(self: socket.socket, address: object) -> object:
    host = address[0] if isinstance(address, tuple) else str(address)
    if self.family == socket.AF_UNIX or str(host).startswith(_LOOPBACK):
        return _real_connect(self, address)
    raise OSError(f"network access blocked in tests: {address!r}")


def use_fake_model(monkeypatch: pytest.MonkeyPatch, factory: object) -> None:
    """Make every model the code loads come from ``factory`` (called as ``Embedder`` is): the torch-free
    encoders of a cached export, which ``load_embedder`` prefers, are not used."""
    monkeypatch.setattr("qa.embed.Embedder", factory)
    monkeypatch.setattr("qa.embed.graph_embedder", lambda full: None)
    monkeypatch.setattr("qa.embed.query_encoder", lambda full: None)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")


class FakeEmbedder:
    """A ``qa.embed.TextEmbedder``: hashed bag of lower-cased words (and stems); fast, deterministic,
    good enough for tests. Questions, passages and words all go through ``encode``."""

    name = "fake-hash-64"
    dimension = 64
    max_tokens = 40
    fingerprint = "fake"

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self.encode(texts, progress)

    def encode_words(self, words: list[str]) -> np.ndarray:
        return self.encode(words)

    def build_word_table(self) -> int:
        return 0

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                for token in (word, word[:5]):
                    h = int(hashlib.md5(token.encode()).hexdigest(), 16)
                    out[row, h % self.dimension] += 1.0 if (h >> 8) % 2 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


SMALL_TXT = """\
Tiny Report on Harbours

Jane Doe

Introduction

The harbour of Vellmar was opened in 1911 by the river authority.¹ It handles grain and timber for the whole valley.

Most of its trade goes north to the coastal cities, and the docks were rebuilt after the flood of 1953 with money from the

¹ River Authority, « Annual report », on <https://example.org/report-1911.pdf>, 1912.

regional council.² Today the harbour employs 400 people.

Fishing

Fishing boats leave at dawn and return with herring and cod. The fish market opens at six.³

² Ibid.

³ Doe, op. cit.
"""


@pytest.fixture
def small_docs(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbours.txt").write_text(SMALL_TXT, encoding="utf-8")
    (docs / "notes.md").write_text(
        "# Orchards\n\nApple trees bloom in April in the northern orchards.[^a]\n\n"
        "Pears ripen later, in September.\n\n[^a]: Orchard survey, <https://example.org/orchards>.\n",
        encoding="utf-8",
    )
    return docs
