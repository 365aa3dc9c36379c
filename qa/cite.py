"""Citations: resolve "Ibid." / "Id." / "supra note N" / "op. cit." footnotes, and turn a hit's markers into citations.

``resolve_footnotes`` runs at parse time (each note learns the full reference it
points to, or is marked unresolved: we never guess). ``citations_for`` runs at
search time and hands the UI and CLI what to show under a passage.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from difflib import SequenceMatcher

from qa.records import Citation, Footnote, Marker, Paragraph, marker_from_str

# "Ibid." and the legal "Id." ("See id. at 12", "Cf. id."): the note before.
_IBID = re.compile(r"^\W*(?:(?:see(?:\s+also)?|cf\.|accord|but\s+see|e\.g\.,?)\s+)*(?:ibid(?:em)?\b\.?|id\.)",
                   re.IGNORECASE)
_OP_CIT = re.compile(r"\bop\.?\s*cit\b\.?", re.IGNORECASE)
# "Tribe, supra note 6, at 1898": the full reference in note 6, when the note's first citation is one.
_SUPRA = re.compile(r"\bsupra\s+notes?\s+(\d+)", re.IGNORECASE)
_AUTHOR_MATCH = 0.8


def resolve_footnotes(notes: list[Footnote]) -> list[Footnote]:
    """Return the notes with ``resolved`` filled for back-references: ibid./id. (the note before),
    "supra note N" (note N) and op. cit. (the latest full reference by that author)."""
    out: list[Footnote] = []
    by_number: dict[str, Footnote] = {}  # the latest note of each number, in any series ("2:6" is 6)
    for note in notes:
        supra = _SUPRA.search(note.text.split(";", 1)[0])
        if _IBID.match(note.text):
            target = out[-1] if out else None
            out.append(_point(note, target))
        elif supra:
            out.append(_point(note, by_number.get(str(marker_from_str(supra.group(1))))))
        elif _OP_CIT.search(note.text):
            out.append(_point(note, _find_author(note.text, out)))
        else:
            out.append(note)
        by_number[str(out[-1].marker).rsplit(":", 1)[-1]] = out[-1]
    return out


def _point(note: Footnote, target: Footnote | None) -> Footnote:
    if target is None or target.unresolved:
        return dataclasses.replace(note, unresolved=True)
    full = target.resolved or target.text
    marker = target.resolved_marker if target.resolved else target.marker
    urls = tuple(dict.fromkeys(note.urls + target.urls))
    return dataclasses.replace(note, resolved=full, resolved_marker=marker, urls=urls)


def _find_author(text: str, earlier: list[Footnote]) -> Footnote | None:
    """The latest earlier full reference whose author (or title) matches, tolerating typos."""
    cit = _OP_CIT.search(text)
    key = _key(text[: cit.start()] if cit else text)
    if len(key) < 3:
        return None
    for note in reversed(earlier):
        if note.resolved or note.unresolved or _OP_CIT.search(note.text) or _IBID.match(note.text):
            continue
        head = _key(note.text)[: len(key) + 2]
        if head.startswith(key) or SequenceMatcher(None, key, head[: len(key)]).ratio() >= _AUTHOR_MATCH:
            return note
    return None


def _key(text: str) -> str:
    """Author (or title) of a reference, folded: accents, case and punctuation dropped."""
    text = re.split(r"[,«“\"]|\bin\b", text.strip(" *_"), maxsplit=1)[0] if "," in text or "«" in text else text
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", folded).strip()


def citations_for(paragraph: Paragraph, notes: dict[Marker, Footnote]) -> tuple[Citation, ...]:
    """Return the citations of a paragraph's markers, in order, from the doc's notes by marker."""
    out = []
    for marker in paragraph.footnotes:
        note = notes.get(marker)
        if note is None:
            continue
        out.append(Citation(marker=marker, text=note.text, urls=note.urls,
                            resolved=note.resolved, unresolved=note.unresolved))
    return tuple(out)
