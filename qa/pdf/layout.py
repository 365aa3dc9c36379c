"""Page layout measures and the tests that say where a PDF paragraph ends, for ``qa.pdf.blocks``.

A line is "short" by its real width (from ``qa.pdf.chars``). In ragged-right text a paragraph
ended where the next line's first word would have fitted; in justified text, where a line
stops short of the margin. Without glyph widths, characters are counted instead.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

_TERMINAL = re.compile(r"""[.!?:;"”»)\]'’…]$""")
# A sentence ends with its punctuation, then any closing quotes and brackets: "injury,’" and
# "universities’" (a possessive) end none.
_SENTENCE_END = re.compile(r"""[.!?:;…]["”»)\]'’]*$""")


@dataclass(frozen=True)
class Line:
    """One printed line of a page: where it starts, its baseline and size, its text, where its ink ends."""
    x: float
    y: float  # baseline, PDF units (grows upwards)
    size: float
    bold: bool
    text: str  # markers written ⟦n⟧
    lead: tuple[int, str, bool] | None  # a leading marker: number, rest of line, superscript?
    end: float | None = None  # right end of the ink, from glyph widths (None: unknown font metrics)
    word_end: float | None = None  # right end of the line's first word
    space: float = 0.0
    trail: bool = False  # the line's last glyph is a drawn space (where the producer broke the line)


@dataclass(frozen=True)
class Layout:
    """Document-wide measures of the body text that decide where paragraphs end."""
    body_size: float
    pitch: float  # baseline to baseline
    chars: int  # characters in a full line: the fallback when glyph widths are unknown
    full: float | None  # width of a full line, from its left edge (None: widths unknown)
    justified: bool  # full lines all end exactly at the right margin
    break_spaces: bool  # the producer draws the space where it breaks a line (so a paragraph's end has none)
    indents: bool  # paragraphs start with a first-line indent
    gaps: bool  # paragraphs are set apart by vertical space


def left_edges(plain: list[list[Line]], body_size: float, kinds: Sequence[Hashable] | None = None) -> list[float]:
    """Return each page's left edge of body text: where most body lines start on pages of the same
    kind, so that a page of one-line paragraphs still shows their indents. A page's kind is its
    parity (mirrored margins) unless ``kinds`` says more (a column: printed page parity and column)."""
    kinds = kinds if kinds is not None else [number % 2 for number in range(len(plain))]
    counts: dict[Hashable, Counter[int]] = {kind: Counter() for kind in kinds}
    for page, kind in zip(plain, kinds, strict=False):
        counts[kind].update(round(line.x) for line in page)
    everywhere: Counter[int] = sum(counts.values(), Counter())
    edges = []
    for page, kind in zip(plain, kinds, strict=False):
        common = (counts[kind] if counts[kind].total() >= 20 else everywhere).most_common(1)
        edge = common[0][0] if common else 0.0
        starts = Counter(round(line.x) for line in page)
        own, n = starts.most_common(1)[0] if starts else (edge, 0)
        if starts and not any(edge - 1 <= x <= edge + 3 * body_size for x in starts):  # a page set apart
            edge = own
        elif n >= max(4, 0.5 * len(page)) and not any(abs(x - edge) <= 1 for x in starts):
            edge = own  # a page set narrower (an opening page, a block): most of its lines start further in
        edges.append(float(edge))
    return edges


def measure_layout(plain: list[list[Line]], lefts: list[float], body_size: float) -> Layout:
    """Return the body text's Layout: line pitch, and how far a full line reaches (in glyph widths when
    every font has them), whether lines are justified, and the cues that separate paragraphs."""
    pitches = [a.y - b.y for page in plain for a, b in itertools.pairwise(page) if 0 < a.y - b.y < 3 * body_size]
    pitch = statistics.median(pitches) if pitches else 1.2 * body_size
    lines = [line for page in plain for line in page]
    lengths = sorted(len(line.text) for line in lines) or [60]
    chars = lengths[int(0.8 * (len(lengths) - 1))]  # characters in a full line
    cues = {
        "break_spaces": sum(line.trail for line in lines) > 0.3 * len(lines),
        "indents": first_line_indents(plain, lefts, body_size, pitch),
        "gaps": sum(pitch + 0.25 * body_size < a.y - b.y < 3 * body_size for page in plain for a, b in itertools.pairwise(page))
        > 0.02 * len(lines)}
    reach = sorted(line.end - left for page, left in zip(plain, lefts, strict=False) for line in page if line.end is not None)
    if len(reach) < 10 or len(reach) < 0.9 * len(lines):
        return Layout(body_size, pitch, chars, None, False, **cues)
    full = reach[int(0.99 * (len(reach) - 1))]  # ragged lines end anywhere short of it
    justified = sum(1 for r in reach if abs(r - full) < 0.05 * body_size) >= 0.4 * len(reach)
    return Layout(body_size, pitch, chars, full, justified, **cues)


def first_line_indents(plain: list[list[Line]], lefts: list[float], body_size: float, pitch: float) -> bool:
    """Return whether paragraphs open with a first-line indent, from the body lines: at least one line in
    fifty is set in (half an em to four) over a line at the left edge that follows it at the line pitch.
    A list's items and a block quotation are set in too, but so are the lines under them: a thesis
    that sets its paragraphs apart by space and indents its lists opens none with an indent."""
    opened = sum(0.5 * body_size < a.x - left <= 4 * body_size and abs(b.x - left) <= 1 and a.y - b.y < pitch + 0.25 * body_size
                 for page, left in zip(plain, lefts, strict=False) for a, b in itertools.pairwise(page))
    return opened > 0.02 * sum(len(page) for page in plain)


def right_edge(lines: list[Line], body_size: float) -> float | None:
    """Return where a page's full body lines end (the fourth-longest line's end, so that a line
    overflowing the margin does not count), for a page set narrower than the rest; None for a page
    of fewer than eight lines."""
    ends = sorted((line.end for line in lines if line.end is not None), reverse=True)
    return ends[3] + 0.1 * body_size if len(ends) >= 8 else None


def starts_paragraph(prev: Line, line: Line, prev_left: float, left: float, layout: Layout,
                     right: float | None = None) -> bool:
    """Return whether ``line`` starts a new paragraph after the body line ``prev`` (no vertical gap
    between); ``right`` is where ``prev``'s page's full lines end, when known."""
    if line.x - left > 0.5 * layout.body_size:
        return True  # a first-line indent
    if layout.gaps and not layout.indents:
        return False  # paragraphs are set apart by space, and there is none here
    terminal = closes_sentence(prev.text)
    if layout.full is not None and prev.end is not None and line.word_end is not None:
        margin = min(prev_left + layout.full, right if right is not None else math.inf)
        # Ragged right: the next line's first word would have fitted after this one, so the line was ended.
        if prev.end + prev.space + (line.word_end - line.x) <= margin and (terminal or line.text[:1].isupper()):
            return True
        # Justified: every line but a paragraph's last reaches the margin.
        if terminal and layout.justified and prev.end < margin - 0.5 * prev.space:
            return True
    elif terminal and len(prev.text) + 1 + len(line.text.split(" ", 1)[0]) < 0.9 * layout.chars:
        return True  # no glyph widths: the same test, counting characters
    # A producer that draws the space at every line break draws none where a paragraph ends (nor
    # after a note number, so a line ending with one tells nothing).
    return terminal and layout.break_spaces and not prev.trail and not prev.text.endswith("⟧")


def closes_sentence(text: str) -> bool:
    """Return whether text ends a sentence (footnote markers after the end are ignored)."""
    return bool(_SENTENCE_END.search(re.sub(r"(?:\s*⟦[^⟧]+⟧)+$", "", text).rstrip()))


def heading_like(text: str) -> bool:
    """Return whether a short line reads like a heading: capitalised, unpunctuated, no markers."""
    return (len(text.split()) <= 14 and (text[0].isupper() or text[0].isdigit())
            and not _TERMINAL.search(text) and not text.endswith(",") and "⟦" not in text)

