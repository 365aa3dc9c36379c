"""Endnotes without a title: the list of notes a document closes with, found once per document for ``blocks``.

A web page printed to PDF (Chromium, LibreOffice) and many reports set their notes as a numbered list after
the text, often under no "Notes" title at all (the list follows the last paragraph or a copyright line), and
in the body's size. Where the document's last list numbered 1, 2, 3 … holds (nearly) every note number the
text before it cites with a raised marker, that list is the notes; ``blocks`` then reads it as it reads a list
under a "Notes" title. A numbered list in the text is none: the text cites few of its numbers, or many more.
"""

from __future__ import annotations

import re

from qa.pdf.layout import Line

MIN_NOTES = 3
SHARE = 0.8  # of the numbers the text before the list cites, up to the highest, that the list must hold
_CITED = re.compile(r"⟦(\d{1,9})⟧")
# A web page's link back to the marker ("↑", "↩", "^"), printed before or after a note's text, and the
# number's own point printed twice ("1. . Alwynne Smart": the list's number, then the note's).
_BACKLINK = re.compile(r"^(?:[.)]\s+|[\^↑↩⤴]\s*)+|\s*[\^↑↩⤴]+$")


def endnote_start(pages: list[list[Line]]) -> tuple[int, int] | None:
    """Return where the document's closing list of notes starts, as (page, line) indexes: the first line of
    its last run of lines opening with the numbers 1, 2, 3 … in order (the 1 not raised) (a wrapped line that happens to open
    with a number is skipped), when it runs to at least ``MIN_NOTES`` and the text before it cites with
    raised markers ``SHARE`` of the numbers up to its last one and up to the highest one cited (a list of
    references runs past the few notes a paper cites; a list in a law review stops short of its notes) and
    cites (nearly) none of them after it starts; None where there is no such list."""
    lines = [(p, i, line) for p, page in enumerate(pages) for i, line in enumerate(page)]
    runs: list[tuple[int, int]] = []  # (index of the run's first line, its highest number)
    for k, (_, _, line) in enumerate(lines):
        if line.lead is None:
            continue
        number = line.lead[0]
        # the latest run this number goes on (a note's own numbered list, from 1, does not end the notes)
        at = next((r for r in range(len(runs) - 1, -1, -1) if runs[r][1] + 1 == number), None)
        if at is not None:
            runs[at] = (runs[at][0], number)
        elif number == 1 and not line.lead[2]:  # numbered in plain figures: a raised 1 opens a page's footnotes
            runs.append((k, 1))
    last_cited: dict[int, int] = {}  # each number's last citation, by line
    for k, (_, _, line) in enumerate(lines):
        for n in _citations(line):
            last_cited[n] = k
    cited: set[int] = set()
    seen = 0
    best: tuple[int, int] | None = None
    for start, highest in runs:  # the text before each run, read once from the top
        for _, _, line in lines[seen:start]:
            cited.update(_citations(line))
        seen = max(seen, start)
        if highest < MIN_NOTES or not cited:
            continue
        top = max(cited)
        held = len(cited & set(range(1, highest + 1)))
        # the text is over: it cites (nearly) none of the list's numbers after the list starts (page footnotes
        # numbered 1, 2 … per chapter, under chapters numbered 2, 3 …, are no list)
        later = sum(1 for n in range(1, highest + 1) if last_cited.get(n, -1) > start)
        if held >= SHARE * max(top, highest) and later <= (1 - SHARE) * highest:
            best = lines[start][0], lines[start][1]
    return best


def _citations(line: Line) -> list[int]:
    """Return the note numbers a line cites with raised markers, a raised number opening it (a footnote's
    own) aside."""
    text = re.sub(r"^⟦\d{1,9}⟧", "", line.text) if line.lead is not None else line.text
    return [int(n) for n in _CITED.findall(text)]


def note_text(text: str) -> str:
    """Return a note's text without what a web page prints around it: a link back to the marker ("↑",
    "↩", "^") before or after it, a stray point opening it (the number's own, printed twice)."""
    return _BACKLINK.sub("", text)
