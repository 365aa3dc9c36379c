"""Word reader: a .docx file → blocks (headings, paragraphs, footnotes and endnotes) for ``parse.assemble``.

The text is ``word/document.xml`` as Word prints it: tracked deletions, hidden text (``w:vanish``, also
through a style) and field codes are left out; insertions and field results are kept; a table cell's
paragraphs and a text box's are paragraphs of their own, after the paragraph that anchors them.
Headings come from paragraph styles (built-in "heading N" and "Title", or an outline level).
Word stores no note numbers: ``number_notes`` counts the references in document order under each
section's footnote properties (``w:footnotePr``/``w:endnotePr``, default in ``word/settings.xml``):
start, restart per section or per page (pages as Word last laid them out), number format. A
reference with a custom mark prints that mark and takes no number.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from lxml import etree

from qa.markup import MAX_DEPTH, Package, body_block, local, mark, squeeze, to_roman
from qa.records import Block, Marker

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_SKIP = {"del", "moveFrom", "delText", "instrText", "delInstrText", "rPrChange", "pPrChange", "sectPrChange",
         "tblPrChange", "trPrChange", "tcPrChange", "numberingChange", "pPr", "rPr", "tblPr", "trPr", "tcPr",
         "tblGrid", "commentReference", "annotationRef", "footnoteRef", "endnoteRef", "separator",
         "continuationSeparator", "proofErr", "bookmarkStart", "bookmarkEnd", "sectPr", "Fallback"}
_BLOCKS = {"p", "tbl", "sdt", "customXml", "txbxContent", "tc", "tr", "sdtContent"}


@dataclasses.dataclass(frozen=True)
class Ref:
    """A note reference in the text: footnote or endnote, its id, section and page, a custom mark."""
    kind: str  # "footnote" | "endnote"
    id: str
    section: int
    page: int
    custom: str | None


@dataclasses.dataclass(frozen=True)
class NoteProps:
    """A section's note numbering: format, first number, when it starts again."""
    fmt: str = "decimal"
    start: int = 1
    restart: str = "continuous"  # | "eachSect" | "eachPage"


class _Reader:
    """The walk over one document's XML: the hidden styles, heading styles and the references so far."""

    def __init__(self, hidden_styles: set[str], heading_styles: set[str]) -> None:
        self.hidden_styles, self.heading_styles = hidden_styles, heading_styles
        self.refs: list[Ref] = []
        self.section = 0
        self.page = 0

    def blocks(self, parent: etree._Element, depth: int = 0) -> list[Block]:
        """Return the blocks of a body, cell, or text box: each paragraph, then its text boxes."""
        out: list[Block] = []
        for child in parent:
            tag = local(child.tag)
            if tag == "p":
                text, boxes = self.paragraph(child)
                out += body_block(text, heading=self.is_heading(child))
                for box in boxes:
                    out += self.blocks(box, depth + 1)
                if child.find(f"{W}pPr/{W}sectPr") is not None:  # the paragraph ends a section
                    self.section += 1
            elif tag in _BLOCKS and depth < MAX_DEPTH:
                out += self.blocks(child, depth + 1)
        return out

    def paragraph(self, p: etree._Element, refs: bool = True) -> tuple[str, list[etree._Element]]:
        """Return a paragraph's printed text (note references as markers) and its text boxes."""
        style = p.find(f"{W}pPr/{W}pStyle")
        hidden = style is not None and style.get(f"{W}val") in self.hidden_styles
        pieces: list[str] = []
        boxes: list[etree._Element] = []
        custom: list[int] = []  # where a custom mark's text goes: the reference's piece
        self._inline(p, pieces, boxes, hidden, custom, refs, 0)
        return "".join(pieces), boxes

    def _inline(self, el: etree._Element, pieces: list[str], boxes: list[etree._Element], hidden: bool,
                custom: list[int], refs: bool, depth: int) -> None:
        for ch in el:
            tag = local(ch.tag)
            if tag in _SKIP or not tag:
                continue
            if tag == "r":
                if not self._run_hidden(ch, hidden):
                    self._inline(ch, pieces, boxes, hidden, custom, refs, depth + 1)
            elif tag == "t":
                if custom and custom[-1] >= 0 and refs:  # the printed custom mark of the reference before
                    index = custom.pop()
                    ref = self.refs[index]
                    self.refs[index] = dataclasses.replace(ref, custom=(ref.custom or "") + (ch.text or ""))
                    pieces.append("")
                else:
                    pieces.append(ch.text or "")
            elif tag in ("tab", "ptab", "br", "cr"):
                pieces.append(" ")
                if tag == "br" and ch.get(f"{W}type") == "page":
                    self.page += 1
            elif tag == "lastRenderedPageBreak":
                self.page += 1
            elif tag == "noBreakHyphen":
                pieces.append("-")
            elif tag == "sym":
                pieces.append(_symbol(ch.get(f"{W}char", "")))
            elif tag in ("footnoteReference", "endnoteReference"):
                if refs:
                    follows = ch.get(f"{W}customMarkFollows") in ("1", "true", "on")
                    self.refs.append(Ref(tag[:-9], ch.get(f"{W}id", ""), self.section, self.page, "" if follows else None))
                    pieces.append(f"⟦#{len(self.refs) - 1}⟧")  # keyed once all are counted
                    if follows:
                        custom.append(len(self.refs) - 1)
            elif tag == "txbxContent":
                boxes.append(ch)
            elif tag == "AlternateContent":  # the same content twice: the first choice only
                choice = next((c for c in ch if local(c.tag) == "Choice"), None)
                if choice is not None and depth < MAX_DEPTH:
                    self._inline(choice, pieces, boxes, hidden, custom, refs, depth + 1)
            elif depth < MAX_DEPTH and tag != "p":
                self._inline(ch, pieces, boxes, hidden, custom, refs, depth + 1)
            elif tag == "p":  # a paragraph inside a paragraph (a text box's, read as one)
                boxes.append(ch)

    def _run_hidden(self, run: etree._Element, para_hidden: bool) -> bool:
        """A run is hidden by its own w:vanish, else by its character style, else by its paragraph's style."""
        vanish = run.find(f"{W}rPr/{W}vanish")
        if vanish is not None:
            return vanish.get(f"{W}val") not in ("0", "false", "off")
        style = run.find(f"{W}rPr/{W}rStyle")
        if style is not None and style.get(f"{W}val") in self.hidden_styles:
            return True
        return para_hidden

    def is_heading(self, p: etree._Element) -> bool:
        """A paragraph is a heading when its style is one, or it has an outline level of its own."""
        style = p.find(f"{W}pPr/{W}pStyle")
        level = p.find(f"{W}pPr/{W}outlineLvl")
        if level is not None:
            return level.get(f"{W}val", "9") not in ("9", "")
        return style is not None and style.get(f"{W}val") in self.heading_styles


def _symbol(code: str) -> str:
    """Return the character of a w:sym (symbol fonts map F0xx to the private area; those are dropped)."""
    try:
        value = int(code, 16)
    except ValueError:
        return ""
    return chr(value) if value < 0xE000 or value > 0xF8FF else ""


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of a Word document: headings and paragraphs in order, then its notes."""
    pkg = Package(Path(path), "Word document (.docx)")
    root = pkg.xml("word/document.xml")
    body = root.find(f"{W}body")
    if body is None:
        return []
    styles = pkg.xml("word/styles.xml") if pkg.has("word/styles.xml") else None
    reader = _Reader(*style_kinds(styles))
    blocks = reader.blocks(body)
    settings = pkg.xml("word/settings.xml") if pkg.has("word/settings.xml") else None
    sections = [s for s in body.iter(f"{W}sectPr") if local(s.getparent().tag) in ("pPr", "body")]  # in order
    keys = number_notes(reader.refs, sections, settings)
    texts = {kind: note_texts(pkg, kind, reader) for kind in ("footnote", "endnote")}
    out = [dataclasses.replace(b, text=re.sub(r"⟦#(\d+)⟧", lambda m: mark(keys[int(m.group(1))]), b.text)) for b in blocks]
    for ref, key in zip(reader.refs, keys, strict=True):
        out.append(Block("note", texts[ref.kind].get(ref.id, ""), marker=key))
    return out


def style_kinds(styles: etree._Element | None) -> tuple[set[str], set[str]]:
    """Return the ids of the styles that hide their text (w:vanish) and of the heading styles (a
    "heading N" or "Title" name, or an outline level), following each style's basedOn chain."""
    if styles is None:
        return set(), set()
    info: dict[str, tuple[str | None, bool | None, bool | None]] = {}
    for style in styles.iter(f"{W}style"):
        sid = style.get(f"{W}styleId", "")
        name = (style.find(f"{W}name").get(f"{W}val", "") if style.find(f"{W}name") is not None else "").lower()
        based = style.find(f"{W}basedOn")
        vanish = style.find(f"{W}rPr/{W}vanish")
        level = style.find(f"{W}pPr/{W}outlineLvl")
        heading = True if re.fullmatch(r"heading \d|title", name) else None
        if level is not None:
            heading = level.get(f"{W}val", "9") != "9"
        hidden = None if vanish is None else vanish.get(f"{W}val") not in ("0", "false", "off")
        info[sid] = (based.get(f"{W}val") if based is not None else None, hidden, heading)

    def inherited(sid: str, slot: int) -> bool:
        seen: set[str] = set()
        while sid in info and sid not in seen:
            seen.add(sid)
            value = info[sid][slot]
            if value is not None:
                return bool(value)
            sid = info[sid][0] or ""
        return False
    return {s for s in info if inherited(s, 1)}, {s for s in info if inherited(s, 2)}


def note_props(pr: etree._Element | None, base: NoteProps) -> NoteProps:
    """Return the note numbering a w:footnotePr/w:endnotePr sets over ``base``."""
    if pr is None:
        return base
    fmt, start, restart = (pr.find(f"{W}{name}") for name in ("numFmt", "numStart", "numRestart"))
    try:
        first = int(start.get(f"{W}val", "")) if start is not None else base.start
    except ValueError:
        first = base.start
    return NoteProps(fmt.get(f"{W}val", base.fmt) if fmt is not None else base.fmt, first,
                     restart.get(f"{W}val", base.restart) if restart is not None else base.restart)


def number_notes(refs: list[Ref], sections: list[etree._Element], settings: etree._Element | None) -> list[Marker]:
    """Return each reference's key, as Word prints it: counted per kind in document order under its
    section's properties, "S:N" for the S-th run where numbering starts again; endnotes' runs come
    after the footnotes'. A custom mark is its own key and takes no number."""
    defaults = {"footnote": NoteProps(), "endnote": NoteProps(fmt="lowerRoman")}
    for kind in defaults:
        pr = settings.find(f"{W}{kind}Pr") if settings is not None else None
        defaults[kind] = note_props(pr, defaults[kind])
    keys: list[Marker] = [""] * len(refs)
    series_used = 0
    for kind in ("footnote", "endnote"):
        count, series, last, where = 0, series_used, None, None
        for i, ref in enumerate(refs):
            if ref.kind != kind:
                continue
            if ref.custom is not None:
                keys[i] = ref.custom.strip() or "*"
                continue
            sect = sections[ref.section] if ref.section < len(sections) else None
            props = note_props(sect.find(f"{W}{kind}Pr") if sect is not None else None, defaults[kind])
            here = ref.section if props.restart == "eachSect" else ref.page if props.restart == "eachPage" else None
            if last is None or (props.restart != "continuous" and here != where):
                count = props.start
                series += 1
            else:
                count += 1
            last, where = count, here
            label = _format(count, props.fmt)
            keys[i] = label if isinstance(label, str) else (label if series == 1 else f"{series}:{label}")
        series_used = series
    return keys


def _format(number: int, fmt: str) -> Marker:
    """Return a note number as printed: digits and roman numerals as their value, letters and symbols as text."""
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (number - 1) % 26) * ((number - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt == "chicago":
        return "*†‡§"[(number - 1) % 4] * ((number - 1) // 4 + 1)
    if fmt in ("lowerRoman", "upperRoman") and number > 3999:
        return to_roman(number)
    return number


def note_texts(pkg: Package, kind: str, reader: _Reader) -> dict[str, str]:
    """Return the printed text of every footnote (or endnote) by id; separators are left out."""
    part = f"word/{kind}s.xml"
    if not pkg.has(part):
        return {}
    texts: dict[str, str] = {}
    for note in pkg.xml(part).iter(f"{W}{kind}"):
        if note.get(f"{W}type") not in (None, "normal"):
            continue
        pieces = []
        for p in note.iter(f"{W}p"):
            if any(local(a.tag) == "txbxContent" for a in p.iterancestors()):
                continue  # a text box's paragraph: read with the paragraph that holds the box
            text, boxes = reader.paragraph(p, refs=False)
            pieces.append(text)
            pieces += [reader.paragraph(q, refs=False)[0] for box in boxes for q in box.iter(f"{W}p")]
        texts[note.get(f"{W}id", "")] = squeeze(" ".join(pieces))
    return texts
