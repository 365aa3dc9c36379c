"""Document metadata: a document's title, authors and year, as a reader would cite it.

Taken from the file's own metadata where it is plausible — a PDF's Info dictionary, Word's and
OpenDocument's core properties, an EPUB's Dublin Core, a web page's ``citation_*`` / Dublin Core /
Open Graph tags and ``<title>`` — else the document's first heading (``Document.title``); the chat
shows the file name when there is neither. Producers fill these fields with junk often enough
("Microsoft Word - draft3.docx", "untitled", the file name, a scanner's name): such values count as
missing (``plausible_title``). Runs inside the parse budget (``parse.parse_file``); any failure to read
metadata leaves the fields empty and never costs the document. The library and its BibTeX / CSL-JSON
(``qa.library``) use what this finds.
"""

from __future__ import annotations

import contextlib
import html
import re
from pathlib import Path

from qa.errors import QAError

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_JUNK_TITLE = re.compile(r"^(microsoft (word|powerpoint)|untitled|title|document\d*|slide \d+|print|"
                         r"doi:|http|www\.|\d+$|[a-z]:\\|/)", re.IGNORECASE)
_FILE_TITLE = re.compile(r"\.(docx?|odt|pdf|indd|tex|dvi|rtf|txt|html?|qxd|ps|eps|pages|wpd)$", re.IGNORECASE)
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|&|\band\b|\bund\b|\bet\b)\s*")
_META_TAG = re.compile(r"<meta\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:.-]+)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""")
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
# "Jane Roe*", "Andrew Guthrie Ferguson*", "A. B. Smith and C. de Jones† ‡": capitalised names (initials,
# particles) marked for an author's note
_NAME = r"(?:[A-Z][\w'’.-]*|de|van|von|der|da|di|la|le)(?:\s+(?:[A-Z][\w'’.-]*|de|van|von|der|da|di|la|le)){1,5}"
_BYLINE = re.compile(rf"({_NAME}(?:(?:,\s+|,?\s+and\s+|\s*&\s*){_NAME})*)\s*[*∗†‡]+(?:\s*[*∗†‡])*")
_FRONT_LABEL = re.compile(r"(?i)(foreword|article|essay|note|comment|book review|response|reply|introduction|"
                          r"vol\.?.*|volume.*|no\.?\s*\d+.*|.*law review|.*journal.*)")
_NOT_A_PERSON = re.compile(r"(?i)\b(review|journal|university|press|inc|llc|ltd|office|service|department|"
                           r"institute|centre|center|committee|association|society|editors?|admin\w*)\b")
FRONT_LINES = 6  # front paragraphs searched for a byline
HTML_HEAD_BYTES = 512 * 1024  # metadata sits in the head: nothing further is read
MAX_FIELD = 300  # characters kept of a title or an author name


def describe(path: Path, heading_title: str | None,
             front: list[str] | tuple[str, ...] = ()) -> tuple[str | None, tuple[str, ...], int | None]:
    """Return (title, authors, year) of a document file from its metadata and its front paragraphs (``front``).
    The file's own metadata counts only where the front pages bear it out — producers fill these fields
    with a typesetter's name or a working file's title; else the byline ("Title — Jane Roe*") gives them;
    else the title is the first heading. Never raises."""
    title: str | None = None
    authors: tuple[str, ...] = ()
    date: str | None = None
    # any reader library's error on a damaged file: metadata is never worth the document
    with contextlib.suppress(QAError, Exception):
        title, authors, date = _read(Path(path))
    text = " ".join(front)
    seen = _folded(text)
    title = _clean(title) if plausible_title(title, Path(path)) and _folded(title) in seen else None
    authors = tuple(a for a in (_clean(a) for a in authors) if a and _folded(a) in seen and not _NOT_A_PERSON.search(a))
    byline_title, byline_authors = byline(front)
    year = year_of(date)
    return (title or byline_title or _clean(heading_title) or None, (authors or byline_authors)[:20],
            year if year is not None and str(year) in text else None)


def byline(front: list[str] | tuple[str, ...]) -> tuple[str | None, tuple[str, ...]]:
    """Return (title, authors) of a front page's byline: names marked for an author's note ("Jane Roe*",
    "A. Smith and B. Jones†") in a front-matter line, and the line before them as the title; (None, ())
    when no line reads so."""
    for paragraph in front[:FRONT_LINES]:
        parts = [p.strip() for p in paragraph.split(" — ")]
        for n, part in enumerate(parts):
            match = _BYLINE.fullmatch(part)
            if not match:
                continue
            names = split_authors(match.group(1).replace(", and ", " and ").replace(", ", " and "))
            before = [p for p in parts[:n] if len(p) > 3 and not _FRONT_LABEL.fullmatch(p)]
            return (_clean(before[-1]) if before else None), names
    return None, ()


def _folded(text: str | None) -> str:
    """Return text folded for 'is this printed there' checks: letters and digits, lower case, single spaces."""
    return " " + " ".join(re.findall(r"\w+", _clean_all(text).casefold())) + " "


def plausible_title(title: str | None, path: Path) -> bool:
    """Return True when a metadata title reads like a real title (not a file name, a producer's default or blank)."""
    text = _clean(title)
    if len(text) < 4 or (len(text.split()) == 1 and len(text) < 12):
        return False
    if _JUNK_TITLE.match(text) or _FILE_TITLE.search(text):
        return False
    return text.casefold() != path.stem.casefold().replace("_", " ") and text.casefold() != path.stem.casefold()


def year_of(date: str | None) -> int | None:
    """Return the year a date field names ("D:20240315…", "2024-03-15", "March 2024"), or None."""
    pdf_date = re.match(r"D:(\d{4})", date or "")
    match = pdf_date or _YEAR.search(date or "")
    return int(match.group(1)) if match else None


def split_authors(field: str | None) -> tuple[str, ...]:
    """Return the names in an author field ("A; B", "A and B", "A & B"); "Smith, John" stays one name."""
    names = (_clean(n) for n in _AUTHOR_SPLIT.split(field or ""))
    return tuple(re.sub(r"(\w{2,})\.$", r"\1", name) for name in names if name)  # "Xiao Wang." → "Xiao Wang"


def _clean(text: str | None) -> str:
    return _clean_all(text)[:MAX_FIELD]


def _clean_all(text: str | None) -> str:
    return re.sub(r"\s+", " ", html.unescape(text or "")).strip().strip("\x00")


def _read(path: Path) -> tuple[str | None, tuple[str, ...], str | None]:
    """Return (title, authors, date) from the file's own metadata, by its type."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return _pdf(path)
    if suffix in (".docx", ".odt", ".epub"):
        return _package(path, suffix)
    if suffix in (".html", ".htm"):
        with open(path, "rb") as f:
            return _html(f.read(HTML_HEAD_BYTES).decode("utf-8", errors="replace"))
    return None, (), None


def _pdf(path: Path) -> tuple[str | None, tuple[str, ...], str | None]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(path))
    try:
        info = pdf.get_metadata_dict(skip_empty=True)
    finally:
        pdf.close()
    return info.get("Title"), split_authors(info.get("Author")), info.get("CreationDate") or info.get("ModDate")


def _package(path: Path, suffix: str) -> tuple[str | None, tuple[str, ...], str | None]:
    from qa.markup import Package, local

    kind = {".docx": "Word document", ".odt": "OpenDocument text", ".epub": "EPUB book"}[suffix]
    package = Package(path, kind)
    if suffix == ".docx":
        part = "docProps/core.xml"
    elif suffix == ".odt":
        part = "meta.xml"
    else:
        container = package.xml("META-INF/container.xml")
        part = next((el.get("full-path") for el in container.iter() if local(el.tag) == "rootfile"), None) or ""
    if not part or not package.has(part):
        return None, (), None
    fields: dict[str, list[str]] = {}
    for el in package.xml(part).iter():
        name = local(el.tag)
        if name in ("title", "creator", "initial-creator", "date", "created", "creation-date") and el.text:
            fields.setdefault(name, []).append(el.text)
    authors = tuple(fields.get("creator", [])) or tuple(fields.get("initial-creator", []))
    if suffix == ".docx":
        authors = tuple(a for field in authors for a in split_authors(field))
    dates = fields.get("date") or fields.get("created") or fields.get("creation-date") or []
    titles = fields.get("title") or []
    return (titles[0] if titles else None), authors, (dates[0] if dates else None)


def _html(head: str) -> tuple[str | None, tuple[str, ...], str | None]:
    tags: dict[str, list[str]] = {}
    for tag in _META_TAG.findall(head):
        attrs = {k.lower(): v.strip("\"'") for k, v in _ATTR.findall(tag)}
        key = (attrs.get("name") or attrs.get("property") or "").lower()
        if key and "content" in attrs:
            tags.setdefault(key, []).append(attrs["content"])
    title_tag = _HTML_TITLE.search(head)
    title = next((tags[k][0] for k in ("citation_title", "dc.title", "og:title") if k in tags),
                 title_tag.group(1) if title_tag else None)
    authors: tuple[str, ...] = tuple(tags.get("citation_author", []))
    if not authors:
        field = next((tags[k][0] for k in ("citation_authors", "dc.creator", "author") if k in tags), None)
        authors = split_authors(field)
    date = next((tags[k][0] for k in ("citation_publication_date", "citation_date", "citation_online_date",
                                      "dc.date", "article:published_time") if k in tags), None)
    return title, authors, date
