"""EPUB reader: an .epub book → blocks (headings, paragraphs, notes) for ``parse.assemble``.

The book's package (``META-INF/container.xml`` → the OPF) gives its XHTML documents in spine order;
documents the spine leaves out (but the navigation) follow it, so notes kept in a file off the spine
are found. The documents are read together by ``qa.html`` as one site: ``epub:type="noteref"`` links
lead to ``footnote``/``endnote``/``rearnote`` elements in the same chapter or in a book's endnotes
file, numbered as printed (per chapter numbering is keyed "S:N"). Zip parts are bounded by
``qa.markup``; XHTML is parsed as XML with entities off, or as HTML where it is not well-formed.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from qa import html
from qa.errors import DocumentError
from qa.markup import Package, local, parse_xml
from qa.records import Block

_XHTML = {"application/xhtml+xml", "text/html", "application/x-dtbook+xml"}


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of an EPUB book: its documents' headings and paragraphs in reading order, then its notes."""
    pkg = Package(Path(path), "EPUB book (.epub)")
    opf_path = package_path(pkg)
    return html.pages_blocks([html.Page(name, document(pkg, name)) for name in reading_order(pkg, opf_path)])


def package_path(pkg: Package) -> str:
    """Return the path of the book's package document (the OPF) named by META-INF/container.xml."""
    container = pkg.xml("META-INF/container.xml")
    for rootfile in container.iter():
        if local(rootfile.tag) == "rootfile" and rootfile.get("full-path"):
            return unquote(rootfile.get("full-path", ""))
    raise DocumentError(f"{pkg.path}: not a valid EPUB book: META-INF/container.xml names no package file")


def reading_order(pkg: Package, opf_path: str) -> list[str]:
    """Return the paths of the book's XHTML documents: the spine's, then the others but the navigation."""
    opf = pkg.xml(opf_path)
    base = posixpath.dirname(opf_path)
    items: dict[str, tuple[str, str, str]] = {}  # id → (path, media type, properties)
    spine: list[str] = []
    for el in opf.iter():
        tag = local(el.tag)
        if tag == "item" and el.get("href"):
            href = posixpath.normpath(posixpath.join(base, unquote(el.get("href", "").split("#")[0])))
            items[el.get("id", "")] = (href, el.get("media-type", ""), el.get("properties", ""))
        elif tag == "itemref" and el.get("idref") in items:
            spine.append(items[el.get("idref", "")][0])
    others = [p for p, kind, props in items.values()
              if kind in _XHTML and p not in spine and "nav" not in props.split()]
    order = [p for p in dict.fromkeys(spine + others) if pkg.has(p)]
    if not order:
        raise DocumentError(f"{pkg.path}: the EPUB lists no readable XHTML documents in {opf_path}")
    return order


def document(pkg: Package, name: str) -> etree._Element:
    """Return a book document's tree: XML where it is well-formed, else read as HTML."""
    data = pkg.read(name)
    try:
        return parse_xml(data, f"{pkg.path}: {name}")
    except DocumentError as exc:
        if "entities" in str(exc):
            raise
        return html.parse_html(data, f"{pkg.path}: {name}")
