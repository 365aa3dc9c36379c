"""HTML notes: which elements of a page (or an EPUB's documents) mark notes, and which hold them.

``find_markers`` takes the markers in reading order, each with its note: ``note_of`` follows a link
(``href="#fn1"``, ``epub:type="noteref"``, ``aria-describedby``) to the element it names, across
files in an EPUB; ``inline_note`` takes the note that follows its marker in the paragraph (a
tooltip, a ``<cite class="footnote">``); ``labelled_notes`` finds the notes of links whose target is
missing as paragraphs that open with the marker's label ("[1]. …"); ``raised_notes`` pairs raised
numbers that link nowhere with a list of notes. ``note_text`` is a note's printed text, without
back-links and its own label. ``qa.html`` hands the rest of the page to ``parse.assemble``.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from lxml import etree

from qa.markup import MAX_DEPTH, local, roman_value, squeeze

BLOCK = {"p", "div", "li", "blockquote", "pre", "dd", "dt", "td", "th", "section", "article", "main", "aside",
         "header", "footer", "figure", "figcaption", "caption", "table", "tr", "ul", "ol", "dl", "address",
         "hgroup", "details", "summary", "body", "html", "center", "tbody", "thead", "tfoot", "nav", "fieldset"}
HEADING = {"h1", "h2", "h3", "h4", "h5", "h6"}
_NOT_A_NOTE = {"body", "html", "main", "article", "section", "table", "tbody", "tr"}
_LABEL = re.compile(r"[\[(]?(\d{1,4}|[ivxlcdm]{1,7}|[a-z]|[*†‡§¶‖#]{1,3})[\])]?\.?", re.IGNORECASE)
_NOTE_WORDS = {"footnote", "footnotes", "endnote", "endnotes", "note", "notes", "sidenote", "fn", "mfn",
               "tooltip", "rearnote", "doc-footnote", "doc-endnote"}
UNSEEN = {"hidden", "sr-only", "visually-hidden", "visuallyhidden", "screen-reader-text", "d-none"}  # whole classes
_OPS = "{http://www.idpf.org/2007/ops}type"
_BACK = {"backlink", "backlinks", "backref", "back", "return"}  # a note's way back to its marker (class words)


@dataclass
class Page:
    """One HTML document of a book or site: its name (a path in the EPUB; "" for a web page) and tree."""
    name: str
    root: etree._Element


@dataclass
class Marker:
    """A note marker in the text, the element holding its note, the printed label."""
    el: etree._Element
    note: etree._Element | None  # None: the link's target is missing (see labelled_notes)
    label: str
    target: etree._Element | None = None  # the element its link names


def kinds_of(el: etree._Element) -> set[str]:
    """Return the element's epub:type and role words."""
    return set(f"{el.get(_OPS) or ''} {el.get('epub:type') or ''} {el.get('role') or ''}".split())


def words_of(el: etree._Element) -> set[str]:
    """Return the words of an element's class and id ("footnote-item js-x" → footnote, item, js, x)."""
    return set(re.split(r"[-_\s]+", f"{el.get('class') or ''} {el.get('id') or ''}".lower())) - {""}


def marker_label(el: etree._Element) -> str:
    """Return the label a marker prints: its text without screen-reader words ("Footnote 12" → "12")."""
    parts: list[str] = []

    def visible(node: etree._Element) -> None:
        if set((node.get("class") or "").split()) & UNSEEN:
            return
        parts.append(node.text or "")
        for ch in node:
            visible(ch)
            parts.append(ch.tail or "")
    visible(el)
    return re.sub(r"^(?:foot|end)?note\s+", "", squeeze("".join(parts)), flags=re.IGNORECASE)


def is_label(text: str, raised: bool) -> bool:
    """Return True when a marker's text is a note label: 12, [12], *, †; raised also iv, a."""
    match = _LABEL.fullmatch(text)
    if match is None or not match.group(1).isalpha():
        return match is not None
    return raised and (len(match.group(1)) == 1 or roman_value(match.group(1)) is not None)  # "Id." is no label


def find_markers(pages: list[Page], ids: dict[tuple[str, str], etree._Element],
                 order: dict[etree._Element, int]) -> list[Marker]:
    """Return the note markers of the pages in reading order, each with its note: explicit noterefs
    where the pages have them, else links and in-place notes; a marker inside a note already taken
    (a back-link, a cross-reference in a note) or pointing into the body before it is no marker."""
    candidates = list(_candidates(pages, ids))
    explicit = [c for c in candidates if kinds_of(c.el) & {"noteref", "doc-noteref"}]
    chosen: list[Marker] = []
    taken: set[etree._Element] = set()  # the notes so far
    citing: set[etree._Element] = set()  # the markers so far and every element around them
    for c in sorted(explicit or candidates, key=lambda c: order.get(c.el, 0)):
        if c.note is None or c.el in taken or any(a in taken for a in c.el.iterancestors()):
            continue
        if c.el in citing and any(m.el in set(c.el.iter()) or m.el in set(c.el.iterancestors()) for m in chosen[-3:]):
            continue  # the same marker twice (<sup> and the link in it)
        if any(d in citing for d in c.note.iter()):
            continue  # the link points back to a paragraph that cites a note: a back-link
        if c.target is not None and c.target.get("href") and order.get(c.target, 0) < order.get(c.el, 0) \
                and is_label(squeeze("".join(c.target.itertext())), True):
            continue  # a label linking back to an earlier label (a note's "[1]" to its marker "[1]")
        chosen.append(c)
        taken.add(c.note)
        citing.update(c.el.iterancestors())
        citing.add(c.el)
    pending = [c for c in candidates if c.note is None and not any(a in taken for a in c.el.iterancestors())]
    found = chosen + labelled_notes(pages, [] if explicit else pending, chosen)
    return found or raised_notes(pages)


def _candidates(pages: list[Page], ids: dict[tuple[str, str], etree._Element]) -> Iterator[Marker]:
    """Yield every element that may mark a note, with the note it names (note None: its target is missing)."""
    linked: set[etree._Element] = set()  # what a note may not hold besides its own anchor: targets, label links
    for page in pages:
        for el in page.root.iter():
            target = _target(page.name, el, ids)
            if target is not None:
                linked.add(target)
                if local(el.tag) == "a" and is_label(squeeze("".join(el.itertext())), True):
                    linked.add(el)
    for page in pages:
        for el in page.root.iter():
            tag = local(el.tag)
            if tag not in ("a", "sup", "button", "span"):
                continue
            label = marker_label(el)
            raised = tag == "sup" or any(local(a.tag) == "sup" for a in el.iterancestors()) \
                or any(w.startswith(("fn", "footnote", "endnote", "note")) for w in words_of(el))  # Gutenberg's fnanchor [A]
            if not is_label(label, raised) and not kinds_of(el) & {"noteref", "doc-noteref"}:
                continue
            target = _target(page.name, el, ids)
            if target is not None:
                note = note_of(target, linked)
                if note is not None and el not in set(note.iter()):
                    yield Marker(el, note, label, target)
                continue
            inline = inline_note(el)
            if inline is not None:
                yield Marker(el, inline, label)
            elif tag == "a" and "#" in (el.get("href") or "") and _number(label) is not None:
                yield Marker(el, None, label)


def _target(page: str, el: etree._Element, ids: dict[tuple[str, str], etree._Element]) -> etree._Element | None:
    """Return the element a marker names: its link's #fragment (in this page or another), or the id in
    its aria-describedby / aria-controls."""
    href = el.get("href") or ""
    if "#" in href and not href.startswith(("http:", "https:", "javascript:", "mailto:")):
        path, _, frag = href.partition("#")
        name = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(path))) if path else page
        return ids.get((name, unquote(frag)))
    for attr in ("aria-describedby", "aria-controls"):
        for ident in (el.get(attr) or "").split():
            if (page, ident) in ids:
                return ids[(page, ident)]
    return None


def note_of(target: etree._Element, linked: set[etree._Element]) -> etree._Element | None:
    """Return the element holding the note a link names: the target itself when it has text of its
    own (more than a label), else the nearest block around it; then, while that block opens a
    container that holds no other link target or label link, the container (a note of several
    paragraphs: <div id="fn3"><p><a name="fn3">3</a> …</p><p>…</p></div>). A label set apart
    (<dt>1</dt><dd>…</dd>, Texinfo's <h5>(1)</h5><p>…</p>) names the block after it. Never a heading
    or a section."""
    label = label_block(target)
    if label is not None:
        after = label.getnext()
        ok = after is not None and local(after.tag) in BLOCK - _NOT_A_NOTE and not _label_only(after)
        return after if ok and not _has_heading(after) else None
    note = target
    while local(note.tag) not in BLOCK and _label_only(note):
        parent = note.getparent()
        if parent is None:
            return None
        note = parent
    if (local(note.tag) in _NOT_A_NOTE and not (note is target and words_of(note) & _NOTE_WORDS)) or _has_heading(note) \
            or _label_only(note):
        return None  # a table or section is a note only when it is the target and named one (docutils' html4)
    while (parent := note.getparent()) is not None and local(parent.tag) in BLOCK - _NOT_A_NOTE \
            and parent[0] is note and not (parent.text or "").strip() and not _has_heading(parent) \
            and not any(d in linked and d is not target for d in parent.iter()):
        note = parent
    return note


def label_block(target: etree._Element) -> etree._Element | None:
    """Return the heading or block that holds a link's target and nothing but a label ("(1)", "1"), else None."""
    el: etree._Element | None = target
    while el is not None and _label_only(el):
        if local(el.tag) in HEADING or local(el.tag) in ("dt", "p", "div"):
            return el if squeeze("".join(el.itertext())) else None
        if local(el.tag) in BLOCK:
            return None
        el = el.getparent()
    return None


def _label_only(el: etree._Element) -> bool:
    """An element with no text, or a label alone ("[12]", "12."): an anchor in a note, not the note."""
    text = squeeze("".join(el.itertext()))
    return not text or is_label(text, True)


def _has_heading(el: etree._Element) -> bool:
    return any(local(d.tag) in HEADING for d in el.iter())


def inline_note(el: etree._Element) -> etree._Element | None:
    """Return the note set in place right after its marker: the next element, when its class or role
    names a note or it is an <aside>/<cite> (a tooltip, a pop-up), and it has text beyond a label."""
    nxt, parent = el.getnext(), el.getparent()
    if nxt is None and parent is not None and local(parent.tag) == "sup" and not (el.tail or "").strip():
        el, nxt = parent, parent.getnext()  # <sup><a>1</a></sup><span class="note">
    if nxt is None or (el.tail or "").strip():
        return None
    named = words_of(nxt) | kinds_of(nxt)
    if not (named & _NOTE_WORDS or any(w.startswith(("footnote", "endnote")) for w in named)
            or local(nxt.tag) in ("aside", "cite")):
        return None
    return None if _label_only(nxt) else nxt


def labelled_notes(pages: list[Page], pending: list[Marker], chosen: list[Marker]) -> list[Marker]:
    """Return the markers whose link target is missing, each with its note found as the block after the
    last of them that opens with its label ("[1]. …", "1. …"), with the blocks after it up to the next label."""
    if not pending:
        return []
    wanted: dict[int | None, Marker] = {}
    for m in pending:
        wanted.setdefault(_number(m.label), m)
    last = pending[-1].el
    after = False
    found: list[Marker] = []
    taken = {c.note for c in chosen}
    current: Marker | None = None
    gone: set[etree._Element] = set()
    for page in pages:
        for el in list(page.root.iter()):  # a list: paragraphs are moved into their note on the way
            if el in gone:
                continue
            if el is last:
                after = True
                continue
            if not after or local(el.tag) not in ("p", "li", "div") or any(local(c.tag) in BLOCK for c in el):
                continue
            if any(a in taken for a in el.iterancestors()):
                continue
            text = squeeze("".join(el.itertext()))
            label = re.match(r"(\[?)(\d{1,4})\]?[.:)]?(?:\s|$)", text)
            number = int(label.group(2)) if label else None
            written = label is not None and (label.group(1) == "[") == wanted.get(number, pending[0]).label.startswith("[")
            following = current is not None and number == int(current.label) + 1
            if number in wanted and (written or following):
                # written as its marker is ("[12]" for a marker [12]), or the next number ("16." after "[15]."):
                # another stray "92." is the note's own text
                current = Marker(wanted.pop(number).el, el, str(number))
                found.append(current)
            elif current is not None and text and el.getprevious() is current.note:
                wrapper = current.note  # a note of several paragraphs: gather them under one element
                wrapper.append(_copy_as_span(el))
                remove(el)
                gone.update(el.iter())
    return found


def raised_notes(pages: list[Page]) -> list[Marker]:
    """Return the notes of a page whose markers link to nothing (<sup>1</sup>): the numbers 1..K raised
    in the text, each with the K-th item of the list of notes after them (an <ol> under a "Notes"
    heading, or named as notes) or the block after them that opens with its number ("1.", "[1]", ¹)."""
    raised: list[tuple[etree._Element, int]] = []
    for page in pages:
        for el in page.root.iter():
            text = squeeze("".join(el.itertext())) if local(el.tag) == "sup" else ""
            if text.isdecimal() and len(text) <= 4 and not any(local(a.tag) == "a" for a in el.iterancestors()):
                raised.append((el, int(text)))
    markers: list[Marker] = []
    openers: dict[etree._Element, int] = {}  # blocks that open with a note number, and the number
    for el, number in raised:
        block = next((a for a in el.iterancestors() if local(a.tag) in BLOCK), None)
        if block is not None and not (block.text or "").strip() and _first_text_child(block) is el:
            openers[block] = number
    cited = [(el, n) for el, n in raised if not any(a in openers for a in el.iterancestors())]
    if not cited:
        return []
    last = cited[-1][0]
    lists = [ol for page in pages for ol in page.root.iter() if local(ol.tag) == "ol" and _named_notes(ol)]
    notes: dict[int, etree._Element] = {}
    for ol in lists:
        start = int(ol.get("start", "1")) if (ol.get("start") or "1").isdecimal() else 1
        for k, li in enumerate((li for li in ol if local(li.tag) == "li"), start=start):
            notes.setdefault(k, li)
    if not notes:
        after = False
        for page in pages:
            for el in page.root.iter():
                after = after or el is last
                if after and local(el.tag) in ("p", "li", "div") and not any(local(c.tag) in BLOCK for c in el):
                    opener = re.match(r"\[?(\d{1,4})\]?[.:)]?\s", squeeze("".join(el.itertext())) + " ")
                    number = openers.get(el) or (int(opener.group(1)) if opener else 0)
                    if number:
                        notes.setdefault(number, el)
    numbers = sorted({n for _, n in cited})
    if not numbers or numbers != list(range(1, len(numbers) + 1)) or not all(n in notes for n in numbers):
        return []  # not a run of notes 1..K each with its note: raised numbers of another kind (km²)
    first = [next(i for i, (_, k) in enumerate(cited) if k == n) for n in numbers]
    at = {el: i for i, el in enumerate(el for page in pages for el in page.root.iter())}
    if first != sorted(first) or [at[notes[n]] for n in numbers] != sorted(at[notes[n]] for n in numbers):
        return []  # notes are cited and listed in order: exponents and numbered headings are not
    for n in numbers:  # a number raised twice (5 km², note 2): the one after punctuation, else the first
        same = [el for el, k in cited if k == n]
        after_stop = [el for el in same if re.search(r"[.,;:!?\"”’')]\s*$", _text_before(el))]
        markers.append(Marker(after_stop[0] if len(after_stop) == 1 else same[0], notes[n], str(n)))
    return markers


def _text_before(el: etree._Element) -> str:
    """Return the text right before an element in its parent (the previous sibling's tail, or the parent's text)."""
    prev = el.getprevious()
    if prev is not None:
        return prev.tail or ""
    parent = el.getparent()
    return (parent.text or "") if parent is not None else ""


def _first_text_child(block: etree._Element) -> etree._Element | None:
    """Return the element a block's text starts with (through wrappers), or None when text comes first."""
    el = block
    while len(el) and not (el.text or "").strip():
        el = el[0]
        if local(el.tag) == "sup":
            return el
    return None


def _named_notes(ol: etree._Element) -> bool:
    """A list of notes: named so (class, id, role, epub:type) on it or around it, or under a heading
    that says Notes, Footnotes, Endnotes."""
    for el in (ol, *ol.iterancestors()):
        if (words_of(el) | kinds_of(el)) & _NOTE_WORDS:
            return True
        heading = el.getprevious()
        while heading is not None and local(heading.tag) not in HEADING and not squeeze("".join(heading.itertext())):
            heading = heading.getprevious()
        if heading is not None and local(heading.tag) in HEADING:
            return bool(re.fullmatch(r"(foot|end)?notes?", squeeze("".join(heading.itertext())).lower()))
    return False


def _copy_as_span(el: etree._Element) -> etree._Element:
    span = etree.Element("span")
    span.text = " " + squeeze("".join(el.itertext()))
    return span


def _number(label: str) -> int | None:
    digits = label.strip("[]().")
    return int(digits) if digits.isdigit() else None


def note_text(note: etree._Element, label: str, markers: list[Marker]) -> str:
    """Return a note's printed text: without back-links to its markers, buttons, screen-reader text,
    and without its own label at the start."""
    backs: set[str] = set()
    for m in markers:
        if m.note is note:
            inline = []  # the marker's wrappers up to its paragraph: a back-link names one of them
            for a in m.el.iterancestors():
                if local(a.tag) in BLOCK:
                    break
                inline.append(a)
            around = (m.el, *inline, *m.el.iterdescendants())
            backs.update(v for el in around for v in (el.get("id"), el.get("name")) if v)
    parts: list[str] = []
    _note_text(note, backs, parts, 0, top=True, label=label.strip("[]().") or label)
    text = squeeze("".join(parts))
    bare = re.escape(label.strip("[]()."))
    if bare:  # the label written into the text: "[12].", "12.", "*" (a bare "28 U.S.C." is the note's text)
        text = re.sub(rf"^(?:[\[(]{bare}[\])][.:]?|{bare}[.:)](?=\s)|{bare}(?=\s)(?<=[^\w]))", "", text)
    text = re.sub(r"\s*(?:\[\s*\]|\(\s*\))", "", text)  # the brackets of a back-link taken out: "Text [↩]"
    return re.sub(r"^[\s.:]+(?=\S)", "", text).strip()


def _note_text(el: etree._Element, backs: set[str], parts: list[str], depth: int, top: bool = False,
               label: str = "") -> None:
    """Add the note's printed text to ``parts``; an element that holds only the label, before any
    text, is the label (<span class="count">1</span>), not text."""
    tag = local(el.tag)
    if not top and _is_backlink(el, backs):
        return
    if tag == "button" or (not top and (set((el.get("class") or "").split()) & UNSEEN or words_of(el) & _BACK)):
        return
    if not top and label and not "".join(parts).strip() and squeeze("".join(el.itertext())).strip("[]().") == label:
        return
    if tag in BLOCK or tag == "br":
        parts.append(" ")
    if el.text:
        parts.append(el.text)
    for ch in el:
        if depth < MAX_DEPTH:
            _note_text(ch, backs, parts, depth + 1, label=label)
        if ch.tail:
            parts.append(ch.tail)
    if tag in BLOCK:
        parts.append(" ")


def _is_backlink(el: etree._Element, backs: set[str]) -> bool:
    """A link back to the note's marker (its id, or a paragraph around it), or marked as one."""
    if local(el.tag) != "a":
        return False
    if kinds_of(el) & {"backlink", "doc-backlink"}:
        return True
    frag = (el.get("href") or "").partition("#")[2]
    return bool(frag) and unquote(frag) in backs


def remove_all(gone: Iterable[tuple[etree._Element, str]]) -> None:
    """Take elements out of their trees, each keeping the text after it (and its ``keep`` in its place), as
    ``remove`` does one by one: each parent's text is written once, however many children go (one by one,
    300,000 markers in a paragraph rewrote its text 300,000 times: minutes)."""
    by_parent: dict[etree._Element, dict[etree._Element, str]] = {}
    for el, keep in gone:
        parent = el.getparent()
        if parent is not None:
            by_parent.setdefault(parent, {}).setdefault(el, keep)  # an element named twice: its first keep
    for parent, keeps in by_parent.items():
        text, holder = [parent.text or ""], None  # the text being gathered, and the kept child whose tail it is
        for child in list(parent):
            if child in keeps:
                text += [keeps[child], child.tail or ""]
                parent.remove(child)
                continue
            _set_text(parent, holder, "".join(text))
            text, holder = [child.tail or ""], child
        _set_text(parent, holder, "".join(text))


def _set_text(parent: etree._Element, holder: etree._Element | None, text: str) -> None:
    """Write ``text`` as the holder's tail, or as the parent's text when there is no holder (None where empty)."""
    if holder is None:
        parent.text = text or None
    else:
        holder.tail = text or None


def remove(el: etree._Element, keep: str = "") -> None:
    """Take an element out of its tree, keeping the text after it (and ``keep`` in its place)."""
    parent = el.getparent()
    if parent is None:
        return
    tail = keep + (el.tail or "")
    prev = el.getprevious()
    if prev is not None:
        prev.tail = (prev.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(el)
