"""HTML reader: a web page (or an EPUB's XHTML chapters) → blocks (headings, paragraphs, notes) for ``parse.assemble``.

Notes are found however the page marks them (``qa.htmlnotes``: a link to the note, the note set
in place after its marker, a paragraph opening with the marker's label); a note's number is its
marker's printed label (list items' ids may be off by one). The body is every block of the page but
the notes, scripts, styles, navigation, page headers and footers, sidebars and forms; each marker
becomes ``⟦n⟧``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from qa.errors import DocumentError
from qa.htmlnotes import (
    BLOCK,
    HEADING,
    UNSEEN,
    Marker,
    Page,
    find_markers,
    kinds_of,
    label_block,
    note_text,
    remove_all,
    words_of,
)
from qa.markup import MAX_DEPTH, body_block, local, mark, note_keys, squeeze
from qa.records import Block

_JUNK = {"script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "select", "head", "input",
         "textarea", "canvas", "video", "audio", "map", "link", "meta", "title"}
_CHROME = {"nav", "form", "dialog"}  # never body text
_CHROME_WORDS = {"sidebar", "menu", "navbar", "breadcrumb", "breadcrumbs", "share", "sharing", "social", "related",
                 "comments", "cookie", "cookies", "newsletter", "subscribe", "advert", "advertisement", "banner",
                 "popup", "modal"}
_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of a web page: its body's headings and paragraphs, then its notes."""
    path = Path(path)
    return pages_blocks([Page("", parse_html(path.read_bytes(), str(path)))])


def parse_html(data: bytes, where: str) -> etree._Element:
    """Return the root of an HTML page (its declared encoding, else UTF-8, else Latin-1); nothing fetched."""
    head = data[:65536].lower()  # a long <head> of scripts may put the charset late
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DocumentError(f"{where}: looks like a binary file, not a web page; remove it or save the page as HTML")
    text: str | bytes = data
    if not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")) and b"charset" not in head:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # XHTML saved as .html: lxml takes no declaration in a str
    parser = lxml_html.HTMLParser(no_network=True, huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise DocumentError(f"{where}: no HTML text found ({exc}); is the file empty?") from None
    return root


def pages_blocks(pages: list[Page]) -> list[Block]:
    """Return the blocks of HTML pages read in order: body blocks with markers, then every note."""
    for page in pages:
        _local_links(page)
        remove_all((el, "") for el in page.root.iter() if local(el.tag) in _JUNK)
    ids = _ids(pages)
    order = {el: i for i, el in enumerate(el for page in pages for el in page.root.iter())}
    markers = find_markers(pages, ids, order)
    notes: dict[etree._Element, int] = {}
    first_label: dict[etree._Element, str] = {}
    for m in sorted(markers, key=lambda m: order.get(m.note, 0)):
        if m.note is not None:
            notes.setdefault(m.note, len(notes))
            first_label.setdefault(m.note, m.label)
    keys = note_keys([first_label[n] for n in notes])
    own: dict[etree._Element, list[Marker]] = {}  # each note's markers, found once (not all of them per note)
    for m in markers:
        own.setdefault(m.note, []).append(m)
    texts = [note_text(n, first_label[n], own[n]) for n in notes]
    remove_all([(_marker_span(m.el), f"⟦#{notes[m.note]}⟧") for m in markers])  # each marker's number in its place
    remove_all((n, "") for n in notes)
    # a label set apart from its note (<dt>1</dt>, <h5>(1)</h5>) goes with it
    labels = [label_block(m.target) for m in markers if m.target is not None]
    remove_all((label, "") for label in labels if label is not None)
    blocks: list[Block] = []
    for page in pages:
        body = next((el for el in page.root.iter() if local(el.tag) == "body"), page.root)
        blocks += page_body(body, book=bool(page.name))
    known = {squeeze(t) for t in texts}
    out = [Block(b.kind, re.sub(r"⟦#(\d+)⟧", lambda m: mark(keys[int(m.group(1))]), b.text), b.page, b.marker,
                 b.continues) for b in blocks if not repeats_a_note(b, known)]
    out += [Block("note", text, marker=key) for text, key in zip(texts, keys, strict=True)]
    return out


def repeats_a_note(block: Block, known: set[str]) -> bool:
    """A body paragraph that is a note's text again (a list at the end repeating notes set in place,
    with or without its number) is not body text."""
    if block.kind != "body" or "⟦" in block.text or len(block.text) < 20:
        return False
    text = squeeze(block.text)
    return text in known or re.sub(r"^[\[(]?\w{1,4}[\])]?[.:)]?\s+", "", text) in known


def _local_links(page: Page) -> None:
    """Write links to the page's own address (its canonical URL or og:url, as a saved page keeps
    them: href="https://journal.org/article/#fn1") as the in-page links they are ("#fn1")."""
    own: set[str] = set()
    for el in page.root.iter():
        canonical = local(el.tag) == "link" and "canonical" in (el.get("rel") or "").split()
        if canonical or (local(el.tag) == "meta" and el.get("property") == "og:url"):
            url = (el.get("href") or el.get("content") or "").split("#")[0].rstrip("/")
            if url.startswith(("http://", "https://")):
                own.add(url)
    if not own:
        return
    for el in page.root.iter():
        href = el.get("href") if local(el.tag) == "a" else None
        if href and "#" in href and href.split("#")[0].rstrip("/") in own:
            el.set("href", "#" + href.split("#", 1)[1])


def _ids(pages: list[Page]) -> dict[tuple[str, str], etree._Element]:
    """Return every element a link can name, by (page, id); an <a name> counts as an id."""
    ids: dict[tuple[str, str], etree._Element] = {}
    for page in pages:
        for el in page.root.iter():
            for key in (el.get("id"), el.get("name") if local(el.tag) == "a" else None):
                if key:
                    ids.setdefault((page.name, key), el)
    return ids


def _marker_span(el: etree._Element) -> etree._Element:
    """Return the marker with the <sup> around it when the sup holds nothing else."""
    parent = el.getparent()
    while parent is not None and local(parent.tag) in ("sup", "span", "small") and len(parent) == 1 \
            and not (parent.text or "").strip() and not (el.tail or "").strip():
        el, parent = parent, parent.getparent()
    return el


def _chrome(el: etree._Element, book: bool = False) -> bool:
    """Return True for page furniture: navigation, forms, buttons, a web page's headers and footers
    (outside any article or section) and asides (a book's are its text), sidebars, share bars,
    hidden and screen-reader text."""
    tag = local(el.tag)
    if tag in _CHROME or tag == "button" or el.get("hidden") is not None:
        return True
    if not book and tag in ("header", "footer") and \
            not any(local(a.tag) in ("article", "section", "main") for a in el.iterancestors()):
        return True
    if not book and tag == "aside" and not (kinds_of(el) & {"footnote", "endnote", "note", "doc-footnote", "doc-endnote"}):
        return True
    if set((el.get("class") or "").split()) & UNSEEN:
        return True
    if tag in ("body", "html", "main", "article") or not words_of(el) & _CHROME_WORDS:
        return False
    text = "".join(el.itertext())
    return len(text) < 5000 and "⟦#" not in text  # a container named "has-sidebar" holds the article


def page_body(body: etree._Element, book: bool = False) -> list[Block]:
    """Return a page's body as blocks: one per block element's own text, headings as headings."""
    out: list[Block] = []
    parts: list[str] = []

    def flush(heading: bool = False) -> None:
        if parts:
            out.extend(body_block("".join(parts), heading=heading))
            parts.clear()

    def walk(el: etree._Element, depth: int) -> None:
        tag = local(el.tag)
        if _chrome(el, book):
            return
        if tag in HEADING:
            flush()
            parts.append("".join(_visible(el, book)))
            flush(heading=True)
            return
        block = tag in BLOCK
        if block:
            flush()
        if tag == "br":
            parts.append(" ")
        if tag == "sup" and len(el) == 0 and (el.text or "").isdecimal():  # a raised number that is no marker: km²
            parts.append(el.text.translate(_SUPERSCRIPT))
        elif el.text:
            parts.append(el.text)
        for ch in el:
            if depth < MAX_DEPTH:
                walk(ch, depth + 1)
            if ch.tail:
                parts.append(ch.tail)
        if block:
            flush()

    walk(body, 0)
    flush()
    return out


def _visible(el: etree._Element, book: bool) -> Iterator[str]:
    """Yield an element's text without furniture inside it."""
    if el.text:
        yield el.text
    for ch in el:
        if not _chrome(ch, book):
            yield from _visible(ch, book)
        if ch.tail:
            yield ch.tail
