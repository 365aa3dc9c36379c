"""Roman note numbers: Word's and LibreOffice's default endnote numbering (i, ii, iii …).

``lines`` writes a raised run of lower-case roman letters as a marker ``⟦iv⟧``; here, once per
document, those markers and the note list's labels become note numbers (``⟦4⟧``, a line's
``lead``) where the list's labels run i, ii, iii … and each is cited by a raised marker; everywhere
else the letters go back to being text ("vi" in a sentence or a raised "x" in a formula is no note).
The pages then go to ``blocks`` like pages whose notes are numbered in digits.
"""

from __future__ import annotations

import re
from dataclasses import replace

from qa.pdf.layout import Line

_VALID = re.compile(r"(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3})")
_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_RAISED = re.compile(r"⟦([ivxlc]{1,9})⟧")
# A note list's label: raised, or set apart, or against the note's first word when that is no
# lower-case letter ("viiiShared vision", "xxviihttps://…"); "i.e." and "civil" are no labels.
_LABEL = re.compile(r"^(?:⟦([ivxlc]{1,9})⟧|([ivxlc]{1,9})(?=\s|\.\s|[^\W_a-z]|[«“\"‘(\[<]|https?:|www\.))\.?\s*")


def value(numeral: str) -> int | None:
    """Return the value of a lower-case roman numeral (i … ccclxxxix), None when it is none."""
    if not _VALID.fullmatch(numeral):
        return None
    total = 0
    for ch, after in zip(numeral, [*numeral[1:], ""], strict=True):
        total += -_VALUES[ch] if after and _VALUES[after] > _VALUES[ch] else _VALUES[ch]
    return total


def numeral(number: int) -> str:
    """Return a number from 1 to 399 as a lower-case roman numeral (4 → "iv")."""
    out = ""
    for size, letters in ((100, "c"), (90, "xc"), (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= size:
            out, number = out + letters, number - size
    return out


def roman_notes(pages: list[list[Line]]) -> list[list[Line]]:
    """Return the pages with roman note numbers read as numbers: the raised markers ``⟦iv⟧`` → ``⟦4⟧``
    and the labels of a list running i, ii, iii … → leads, where each label is cited by a raised
    marker; the other raised roman letters go back to text."""
    labels: dict[tuple[int, int], tuple[int, str, bool]] = {}
    expected = 1
    for p, page in enumerate(pages):
        for i, line in enumerate(page):
            lead = _label(line)
            if lead is not None and lead[0] in (expected, 1):  # the next in the list, or a new list
                labels[(p, i)] = lead
                expected = lead[0] + 1
    cited = {value(m.group(1)) for p, page in enumerate(pages) for i, line in enumerate(page)
             for m in _RAISED.finditer(line.text) if not (m.start() == 0 and (p, i) in labels)}
    labels = {key: lead for key, lead in labels.items() if lead[0] in cited}
    numbers = {lead[0] for lead in labels.values()}
    if not {1, 2} <= numbers:  # no list that runs i, ii … cited in the text: roman letters are text
        numbers, labels = set(), {}

    def number(m: re.Match[str]) -> str:
        n = value(m.group(1))
        return f"⟦{n}⟧" if n in numbers else m.group(1)

    out = []
    for p, page in enumerate(pages):
        lines = []
        for i, line in enumerate(page):
            text = _RAISED.sub(number, line.text) if "⟦" in line.text else line.text
            changed = text != line.text or (p, i) in labels
            lines.append(replace(line, text=text, lead=labels.get((p, i), line.lead)) if changed else line)
        out.append(lines)
    return out


def _label(line: Line) -> tuple[int, str, bool] | None:
    """Return the line's lead when it opens with a roman label: (number, rest of line, raised?)."""
    match = _LABEL.match(line.text) if line.lead is None else None
    if match is None or match.end() == len(line.text):
        return None
    n = value(match.group(1) or match.group(2))
    return None if n is None else (n, line.text[match.end():], match.group(1) is not None)
