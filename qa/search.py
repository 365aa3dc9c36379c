"""Search stage: question → ranked paragraphs (``Answer``), with citations and a highlight.

Three retrievers share one path:
- ``dense``: the question's embedding against every chunk in the vector store (``store.py``), chunk scores
  pooled (max) back to their paragraph;
- ``bm25``: BM25 over paragraphs (body + section + cited footnotes);
- ``hybrid`` (default): both, fused by a convex combination of the dense cosine
  and the saturated BM25 score (BM25 plus embedding-based query expansion).
  Reciprocal rank fusion was measured too and lost (README, "Retrieval").
One result per paragraph. Retrieval abstains when the best dense similarity is
below a threshold calibrated on unanswerable questions (``qa eval`` reports it), or, with
``quantity_check``, when a question asking for an amount gets a best passage stating none.
The settings are the index's (``Index.settings``: settings.json, else the model's defaults).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from qa import cite, lexical
from qa.chunk import split_sentences
from qa.embed import TextEmbedder
from qa.errors import InputError
from qa.index import Index
from qa.records import Answer, Hit
from qa.settings import DEFAULT, Settings

__all__ = ["DEFAULT", "RETRIEVERS", "Evidence", "Settings", "gather", "rank", "search"]

RETRIEVERS = ("hybrid", "dense", "bm25")
MAX_QUESTION_CHARS = 2000
# Read no further than this before refusing: runs of blanks collapse, so a question may be longer raw
# than cleaned, but never by more than this (a 40 MB question is refused without looking at each character).
MAX_RAW_QUESTION_CHARS = 10 * MAX_QUESTION_CHARS
MAX_K = 100


def clean_question(question: object) -> str:
    """Return the question with control characters and lone surrogates removed, or raise InputError."""
    if not isinstance(question, str):
        raise InputError("question: expected text")
    if len(question) > MAX_RAW_QUESTION_CHARS:
        raise InputError(f"question: too long (over {MAX_RAW_QUESTION_CHARS:,} characters); "
                         f"keep it under {MAX_QUESTION_CHARS}")
    # A lone surrogate (broken UTF-16 from an API client, undecodable bytes in argv) cannot be encoded.
    text = "".join(ch if unicodedata.category(ch) not in ("Cc", "Cs") else " " for ch in question)
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        raise InputError("question: empty; type a question about your documents")
    if len(text) > MAX_QUESTION_CHARS:
        raise InputError(f"question: too long ({len(text)} characters); keep it under {MAX_QUESTION_CHARS}")
    return text


def shown(text: str, limit: int = 200) -> str:
    """Return a value as an error message may quote it: at most ``limit`` characters (cut with "…"), control
    characters as "?"; never the whole of an unbounded input."""
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return "".join("?" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in cut)


def shown_question(question: object) -> str:
    """Return a question as an error reply may echo it: text only, at most MAX_QUESTION_CHARS characters
    (cut with "…"), lone surrogates replaced; never the whole of an unbounded input."""
    if not isinstance(question, str):
        return ""
    cut = question[:MAX_QUESTION_CHARS] + ("…" if len(question) > MAX_QUESTION_CHARS else "")
    return cut.encode("utf-8", "replace").decode("utf-8")


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


def pool(index: Index, ids: list[str], sims: Iterable[float], note_penalty: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Return (paragraph score array with -inf where unseen, best chunk row per paragraph): the store's
    chunk hits (``ids``, ``sims``) max-pooled to their paragraphs, a note chunk's cosine ``note_penalty`` less."""
    n_par = len(index.paragraphs)
    best = np.full(n_par, -np.inf, dtype=np.float32)
    best_chunk = np.full(n_par, -1, dtype=np.int64)
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
        raise InputError(f"docs: no document '{shown(unknown[0])}' in the index; names are paths under the documents "
                         f"folder as qa build listed them (e.g. '{next(iter(sorted(known)), 'report.pdf')}')")
    return wanted


@dataclass(frozen=True)
class Evidence:
    """What one question's search reads from the index before any setting weighs it: the question's
    vector and words, the store's nearest chunks, the BM25 scores (``qa eval --tune`` re-scores one
    Evidence under many settings, so a question is embedded once)."""

    question: str
    retriever: str
    docs: frozenset[str] | None
    words: list[str]
    query: np.ndarray
    word_vectors: np.ndarray
    chunk_ids: list[str]
    chunk_sims: np.ndarray
    bm25: np.ndarray  # plain BM25 of every paragraph (zero outside ``docs``)
    expansions: dict[tuple[float, int], np.ndarray] = field(default_factory=dict)  # by (min_sim, per_word)


def gather(index: Index, embedder: TextEmbedder, question: str, retriever: str = "hybrid",
           docs: frozenset[str] | None = None, depth: int = DEFAULT.pool_depth) -> Evidence:
    """Return the Evidence of a (clean) question: embedded once, the store searched once (``depth`` chunks,
    the document filter inside the store), BM25 scored once."""
    words = lexical.words(question) if retriever != "dense" and len(index.vocab) else []
    query, word_vectors = embed_question(index, embedder, question, words)
    ids, sims = index.store.search(query, depth, docs)
    n = len(index.paragraphs)
    bm25 = lexical.scores(index.bm25, question) if retriever != "dense" else np.zeros(n, dtype=np.float32)
    if docs is not None:
        bm25 = _only(index, bm25, docs)
    return Evidence(question, retriever, docs, words, query, word_vectors, list(ids), np.asarray(sims), bm25)


def _only(index: Index, scores: np.ndarray, docs: frozenset[str]) -> np.ndarray:
    return np.where(np.isin(index.paragraph_docs, list(docs)), scores, 0.0).astype(np.float32)


def expansion(index: Index, evidence: Evidence, min_sim: float, per_word: int) -> np.ndarray:
    """Return the query-expansion BM25 scores of the evidence's words (computed once per (min_sim, per_word))."""
    key = (min_sim, per_word)
    if key not in evidence.expansions:
        scores = lexical.expansion_scores(index.bm25, index.vocab, index.vocab_vectors, evidence.words,
                                          evidence.word_vectors, min_sim, per_word)
        evidence.expansions[key] = _only(index, scores, evidence.docs) if evidence.docs is not None else scores
    return evidence.expansions[key]


def rank(index: Index, evidence: Evidence, settings: Settings) -> tuple[list[int], np.ndarray, np.ndarray, np.ndarray]:
    """Return (paragraph rows best first, their final scores by row, dense scores by row, best chunk row per
    paragraph) of the evidence under ``settings``."""
    dense, best_chunk = pool(index, evidence.chunk_ids, evidence.chunk_sims, settings.note_penalty)
    if evidence.retriever == "dense":
        final, valid = dense, np.isfinite(dense)
    else:
        bm25 = evidence.bm25
        if settings.expansion_weight and evidence.words:
            bm25 = bm25 + settings.expansion_weight * expansion(
                index, evidence, settings.expansion_min_sim, settings.expansion_per_word)
        if evidence.retriever == "bm25":
            final, valid = bm25, bm25 > 0
        else:
            final = fuse(dense, bm25, settings)
            valid = np.isfinite(dense) | (bm25 > 0)
    order = [int(i) for i in np.argsort(-final, kind="stable") if valid[i]]
    return order, final, dense, best_chunk


def top_dense(dense: np.ndarray) -> float:
    """Return the best dense score of a question (0 when the store found nothing): what abstention reads."""
    return float(np.max(dense)) if np.isfinite(dense).any() else 0.0


# Answer-type check: a question asking for an amount is answered by a passage that states one.
_ASKS_QUANTITY = re.compile(r"\b(how (many|much)|what (share|percentage|proportion|fraction|number|amount)|"
                            r"total (value|budget|amount|number|cost)|in (euros|dollars|yen|pounds))\b", re.I)
_UNIT = r"\s*(%|(per ?cent|percent|billion|million|trillion|thousand|bn|m)\b)"
_NUMBER = re.compile(r"(?<![\w.\-])(\d[\d,.]*)(" + _UNIT + r")?", re.I)  # not G7, Sakhalin-2
_NUMBER_WORDS = re.compile(r"\b(two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                           r"hundreds?|thousands?|millions?|billions?|dozens?|half|third|quarter)\b", re.I)


# An amount asked in a currency ("in yen", "how much money") is answered by a passage naming a currency.
_ASKS_MONEY = re.compile(r"\b(in|of) (us |u\.s\. )?(euros?|yen|dollars?|pounds?)\b|\bhow much money\b", re.I)
_MONEY = re.compile(r"[€$£¥]|\b(euros?|eur|yen|jpy|dollars?|usd|pounds?|gbp)\b", re.I)


def asks_quantity(question: str) -> bool:
    """Return True when the question asks for an amount (how many, how much, what share, a total, a currency)."""
    return bool(_ASKS_QUANTITY.search(question))


def states_quantity(text: str, units_only: bool = False) -> bool:
    """Return True when the text states an amount: a number other than a bare year, or a number word
    (``units_only``: only numbers with a unit, such as 9% or 3 billion: a note's dates and pages are no answer)."""
    for m in _NUMBER.finditer(text):
        if m.group(2):
            return True
        if not units_only and not re.fullmatch(r"(1[89]|20)\d\d", m.group(1).rstrip(",.")):
            return True
    return not units_only and bool(_NUMBER_WORDS.search(text))


def lacks_quantity(index: Index, question: str, row: int) -> bool:
    """Return True when ``question`` asks for an amount and paragraph ``row`` (with its cited notes' amounts)
    states none, or none in a currency when the question asks for one ("in euros"): the documents are then
    taken not to answer it."""
    if not asks_quantity(question):
        return False
    paragraph = index.paragraphs[row]
    notes = index.notes.get(paragraph.doc, {})
    cited = [n.resolved or n.text for n in (notes.get(m) for m in paragraph.footnotes) if n is not None]
    if _ASKS_MONEY.search(question) and not any(_MONEY.search(text) for text in [paragraph.text, *cited]):
        return True
    return not states_quantity(paragraph.text) and not any(states_quantity(text, units_only=True) for text in cited)


def search(index: Index, embedder: TextEmbedder, question: str, k: int = 5,
           retriever: str = "hybrid", settings: Settings | None = None,
           docs: frozenset[str] | set[str] | list[str] | None = None) -> Answer:
    """Return the top-``k`` paragraphs for ``question`` (only from ``docs`` when given),
    with citations, highlight and abstention; ``settings`` default to the index's (``Index.settings``)."""
    question = clean_question(question)
    k = check_k(k)
    if retriever not in RETRIEVERS:
        raise InputError(f"retriever: unknown '{retriever}'; use one of {', '.join(RETRIEVERS)}")
    docs = check_docs(index, docs)
    settings = settings or index.settings
    # The filter is part of each retriever's search, before anything is cut (dense: inside the store).
    evidence = gather(index, embedder, question, retriever, docs, settings.pool_depth)
    order, final, dense, best_chunk = rank(index, evidence, settings)
    best = top_dense(dense)
    hits = tuple(
        Hit(rank=position, score=round(float(final[row]), 6), paragraph=index.paragraphs[row],
            citations=cite.citations_for(index.paragraphs[row], index.notes.get(index.paragraphs[row].doc, {})),
            highlight=highlight(index, row, int(best_chunk[row]), question))
        for position, row in enumerate(order[:k], start=1)
    )
    missing = bool(settings.quantity_check and order and lacks_quantity(index, question, order[0]))
    return Answer(question=question, hits=hits, abstained=best < settings.abstain_below or missing,
                  retriever=retriever, scores={"top_dense": round(best, 4), "quantity_missing": missing},
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
