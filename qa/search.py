"""Search stage: question → ranked paragraphs (``Answer``), with citations and a highlight.

Three retrievers share one path:
- ``dense``: the question's embedding against every chunk in the vector store (``store.py``), chunk scores
  pooled (max) back to their paragraph;
- ``bm25``: BM25 over paragraphs (body + section + cited footnotes);
- ``hybrid`` (default): both, fused by a convex combination of the dense cosine
  and the saturated BM25 score (BM25 plus embedding-based query expansion).
  Reciprocal rank fusion was measured too and lost (README, "Retrieval").
One result per paragraph. Retrieval abstains when the best dense similarity is
below a threshold calibrated on unanswerable questions (``qa eval`` reports it).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from qa import cite, lexical
from qa.chunk import split_sentences
from qa.embed import TextEmbedder
from qa.errors import InputError
from qa.index import Index
from qa.records import Answer, Hit

RETRIEVERS = ("hybrid", "dense", "bm25")
MAX_QUESTION_CHARS = 2000
MAX_K = 100


@dataclass(frozen=True)
class Settings:
    """Retrieval knobs; the defaults are the measured best on the project's question set."""

    dense_weight: float = 0.5  # hybrid = w·cosine + (1−w)·bm25/(bm25 + saturation)
    bm25_saturation: float = 5.0
    expansion_weight: float = 0.6  # BM25 of embedding neighbours of the question's words
    expansion_min_sim: float = 0.5
    expansion_per_word: int = 3
    pool_depth: int = 200  # chunks fetched from the vector store (after its document filter) before pooling
    # A cited footnote's text is the paragraph's second-hand evidence: its cosine counts this much less
    # (a question echoing a source's title should still find the passage that speaks to it).
    note_penalty: float = 0.1
    abstain_below: float = 0.35  # best dense cosine under this → "not in your documents" (qa eval calibrates)


DEFAULT = Settings()


def clean_question(question: object) -> str:
    """Return the question with control characters and lone surrogates removed, or raise InputError."""
    if not isinstance(question, str):
        raise InputError("question: expected text")
    # A lone surrogate (broken UTF-16 from an API client, undecodable bytes in argv) cannot be encoded.
    text = "".join(ch if unicodedata.category(ch) not in ("Cc", "Cs") else " " for ch in question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise InputError("question: empty; type a question about your documents")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"question: too long ({len(text)} characters); keep it under {MAX_QUESTION_CHARS}")
    return text


def check_k(k: object) -> int:
    """Return ``k`` as an int in 1..MAX_K (a whole number: 3, 3.0 or "3"), or raise InputError."""
    value: int | None = None
    if isinstance(k, int) and not isinstance(k, bool):
        value = k
    elif (isinstance(k, float) and math.isfinite(k) and k.is_integer()) or \
            (isinstance(k, str) and re.fullmatch(r"\s*[+-]?\d{1,9}\s*", k)):
        value = int(k)
    if value is None:
        raise InputError(f"k: expected a whole number between 1 and {MAX_K}, got {str(k)[:40]!r}")
    if not 1 <= value <= MAX_K:
        raise InputError(f"k: must be between 1 and {MAX_K}, got {value}")
    return value


def dense_scores(index: Index, query: np.ndarray, depth: int, note_penalty: float = 0.0,
                 docs: frozenset[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Return (paragraph score array with -inf where unseen, best chunk row per paragraph) from the
    store's ``depth`` nearest chunks, of ``docs`` only when given (the store filters inside its
    search); a note chunk's cosine counts ``note_penalty`` less."""
    n_par = len(index.paragraphs)
    best = np.full(n_par, -np.inf, dtype=np.float32)
    best_chunk = np.full(n_par, -1, dtype=np.int64)
    ids, sims = index.store.search(query, depth, docs)
    rows = index.chunk_rows
    for chunk_id, sim in zip(ids, sims, strict=True):
        row = rows.get(chunk_id)
        if row is None:  # a store changed in place by a build this index has not loaded yet
            continue
        score = sim - note_penalty if note_penalty and index.chunk_is_note[row] else sim
        par = index.chunk_paragraph[row]
        if score > best[par]:
            best[par] = score
            best_chunk[par] = row
    return best, best_chunk


def fuse(dense: np.ndarray, bm25: np.ndarray, settings: Settings = DEFAULT) -> np.ndarray:
    """Return hybrid scores: weighted dense cosine plus saturated BM25 (both in 0..1)."""
    d = np.where(np.isfinite(dense), dense, 0.0)
    b = np.maximum(bm25, 0.0)
    w = settings.dense_weight
    return (w * d + (1 - w) * b / (b + settings.bm25_saturation)).astype(np.float32)


def lexical_scores(index: Index, question: str, word_vectors: np.ndarray, question_words: list[str],
                   settings: Settings = DEFAULT) -> np.ndarray:
    """Return BM25 scores of every paragraph, plus the weighted query-expansion scores."""
    scores = lexical.scores(index.bm25, question)
    if settings.expansion_weight and len(question_words):
        scores = scores + settings.expansion_weight * lexical.expansion_scores(
            index.bm25, index.vocab, index.vocab_vectors, question_words, word_vectors,
            settings.expansion_min_sim, settings.expansion_per_word)
    return scores


def embed_question(index: Index, embedder: TextEmbedder, question: str,
                   words: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Return the question's vector and its words' vectors. Words the corpus has are looked up; new
    words come from the model's word table when it has one, else get a call of their own (so they
    are not padded to the question's length)."""
    rows = [index.vocab_rows.get(w) for w in words]
    new = [w for w, row in zip(words, rows, strict=True) if row is None]
    query = embedder.encode_queries([question])[0]
    word_vectors = np.empty((len(words), query.shape[0]), dtype=np.float32)
    fresh = iter(embedder.encode_words(new) if new else ())
    for i, row in enumerate(rows):
        word_vectors[i] = index.vocab_vectors[row] if row is not None else next(fresh)
    return query, word_vectors


def check_docs(index: Index, docs: object) -> frozenset[str] | None:
    """Return the document filter as a set of indexed names (None: no filter), or raise InputError."""
    if docs is None:
        return None
    if isinstance(docs, str) or not isinstance(docs, Iterable) or not all(isinstance(d, str) for d in docs):
        raise InputError("docs: expected a list of document names")
    wanted = frozenset(d for d in docs if isinstance(d, str))
    if not wanted:
        return None
    known = index.manifest.get("documents", {})
    unknown = sorted(d for d in wanted if d not in known)
    if unknown:
        raise InputError(f"docs: no document '{unknown[0]}' in the index; names are paths under the documents "
                         f"folder as qa build listed them (e.g. '{next(iter(sorted(known)), 'report.pdf')}')")
    return wanted


def search(index: Index, embedder: TextEmbedder, question: str, k: int = 5,
           retriever: str = "hybrid", settings: Settings = DEFAULT,
           docs: frozenset[str] | set[str] | list[str] | None = None) -> Answer:
    """Return the top-``k`` paragraphs for ``question`` (only from ``docs`` when given),
    with citations, highlight and abstention."""
    question = clean_question(question)
    k = check_k(k)
    if retriever not in RETRIEVERS:
        raise InputError(f"retriever: unknown '{retriever}'; use one of {', '.join(RETRIEVERS)}")
    docs = check_docs(index, docs)
    question_words = lexical.words(question) if retriever != "dense" and len(index.vocab) else []
    query, word_vectors = embed_question(index, embedder, question, question_words)
    # The filter is part of each retriever's search, before anything is cut (dense: inside the store).
    dense, best_chunk = dense_scores(index, query, settings.pool_depth, settings.note_penalty, docs)
    if retriever == "dense":
        final, valid = dense, np.isfinite(dense)
    else:
        bm25 = lexical_scores(index, question, word_vectors, question_words, settings)
        if docs is not None:
            bm25 = np.where(np.isin(index.paragraph_docs, list(docs)), bm25, 0.0).astype(np.float32)
        if retriever == "bm25":
            final, valid = bm25, bm25 > 0
        else:
            final = fuse(dense, bm25, settings)
            valid = np.isfinite(dense) | (bm25 > 0)
    order = [int(i) for i in np.argsort(-final, kind="stable") if valid[i]][:k]
    top_dense = float(np.max(dense)) if np.isfinite(dense).any() else 0.0
    hits = tuple(
        Hit(rank=rank, score=round(float(final[row]), 6), paragraph=index.paragraphs[row],
            citations=cite.citations_for(index.paragraphs[row], index.notes.get(index.paragraphs[row].doc, {})),
            highlight=highlight(index, row, int(best_chunk[row]), question))
        for rank, row in enumerate(order, start=1)
    )
    return Answer(question=question, hits=hits, abstained=top_dense < settings.abstain_below,
                  retriever=retriever, scores={"top_dense": round(top_dense, 4)},
                  docs=tuple(sorted(docs)) if docs else ())


def highlight(index: Index, row: int, chunk_row: int, question: str) -> str:
    """Return the sentence(s) of a paragraph that best match the question."""
    paragraph = index.paragraphs[row]
    if chunk_row >= 0:
        chunk = index.chunks[chunk_row]
        if chunk.kind == "window" and chunk.text != paragraph.text:
            return chunk.text
        if chunk.kind == "titled":
            return split_sentences(paragraph.text)[0]
    # Whole-paragraph or footnote match: fall back to the sentence sharing most words.
    words = set(re.findall(r"\w{3,}", question.lower()))
    sentences = split_sentences(paragraph.text) or [paragraph.text]
    return max(sentences, key=lambda s: len(words & set(re.findall(r"\w{3,}", s.lower()))))
