"""Chunk stage: paragraphs → the chunks that get embedded, each pointing to its paragraph.

A paragraph that fits the model's window is one chunk. A longer one is split on
sentence boundaries into overlapping windows that fit. Short sentence windows
(each sentence, and each pair of neighbouring sentences) are added so a question
can match one precise statement, and the text of each footnote a paragraph cites becomes a "note"
chunk of that paragraph, so a question about a source finds the passage citing
it. A paragraph under a heading also gets a "titled" chunk, the heading and the paragraph's
first sentence ("About the Author: Valérie Niquet is a French political scientist …"), so a
question that names what a section is about ("Where does the author work?") finds its text.
Search pools chunk scores back to paragraphs. The next stage is ``embed``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from qa.records import Chunk, Footnote, Marker, Paragraph

_SENTENCE_END = re.compile(r"""(?<=[.!?…])(["”»')\]]*)\s+(?=["“«(\[]?[A-Z0-9À-Ý])""")
_ABBREVIATIONS = re.compile(
    r"(?:\b(?:[A-Z]|Mr|Mrs|Ms|Dr|Prof|St|vs|etc|e\.g|i\.e|cf|vol|no|pp?|op|cit|al|Jr|Sr|U\.S|Fig|Art)\.)$",
    re.IGNORECASE,
)
_ABBREVIATION_SPAN = 8  # characters of a sentence's end the longest abbreviation ("Prof.", "U.S.") needs
VERSION = 8  # bump when chunking changes: a rebuild then re-chunks every document (7: without pairs, reverted)
# Sentences per small window. Both measured to help; pairs are 29% of a law-review build's word pieces, but
# without them torch's dense hit@5 / mrr@10 on the 20 dev law reviews fell 0.824 -> 0.804 / 0.692 -> 0.678
# (docs/performance.md, Build cost).
SMALL_WINDOWS = (1, 2)


def split_sentences(text: str) -> list[str]:
    """Return the sentences of a paragraph (abbreviations like "op. cit." do not end one)."""
    parts: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        # Is the word before the stop an abbreviation? Only the sentence's last characters are looked
        # at: copying and searching the whole of a candidate that grows over "Mr. Mr. Mr. …" took
        # 24 s for 32 KB, hours for a 400 KB paragraph.
        if _ABBREVIATIONS.search(text, max(start, m.start() - _ABBREVIATION_SPAN), m.start()):
            continue
        candidate = text[start:m.start() + len(m.group(1))].rstrip()  # keep closing quotes
        parts.append(candidate)
        start = m.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in parts if p]


def windows(sentences: list[str], count_tokens: Callable[[str], int], max_tokens: int) -> list[str]:
    """Return consecutive sentence windows that fit ``max_tokens``, overlapping by one sentence."""
    sizes = [count_tokens(s) for s in sentences]
    out: list[str] = []
    i = 0
    while i < len(sentences):
        j, used = i, 0
        while j < len(sentences) and (j == i or used + sizes[j] <= max_tokens):
            used += sizes[j]
            j += 1
        out.append(" ".join(sentences[i:j]))
        if j >= len(sentences):
            break
        i = max(j - 1, i + 1)  # overlap: the last sentence opens the next window
    return out


def chunk_paragraph(
    paragraph: Paragraph,
    notes: dict[Marker, Footnote],
    count_tokens: Callable[[str], int],
    max_tokens: int,
    room: int | None = None,
) -> list[Chunk]:
    """Return the chunks of one paragraph: whole/long windows, small windows, the titled first
    sentence, footnote notes; at most ``room`` of them (the document's passages left), none made past it."""
    sentences = split_sentences(paragraph.text)
    fits = count_tokens(paragraph.text) <= max_tokens
    bodies = [paragraph.text] if fits else windows(sentences, count_tokens, max_tokens)
    for size in SMALL_WINDOWS:
        if len(sentences) > size and (room is None or len(bodies) < room):
            end = len(sentences) - size + 1 if room is None else min(len(sentences) - size + 1, room - len(bodies))
            small = [" ".join(sentences[i:i + size]) for i in range(end)]
            have = set(bodies)  # a set: a paragraph of 20,000 sentences took 25 s to check against a list
            # a single over-long sentence is kept (the model truncates it); pairs must fit
            bodies += [s for s in small if s not in have and (size == 1 or count_tokens(s) <= max_tokens)]
    chunks = [Chunk(f"{paragraph.id}#w{n}", paragraph.id, "window", text) for n, text in enumerate(bodies)]
    if paragraph.section and sentences:
        chunks.append(Chunk(f"{paragraph.id}#t", paragraph.id, "titled", f"{paragraph.section}: {sentences[0]}"))
    for marker in dict.fromkeys(paragraph.footnotes):  # a note cited twice is one chunk (ids stay unique)
        note = notes.get(marker)
        if note is not None:
            text = note.text if not note.resolved else f"{note.text} {note.resolved}"
            # A long note (a law review's string of sources with their parentheticals) is cut into
            # windows as a long paragraph is, so that its end is not truncated away by the model.
            parts = [text] if count_tokens(text) <= max_tokens else windows(split_sentences(text), count_tokens, max_tokens)
            chunks += [Chunk(f"{paragraph.id}#n{marker}" + (f".{n}" if n else ""), paragraph.id, "note", part)
                       for n, part in enumerate(parts)]
    return chunks if room is None else chunks[:room]


def chunk_document(
    paragraphs: Iterable[Paragraph],
    footnotes: Iterable[Footnote],
    count_tokens: Callable[[str], int],
    max_tokens: int,
    limit: int | None = None,
) -> list[Chunk]:
    """Return every chunk of a document's paragraphs, in order; at most ``limit`` (the first paragraphs'),
    none made past it."""
    notes = {n.marker: n for n in footnotes}
    out: list[Chunk] = []
    for paragraph in paragraphs:
        if limit is not None and len(out) >= limit:
            break
        out.extend(chunk_paragraph(paragraph, notes, count_tokens, max_tokens,
                                   None if limit is None else limit - len(out)))
    return out
