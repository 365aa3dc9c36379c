"""Lexical retrieval: BM25 (bm25s) over paragraphs with English stemming and stopwords.

Each paragraph is indexed with its section title and the text of the footnotes it
cites, so a question about a source's words finds the paragraph that cites it.
Saved as bm25s's own plain files (JSON + .npy, no pickle).

Paraphrased questions share few words with the text, so BM25 also gets an
embedding-based query expansion: every word of the corpus is embedded once at
build time (``vocab.json`` + ``vocab.npy``), and each question word adds the BM25
scores of its nearest corpus words ("killing" → "demise", "atomic" → "nuclear"),
weighted by their similarity.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from pathlib import Path
from typing import Any

import numpy as np

from qa import indexfiles
from qa.records import Footnote, Paragraph

_local = threading.local()


def _stemmer() -> Any:
    """Return this thread's English stemmer (made once per thread: PyStemmer's are not thread-safe)."""
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _local.stemmer = Stemmer.Stemmer("english")
    return stemmer


@functools.cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def tokenize(texts: list[str]) -> Any:
    """Return bm25s tokens of ``texts`` (lower-cased, English stopwords out, stemmed)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


VERSION = 2  # bump when the text BM25 indexes changes: indexes are then rebuilt

# Signs that stand for a word a question would use ("Who holds the copyright?" → "© 2024 …").
SIGN_WORDS = {"©": "copyright", "®": "registered trademark", "™": "trademark", "§": "section",
              "€": "euro", "£": "pound", "¥": "yen", "%": "percent"}


def document_text(paragraph: Paragraph, notes: dict[tuple[str, Any], Footnote]) -> str:
    """Return the text BM25 indexes for a paragraph: section, body, cited footnotes (``notes`` by
    (doc, marker)), and the words of the signs it uses (© → copyright)."""
    cited = [notes.get((paragraph.doc, m)) for m in dict.fromkeys(paragraph.footnotes)]  # each note once
    parts = [paragraph.section or "", paragraph.text]
    parts += [(n.resolved or n.text) for n in cited if n is not None]
    parts += [word for sign, word in SIGN_WORDS.items() if sign in paragraph.text]
    return " ".join(p for p in parts if p)


def build(texts: list[str]) -> Any:
    """Return a bm25s index of ``texts``."""
    import bm25s

    retriever = bm25s.BM25()
    retriever.index(tokenize(texts), show_progress=False)
    return retriever


def save(retriever: Any, folder: Path) -> None:
    """Write the bm25s index into ``folder`` (plain JSON and .npy files)."""
    retriever.save(str(folder), allow_pickle=False, show_progress=False)


PARAMS = {"k1": float, "b": float, "delta": float, "method": str, "idf_method": str, "dtype": str, "int_dtype": str,
          "num_docs?": int}
# The choices bm25s reads at search time (a dtype, a method), as ``build`` makes them: anything else is damage.
WRITTEN = {"method": "lucene", "idf_method": "lucene", "dtype": "float32", "int_dtype": "int32", "backend": "numpy",
           "csc_backend": "numpy"}


def load(folder: Path, n_docs: int) -> Any:
    """Return the bm25s index saved in ``folder`` for ``n_docs`` paragraphs, its files checked first
    (raises indexfiles.Damaged naming the file, OSError when missing)."""
    import bm25s

    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} missing")
    params = indexfiles.read_json(folder / "params.index.json", PARAMS)
    wrong = next((key for key, value in WRITTEN.items() if key in params and params[key] != value), None)
    if wrong:
        raise indexfiles.Damaged(f"{folder / 'params.index.json'}: {wrong!r}: not {WRITTEN[wrong]!r}, as qa writes it")
    vocab = indexfiles.read_json(folder / "vocab.index.json", indexfiles.Map(int))
    data = indexfiles.read_npy(folder / "data.csc.index.npy", "f", 1, finite=True)
    indices = indexfiles.read_npy(folder / "indices.csc.index.npy", "i", 1)
    indptr = indexfiles.read_npy(folder / "indptr.csc.index.npy", "i", 1)
    if len(indices) != len(data) or not len(indptr) or indptr[0] != 0 or indptr[-1] != len(data) \
            or (np.diff(indptr) < 0).any() or (len(indices) and not 0 <= indices.min() <= indices.max() < n_docs) \
            or any(not 0 <= row < len(indptr) for row in vocab.values()):  # bm25s' last word, "", has no row
        raise indexfiles.Damaged(f"{folder}: its arrays do not fit each other or the {n_docs} paragraphs")
    try:
        retriever = bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False, verbosity=0)
    except Exception as exc:  # checked above: anything bm25s still refuses is damage
        raise indexfiles.Damaged(f"{folder}: not readable by bm25s ({type(exc).__name__})") from None
    if int(retriever.scores.get("num_docs", -1)) != n_docs:
        raise indexfiles.Damaged(f"{folder}: built for {retriever.scores.get('num_docs')} paragraphs, not {n_docs}")
    return retriever


def scores(retriever: Any, question: str) -> np.ndarray:
    """Return the BM25 score of every paragraph for ``question`` (zeros when no term matches)."""
    tokens = tokenize([question])
    ids = tokens.ids[0] if tokens.ids else []
    n = int(retriever.scores["num_docs"])
    if not ids:
        return np.zeros(n, dtype=np.float32)
    vocab_inv = {v: k for k, v in tokens.vocab.items()}
    words = [vocab_inv[i] for i in ids]
    known = [w for w in words if w in retriever.vocab_dict]
    if not known:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(retriever.get_scores(known), dtype=np.float32)


_WORD = re.compile(r"[^\W\d_][\w\-]{2,}")
MAX_VOCAB = 200_000


def words(text: str) -> list[str]:
    """Return the lower-cased content words (3+ letters, not stopwords) of ``text``."""
    stop = _stopwords()
    return [w for w in _WORD.findall(text.lower()) if w not in stop]


def vocabulary(texts: list[str]) -> list[str]:
    """Return the corpus's content words, most frequent first (at most MAX_VOCAB), ties sorted."""
    counts: dict[str, int] = {}
    for text in texts:
        for w in words(text):
            counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts, key=lambda w: (-counts[w], w))
    return ranked[:MAX_VOCAB]


def save_vocab(vocab: list[str], vectors: np.ndarray, folder: Path) -> None:
    """Write the expansion vocabulary and its vectors (float16) into ``folder``."""
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    np.save(folder / "vocab.npy", vectors.astype(np.float16), allow_pickle=False)


def load_vocab(folder: Path, dim: int) -> tuple[list[str], np.ndarray]:
    """Return the expansion vocabulary and its float32 vectors of dimension ``dim`` (empty when absent;
    raises indexfiles.Damaged when the files do not fit each other)."""
    path = folder / "vocab.json"
    if not path.is_file():
        return [], np.zeros((0, 0), dtype=np.float32)
    vocab = indexfiles.read_json(path, [str])
    vectors = indexfiles.read_npy(folder / "vocab.npy", "f", 2, finite=True).astype(np.float32)
    if vectors.shape != (len(vocab), dim) and not (len(vocab) == 0 and len(vectors) == 0):
        raise indexfiles.Damaged(f"{folder / 'vocab.npy'}: {vectors.shape} vectors for {len(vocab)} words of dimension {dim}")
    return vocab, vectors


def expansion_scores(retriever: Any, vocab: list[str], vocab_vectors: np.ndarray, question_words: list[str],
                     word_vectors: np.ndarray, min_sim: float = 0.5, per_word: int = 3) -> np.ndarray:
    """Return the similarity-weighted BM25 scores of each question word's nearest corpus words."""
    n = int(retriever.scores["num_docs"])
    out = np.zeros(n, dtype=np.float32)
    if not question_words or not len(vocab):
        return out
    stem = _stemmer().stemWord
    sims = word_vectors @ vocab_vectors.T
    take = min(per_word, sims.shape[1])
    nearest = np.argpartition(-sims, take - 1, axis=1)[:, :take]  # the few best, without sorting every word
    for i, word in enumerate(question_words):
        own = stem(word)
        for j in sorted(nearest[i], key=lambda j: (-sims[i, j], j)):
            if sims[i, j] < min_sim:
                break
            term = stem(vocab[j])
            if term != own and term in retriever.vocab_dict:
                out += float(sims[i, j]) * np.asarray(retriever.get_scores([term]), dtype=np.float32)
    return out
