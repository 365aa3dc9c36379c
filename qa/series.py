"""Note series: notes numbered again (per chapter, per page) keyed "S:N", and the text's markers with them.

Runs after a reader, before ``parse.assemble`` gathers paragraphs and notes: a thesis prints notes
1, 2, 3 in chapter 1 and 1, 2 in chapter 2; both notes "1" must stay apart, and each marker in the
text must cite its own chapter's note. The k-th run of note numbers, k >= 2, is keyed "k:n", in the
notes and in the text citing them; the first run keeps plain numbers (a document numbered once is
unchanged). A marker is given its series from the page it is on where the notes are page
footnotes, else from the order of the runs; a marker that cites no note is left as it is.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable

from qa.records import Block, Marker, marker_from_str

MARK = re.compile(r"⟦([^⟧]+)⟧")
_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def number_series(blocks: list[Block]) -> list[Block]:
    """Return the blocks with notes keyed by series where numbering starts again, and the text's
    markers keyed to match (see the module's docstring); the blocks unchanged where it never does."""
    series = note_series(blocks)
    if max(series, default=1) == 1:
        return blocks
    notes = [(b.page, b.marker, s) for b, s in zip(_notes(blocks), series, strict=True)]
    key = _by_page(notes) if page_footnotes(blocks) else _by_order(blocks, notes)
    if key is None:
        return blocks
    out: list[Block] = []
    noted = iter(series)
    for block in blocks:
        if block.kind == "note" and isinstance(block.marker, int):
            s = next(noted)
            out.append(dataclasses.replace(block, marker=block.marker if s == 1 else f"{s}:{block.marker}"))
        elif block.kind != "note":
            out.append(dataclasses.replace(block, text=MARK.sub(_keying(key, block), block.text)))
        else:
            out.append(block)
    return out


def note_series(blocks: list[Block]) -> list[int]:
    """Return the series of each numbered note, in order: a note 1 after any note starts a new run
    (a chapter's or a page's notes); numbers out of order otherwise (a note misread or set out of
    place) start none."""
    series, current, seen = [], 1, False
    for block in _notes(blocks):
        if block.marker == 1 and seen:
            current += 1
        seen = True
        series.append(current)
    return series


def page_footnotes(blocks: list[Block]) -> bool:
    """Whether the notes are page footnotes: most numbered notes are cited on their own page (a
    reader that knows no pages, Word's or OpenDocument's, says nothing of it)."""
    cited = {(b.page, m) for b in blocks if b.kind != "note" for m in MARK.findall(b.text)}
    notes = _notes(blocks)
    if not notes or any(b.page is None for b in notes):
        return False
    return 2 * sum((b.page, str(b.marker)) in cited for b in notes) > len(notes)


def _notes(blocks: list[Block]) -> list[Block]:
    return [b for b in blocks if b.kind == "note" and isinstance(b.marker, int)]


_Note = tuple["int | None", Marker | None, int]  # page, number, series
_Key = Callable[[Block, str], str]


def _keying(key: _Key, block: Block) -> Callable[[re.Match[str]], str]:
    return lambda m: key(block, m.group(1))


def _keyed(number: int, series: int) -> str:
    return f"⟦{number}⟧" if series == 1 else f"⟦{series}:{number}⟧"


def _as_text(digits: str) -> str:
    return digits.translate(str.maketrans("0123456789", _SUPERSCRIPTS))


def _by_page(notes: list[_Note]) -> _Key:
    """Page footnotes: a marker cites the note of its number on its own page; a raised number with
    no such note (a listing's line number, a table's figure) is no marker and goes back to text."""
    on_page = {(page, number): series for page, number, series in notes}

    def key(block: Block, raw: str) -> str:
        number = marker_from_str(raw)
        if not isinstance(number, int):
            return f"⟦{raw}⟧"
        series = on_page.get((block.page, number))
        return _as_text(raw) if series is None else _keyed(number, series)
    return key


def _by_order(blocks: list[Block], notes: list[_Note]) -> _Key | None:
    """Endnotes: the text's k-th run of marker numbers cites the notes' k-th run, where the text and
    the notes start again as often; else a marker cites the first note of its number on or after its
    page (a chapter's notes follow it), or the last before; None (numbers left as they are) where
    the pages are unknown too."""
    def starts(numbers: list[int]) -> int:
        return sum(1 for a, b in itertools.pairwise(numbers) if b <= a)

    cited = [n for b in blocks if b.kind != "note" for m in MARK.findall(b.text)
             if isinstance(n := marker_from_str(m), int)]
    runs = max(s for _, _, s in notes)
    if starts(cited) == runs - 1:
        series, last = 1, 0

        def in_order(block: Block, raw: str) -> str:
            nonlocal series, last
            number = marker_from_str(raw)
            if not isinstance(number, int):
                return f"⟦{raw}⟧"
            if number <= last:
                series += 1
            last = number
            return _keyed(number, series)
        return in_order

    if any(page is None for page, _, _ in notes):
        return None

    def nearest(block: Block, raw: str) -> str:
        number = marker_from_str(raw)
        found = [(page or 0, s) for page, n, s in notes if n == number]  # (pages are known here)
        if not isinstance(number, int) or not found:
            return f"⟦{raw}⟧"
        here = block.page or 0
        after = [s for page, s in found if page >= here]
        return _keyed(number, after[0] if after else found[-1][1])
    return nearest
