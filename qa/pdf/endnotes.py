"""Endnotes without a title: the list of notes a document closes with, found once per document for ``blocks``.

A web page printed to PDF (Chromium, LibreOffice) and many reports set their notes as a numbered list after
the text, often under no "Notes" title at all (the list follows the last paragraph or a copyright line), and
in the body's size. Where the document's last list numbered 1, 2, 3 … holds (nearly) every note number the
text before it cites with a raised marker (or "[7]" on the line where the list is bracketed, or, where nothing
else finds a list, digits set against a word: "owner.7"), that list is the notes; ``blocks`` then reads it as
it reads a list under a "Notes" title. A numbered list in the text is none: the text cites few of its numbers, or many more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Literal

from qa.pdf.layout import Line

MIN_NOTES = 3
SHARE = 0.8  # of the numbers the text before the list cites, up to the highest, that the list must hold
_CITED = re.compile(r"⟦(\d{1,9})⟧")
_ON_LINE = re.compile(r"\[(\d{1,4})\]")
_BRACKETED = re.compile(r"⟦(\d{1,9})⟧|\[(\d{1,4})\]")
# a raised marker, or digits set against a word or its punctuation ("owner.1 One", "title.’”2 For", "Corp.,48")
# but not inside a word or a number ("H2O", "5.1")
_GLUED = re.compile(r"⟦(\d{1,9})⟧|(?:(?<=[^\W\d_])|(?<=[^\W\d_][.,;:])|(?<=[^\W\d_]\.[,;:])|(?<=[)\]”’\"][.,;:])"
                    r"|(?<=\S[”’\")\]]))(\d{1,3})(?![\w⟦.,]\w|[\w⟦])")
_OPENING = re.compile(r"^(?:⟦\d{1,9}⟧|\[\d{1,4}\])")
_BRACKET_LABEL = re.compile(r"^\[(\d{1,4})\]\.?\s+(?=\S)")
# a bibliography's title, numbered or not ("7. REFERENCES")
_REFERENCES = re.compile(r"^\s*(?:[\dIVX]{1,4}\.?\s+)?(?:references|bibliography|works cited|literature(?: cited)?"
                         r"|literaturverzeichnis|literatur)\s*$", re.IGNORECASE)
# A web page's link back to the marker ("↑", "↩", "^", "Return to citation ^"), printed before or after a note's
# text, and the number's own point printed twice ("1. . Alwynne Smart": the list's number, then the note's).
_BACKLINK = re.compile(r"^(?:[.)]\s+|[\^↑↩⤴]\s*)+|\s*(?:(?:return|back|jump) to (?:citation|text|top)\s*)?[\^↑↩⤴]+$"
                       r"|\s*(?:return|back|jump) to (?:citation|text|top)$", re.IGNORECASE)


@dataclass(frozen=True)
class Closing:
    """Where a document's closing list of notes starts (page and line indexes), its last number, and how the
    text cites it: by raised numbers ("raised"), also bracketed ones on the line ("bracketed": "[7]"), or also
    plain digits set against the word before ("glued": "owner.7", where a print lost the raising)."""
    page: int
    line: int
    last: int
    cited: Literal["raised", "bracketed", "glued"]

    @property
    def bracketed(self) -> bool:
        """Whether the text cites the list by bracketed numbers on the line."""
        return self.cited == "bracketed"


def endnote_start(pages: list[list[Line]]) -> Closing | None:
    """Return the document's closing list of notes: its last run of lines opening with the numbers 1, 2, 3 …
    in order (the 1 not raised; a wrapped line that happens to open with a number is skipped, one number
    may be missing), when it runs
    to at least ``MIN_NOTES``, stands under no references title, and the text before it cites ``SHARE`` of
    the numbers up to its last one and up to the highest one cited (a list of references runs past the few
    notes a paper cites; a list in a law review stops short of its notes) and (nearly) none of them after it
    starts. The text cites by raised markers, or, where the list's numbers are bracketed ("[7]."), by
    bracketed numbers on the line too (Word's notes on a web page, printed unstyled); where neither finds a list,
    by plain digits set against the word before ("owner.1": a web page printed by LibreOffice, the raising
    lost). None: no such list."""
    lines = [(p, i, line) for p, page in enumerate(pages) for i, line in enumerate(page)]
    runs: list[tuple[int, int]] = []  # (index of the run's first line, its highest number)
    for k, (_, _, line) in enumerate(lines):
        label = _label(line)
        if label is None:
            continue
        number = label
        # the latest run this number goes on, one number may be missing ("[89]." then "92." then "[91]."); a
        # note's own numbered list, from 1, does not end the notes
        at = next((r for r in range(len(runs) - 1, -1, -1) if runs[r][1] < number <= runs[r][1] + 2), None)
        if at is not None:
            runs[at] = (runs[at][0], number)
        elif number == 1 and not (line.lead and line.lead[2]):  # in plain figures: a raised 1 opens a page's footnotes
            runs.append((k, 1))
    best: Closing | None = None
    modes: tuple[Literal["raised", "bracketed", "glued"], ...] = ("raised", "bracketed", "glued")
    for mode in modes:
        if mode == "glued" and best is not None:
            break  # digits against words are read as citations only where nothing else cites the list
        last_cited: dict[int, int] = {}  # each number's last citation, by line
        for k, (_, _, line) in enumerate(lines):
            for n in _citations(line, mode):
                last_cited[n] = k
        cited: set[int] = set()
        seen = 0
        for start, highest in runs:  # the text before each run, read once from the top
            for _, _, line in lines[seen:start]:
                cited.update(_citations(line, mode))
            seen = max(seen, start)
            first = lines[start][2]
            if highest < MIN_NOTES or not cited or first.text.startswith("[") != (mode == "bracketed") \
                    or _under_references(lines, start):
                continue
            top = max(cited)
            held = len(cited & set(range(1, highest + 1)))
            # the text is over: it cites (nearly) none of the list's numbers after the list starts (page
            # footnotes numbered 1, 2 … per chapter, under chapters numbered 2, 3 …, are no list)
            later = sum(1 for n in range(1, highest + 1) if last_cited.get(n, -1) > start)
            if held >= SHARE * max(top, highest) and later <= (1 - SHARE) * highest and (
                    best is None or (best.page, best.line) < lines[start][:2]):
                best = Closing(lines[start][0], lines[start][1], highest, mode)
    return best


def _label(line: Line) -> int | None:
    """Return the number a line opens with as a list's label: its lead, or a number in brackets ("[7]. Id.")."""
    if line.lead is not None:
        return line.lead[0]
    match = _BRACKET_LABEL.match(line.text)
    return int(match.group(1)) if match else None


def _citations(line: Line, mode: Literal["raised", "bracketed", "glued"] = "raised") -> list[int]:
    """Return the note numbers a line cites with raised markers, and, by ``mode``, bracketed numbers on the
    line or digits set against the word before; a number opening it (a note's own) aside."""
    text = _OPENING.sub("", line.text) if _label(line) is not None else line.text
    if mode == "bracketed":
        return [int(raised or on_line) for raised, on_line in _BRACKETED.findall(text)]
    if mode == "glued":
        return [int(raised or glued) for raised, glued in _GLUED.findall(text)]
    return [int(n) for n in _CITED.findall(text)]


def _under_references(lines: list[tuple[int, int, Line]], start: int) -> bool:
    """Whether a list stands under a references title, within the three lines over it: a bibliography."""
    return any(_REFERENCES.match(line.text) for _, _, line in lines[max(0, start - 3):start])


def cite_glued(pages: list[list[Line]], closing: Closing) -> list[list[Line]]:
    """Return the pages with the digits set against a word that cite the closing list's notes, in the text
    before it, written as markers (``⟦7⟧``): in reading order, each the next number to be cited (or the one
    after it), so that other digits set so stay text."""
    expected = 1

    def mark(m: re.Match[str]) -> str:
        nonlocal expected
        number = int(m.group(1) or m.group(2))
        if number not in (expected, expected + 1) or number > closing.last:
            return m.group(0)
        expected = number + 1
        return f"⟦{number}⟧"

    return [[replace(line, text=_GLUED.sub(mark, line.text)) if (p, i) < (closing.page, closing.line) else line
             for i, line in enumerate(page)] for p, page in enumerate(pages)]


def cite_brackets(pages: list[list[Line]], closing: Closing) -> list[list[Line]]:
    """Return the pages with the bracketed numbers on the line ("[7]") that cite the closing list's notes,
    in the text before it, written as markers (``⟦7⟧``), and the list's bracketed labels ("[7]. Id.") as
    its lines' leads. Elsewhere a bracketed number is no note's (a bibliography's "[7] A. Author")."""
    def mark(m: re.Match[str]) -> str:
        return f"⟦{m.group(1)}⟧" if 1 <= int(m.group(1)) <= closing.last else m.group(0)

    def read(line: Line, before: bool) -> Line:
        if before:
            return replace(line, text=_ON_LINE.sub(mark, line.text))
        label = _BRACKET_LABEL.match(line.text) if line.lead is None else None
        return replace(line, lead=(int(label.group(1)), line.text[label.end():], False)) if label else line

    return [[read(line, (p, i) < (closing.page, closing.line)) for i, line in enumerate(page)]
            for p, page in enumerate(pages)]


def note_text(text: str) -> str:
    """Return a note's text without what a web page prints around it: a link back to the marker ("↑",
    "↩", "^") before or after it, a stray point opening it (the number's own, printed twice)."""
    return _BACKLINK.sub("", text)
