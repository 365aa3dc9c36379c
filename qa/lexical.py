"""Lexical retrieval: BM25 (bm25s) over paragraphs with English stemming and stopwords.

Each paragraph is indexed with its section title and the text of the footnotes it
cites, so a question about a source's words finds the paragraph that cites it.
Saved as bm25s's own plain files (JSON + .npy, no pickle).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from qa.records import Footnote, Paragraph


def _stemmer() -> Any:
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str]) -> Any:
    """Return bm25s tokens of ``texts`` (lower-cased, English stopwords out, stemmed)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


def document_text(paragraph: Paragraph, notes: list[Footnote] | dict[Any, Footnote]) -> str:
    """Return the text BM25 indexes for a paragraph: section, body, cited footnotes."""
    if isinstance(notes, list):
        notes = {(n.doc, n.marker): n for n in notes}
    cited = [notes.get((paragraph.doc, m)) for m in paragraph.footnotes]
    parts = [paragraph.section or "", paragraph.text]
    parts += [(n.resolved or n.text) for n in cited if n is not None]
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


def load(folder: Path) -> Any:
    """Return the bm25s index saved in ``folder``."""
    import bm25s

    if not Path(folder).is_dir():
        raise OSError(f"{folder} missing")
    return bm25s.BM25.load(str(folder), allow_pickle=False, show_progress=False, verbosity=0)


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
