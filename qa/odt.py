"""OpenDocument reader: an .odt file → blocks (headings, paragraphs, footnotes and endnotes) for ``parse.assemble``.

The text is ``content.xml``'s ``office:text`` as it prints: ``text:h`` are headings, ``text:p`` paragraphs
(in lists, tables, sections and text boxes too, each a paragraph of its own), spaces and tabs from
``text:s``/``text:tab``; tracked changes' deleted text, hidden text and paragraphs (``text:hidden-*``,
a style with ``text:display="none"``), comments and drawings' titles are left out. A ``text:note`` sits
in place in its paragraph with its printed citation (``text:note-citation``, or its ``text:label``)
and its body; where the printed numbers start again (per chapter or page) they are keyed "S:N".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from lxml import etree

from qa.markup import MAX_DEPTH, Package, body_block, local, mark, note_keys, series, shifted, squeeze
from qa.records import Block, Marker

TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
STYLE = "{urn:oasis:names:tc:opendocument:xmlns:style:1.0}"
_SKIP = {"tracked-changes", "annotation", "annotation-end", "hidden-text", "hidden-paragraph", "note-citation",
         "bookmark", "bookmark-start", "bookmark-end", "reference-mark-start", "reference-mark-end",
         "soft-page-break", "sequence-decls", "variable-decls", "user-field-decls", "forms", "title", "desc",
         "change", "change-start", "change-end", "toc-mark", "alphabetical-index-mark", "index-title-template"}
_BLOCKS = {"p", "h"}


class _Reader:
    """The walk over one document: its hidden styles and the notes met so far (label, text)."""

    def __init__(self, hidden_styles: set[str]) -> None:
        self.hidden_styles = hidden_styles
        self.notes: list[tuple[str, str, str]] = []  # (class, label, text)

    def blocks(self, parent: Iterable[etree._Element], depth: int = 0) -> list[Block]:
        """Return the blocks of a text container's children: each paragraph or heading, then its text boxes."""
        out: list[Block] = []
        for child in parent:
            tag = local(child.tag)
            if tag in _SKIP or tag.endswith("-source") or not tag or self.hidden(child):
                continue
            if tag in _BLOCKS:
                pieces: list[str] = []
                boxes: list[etree._Element] = []
                self.inline(child, pieces, boxes, 0)
                out += body_block("".join(pieces), heading=tag == "h")
                for box in boxes:
                    out += self.blocks([box], depth + 1)
            elif depth < MAX_DEPTH:
                out += self.blocks(child, depth + 1)
        return out

    def inline(self, el: etree._Element, pieces: list[str], boxes: list[etree._Element], depth: int) -> None:
        """Add an element's printed text to ``pieces`` (notes as markers), its text boxes to ``boxes``."""
        if el.text:
            pieces.append(el.text)
        for ch in el:
            tag = local(ch.tag)
            if tag and tag not in _SKIP and not self.hidden(ch):
                if tag == "note":
                    pieces.append(self.note(ch))
                elif tag == "s":
                    count = ch.get(f"{TEXT}c", "1")
                    pieces.append(" " * (min(int(count), 100) if count.isdecimal() else 1))
                elif tag in ("tab", "line-break"):
                    pieces.append(" ")
                elif tag == "text-box" or tag in _BLOCKS:  # a box, a paragraph in a paragraph: read after it
                    boxes.append(ch)
                elif depth < MAX_DEPTH:
                    self.inline(ch, pieces, boxes, depth + 1)
            if ch.tail:
                pieces.append(ch.tail)

    def note(self, note: etree._Element) -> str:
        """Return the marker of a text:note, keeping its label and text."""
        citation = note.find(f"{TEXT}note-citation")
        label = ""
        if citation is not None:
            label = citation.get(f"{TEXT}label") or "".join(citation.itertext())
        body = note.find(f"{TEXT}note-body")
        texts: list[str] = []
        if body is not None:
            for p in body.iter(f"{TEXT}p", f"{TEXT}h"):
                if self.hidden(p):
                    continue
                pieces: list[str] = []
                self.inline(p, pieces, [], 0)
                texts.append("".join(pieces))
        self.notes.append((note.get(f"{TEXT}note-class", "footnote"), squeeze(label), squeeze(" ".join(texts))))
        return f"⟦#{len(self.notes) - 1}⟧"

    def hidden(self, el: etree._Element) -> bool:
        """An element whose style is not displayed (text:display="none") prints nothing."""
        style = el.get(f"{TEXT}style-name")
        return style is not None and style in self.hidden_styles


def hidden_styles(*roots: etree._Element) -> set[str]:
    """Return the names of the styles, automatic or named, whose text is not displayed."""
    hidden: set[str] = set()
    for root in roots:
        for style in root.iter(f"{STYLE}style"):
            props = style.find(f"{STYLE}text-properties")
            if props is not None and props.get(f"{TEXT}display") in ("none", "condition"):
                hidden.add(style.get(f"{STYLE}name", ""))
    return hidden


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of an OpenDocument text: headings and paragraphs in order, then its notes."""
    pkg = Package(Path(path), "OpenDocument text (.odt)")
    root = pkg.xml("content.xml")
    styles = [root] + ([pkg.xml("styles.xml")] if pkg.has("styles.xml") else [])
    text = next((el for el in root.iter("{urn:oasis:names:tc:opendocument:xmlns:office:1.0}text")), None)
    if text is None:
        return []
    reader = _Reader(hidden_styles(*styles))
    blocks = reader.blocks(text)
    keys = class_keys([(kind, label) for kind, label, _ in reader.notes])
    out = [Block(b.kind, re.sub(r"⟦#(\d+)⟧", lambda m: mark(keys[int(m.group(1))]), b.text), b.page, b.marker, b.continues)
           for b in blocks]
    out += [Block("note", note_text, marker=key) for (_, _, note_text), key in zip(reader.notes, keys, strict=True)]
    return out


def class_keys(notes: list[tuple[str, str]]) -> list[Marker]:
    """Return each note's key from (class, label): footnotes and endnotes are numbered apart, the
    endnotes' runs after the footnotes' ("S:N")."""
    keys: list[Marker] = [""] * len(notes)
    runs = 0
    for kind in ("footnote", "endnote"):
        where = [i for i, (k, _) in enumerate(notes) if (k == "endnote") == (kind == "endnote")]
        found = note_keys([notes[i][1] for i in where])
        for i, key in zip(where, found, strict=True):
            keys[i] = shifted(key, runs)
        runs += max((series(key) for key in found), default=0)
    return keys
