"""Parse stage: a document file → a ``Document`` of paragraphs and footnotes.

Readers turn a file into ``Block``s (headings, body text, footnotes, page breaks);
``assemble`` turns blocks into paragraphs: it rejoins paragraphs cut by a page
break or a footnote area, tracks sections, attaches each paragraph's footnote
markers and resolves "Ibid." / "op. cit." notes. Plain text (.txt) and Markdown
(.md) are read here; other formats by their reader module (``READERS``: ``qa.pdf``, ``qa.docx``,
``qa.odt``, ``qa.html``, ``qa.epub``). The next stage is ``chunk``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from qa import cite, meta
from qa.errors import DocumentError
from qa.records import Block, Document, Footnote, Marker, Paragraph, marker_from_str
from qa.series import MARK, number_series

VERSION = 50  # bump when parsing changes: a rebuild then re-parses every document
# Each format but text and Markdown has a reader module with ``read_blocks(path) -> list[Block]``.
READERS = {".pdf": "qa.pdf", ".docx": "qa.docx", ".odt": "qa.odt", ".html": "qa.html", ".htm": "qa.html", ".epub": "qa.epub"}
SUPPORTED = (".txt", ".md", ".markdown", *READERS)
KINDS = ".txt, .md, " + ", ".join(READERS)  # what the messages offer
MAX_BYTES = 200 * 1024 * 1024
# A text line is cut here as it is read: what it becomes (a paragraph, a note) keeps at most 1,000,000 characters
# (``budget.DocumentLimits.chars``), and markers written shorter ("[^12]" → "⟦12⟧") leave over that from twice
# as many; a 200 MB one-line file needed 3.9 GB read whole.
MAX_LINE_CHARS = 2_000_000
FRONT_PARAGRAPHS = 40  # where a document's metadata must be borne out (title page, abstract, first pages)

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_TO_DIGIT = str.maketrans(_SUPERSCRIPTS, "0123456789")
_SUP_RUN = re.compile(f"[{_SUPERSCRIPTS}]+")
_NOTE_LINE = re.compile(rf"^\s*([{_SUPERSCRIPTS}]+)\s*(.*)$")
_MD_NOTE_DEF = re.compile(r"^\[\^([^\]\s]+)\]:\s?(.*)$")
_MD_NOTE_REF = re.compile(r"\[\^([^\]\s]+)\]")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.*)$")  # closing #s stripped by _heading_text (a regex took minutes on spaces)
_TERMINAL = re.compile(r"""[.!?:;"”»)\]'’…]$""")
_URL_ANGLE = re.compile(r"<(https?://[^>\s]+)>")
_URL_BARE = re.compile(r"https?://[^\s<>\"”»\[\]]+")  # "[" and "]" bracket a URL ("[https://perma.cc/X]")


def parse_file(path: Path, doc: str | None = None) -> Document:
    """Return the parsed Document of one file of a SUPPORTED type (``doc`` names it in the index)."""
    path = Path(path)
    doc = doc or path.name
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise DocumentError(f"{path}: unsupported file type '{suffix}'; use {KINDS}")
    if not path.is_file():  # never opened: a pipe named .pdf would wait forever for a writer
        found = "is a folder, a pipe or a device, not a document file" if path.exists() else "file not found"
        raise DocumentError(f"{path}: {found}")
    if path.stat().st_size > MAX_BYTES:
        raise DocumentError(f"{path}: file is larger than {MAX_BYTES // 2**20} MB; split it")
    if suffix in READERS:  # imported lazily: PDFium is only needed for PDFs, lxml for the others
        blocks = importlib.import_module(READERS[suffix]).read_blocks(path)
    else:
        most = most_text_blocks()
        blocks = text_blocks(read_text(path), markdown=suffix != ".txt", most=most)
        if len(blocks) > most:
            raise DocumentError(f"{path}: refused: over {most:,} paragraphs and pages (a generated or damaged "
                                "file?); split it, or raise QA_DOC_PASSAGES")
    document = assemble(doc, blocks)
    if not document.paragraphs:
        raise DocumentError(f"{path}: no text found; " + ("is the file empty?" if suffix not in READERS else
                            "is it empty, its text only in images, or nested too deep to read (a hostile file)? "
                            "Open it and save it again"))
    front = [p.text for p in document.paragraphs[:FRONT_PARAGRAPHS]]
    title, authors, year = meta.describe(path, document.title, front)
    return dataclasses.replace(document, title=title, authors=authors, year=year)


def read_text(path: Path) -> str:
    """Return the file's text, decoded as UTF-8, UTF-16 (a byte-order mark or zero high bytes) or
    Latin-1; binary files are refused."""
    raw = path.read_bytes()
    utf16 = _utf16(raw)
    if utf16 is not None:
        raw = utf16.encode("utf-8")
    if b"\x00" in raw[:8192]:
        raise DocumentError(f"{path}: looks like a binary file, not text; remove it or convert it to .txt")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    controls = sum(1 for ch in text[:65536] if unicodedata.category(ch) == "Cc" and ch not in "\n\r\t\f")
    if controls > 0.01 * max(1, min(len(text), 65536)):
        raise DocumentError(f"{path}: looks like a binary file, not text; remove it or convert it to .txt")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _utf16(raw: bytes) -> str | None:
    """Return the text of UTF-16 bytes (a byte-order mark, or every other byte zero), else None."""
    head = raw[:8192]
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        encoding = "utf-16"
    elif len(head) >= 16 and head[1::2].count(0) > 0.9 * (len(head) // 2):
        encoding = "utf-16-le"
    elif len(head) >= 16 and head[0::2].count(0) > 0.9 * (len(head) // 2):
        encoding = "utf-16-be"
    else:
        return None
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        return None


def most_text_blocks() -> int:
    """Return how many blocks (paragraphs, notes, headings, page breaks) a text file may make before it is
    refused: ten times the paragraphs and notes a document keeps (``budget.document_limits``); 24 MB of
    "x\\n\\n" (8 M paragraphs) needed 1.9 GB, of "a\\f" (12 M pages) 4.1 GB, to keep 50,000."""
    from qa.budget import document_limits  # here: budget reads documents through this module

    limits = document_limits()
    return 10 * (limits.paragraphs + limits.notes)


def text_blocks(text: str, markdown: bool = False, most: int | None = None) -> list[Block]:
    """Return the blocks of a plain-text or Markdown document (form feeds are page breaks); with ``most``,
    reading stops after the page that makes more than that many."""
    paged = "\f" in text
    raw: list[Block] = []
    for number, page_text in enumerate(_pieces(text, "\f"), start=1):
        page = number if paged else None
        if number > 1:
            raw.append(Block("pagebreak", "", page))
        for lines in _split_blocks(page_text):
            raw.extend(_classify(lines, page, markdown))
            if most is not None and len(raw) > most:
                return raw
    return _settle_headings(raw)


def _pieces(text: str, sep: str) -> Iterator[str]:
    """Yield the parts of ``text`` between ``sep``s one at a time (``split`` makes them all at once: 100 M lines)."""
    start = 0
    while (end := text.find(sep, start)) >= 0:
        yield text[start:end]
        start = end + 1
    yield text[start:]


def _split_blocks(text: str) -> Iterator[list[str]]:
    current: list[str] = []
    for whole in _pieces(text, "\n"):
        line = whole[:MAX_LINE_CHARS]
        if line.strip():
            current.append(line.rstrip())
        elif current:
            yield current
            current = []
    if current:
        yield current


def _classify(lines: list[str], page: int | None, markdown: bool) -> list[Block]:
    out: list[Block] = []
    body: list[str] = []
    more: list[str] = []  # continuation lines of the note last added, joined once (a copy per line took minutes)

    def flush() -> None:
        if more:
            last = out.pop()
            out.append(Block("note", " ".join([last.text, *more]), page, last.marker))
            more.clear()
        if body:
            out.append(_body_block(body, page))
            body.clear()

    for line in lines:
        stripped = line.strip()
        note = _NOTE_LINE.match(stripped) if not markdown or stripped[:1] in _SUPERSCRIPTS else None
        md_note = _MD_NOTE_DEF.match(stripped) if markdown else None
        md_head = _MD_HEADING.match(stripped) if markdown else None
        if md_head:
            flush()
            out.append(Block("heading", _clean_inline(_heading_text(md_head.group(2))), page))
        elif md_note or (note and note.group(2) and not body):
            flush()
            if md_note:
                marker, rest = md_note.group(1), md_note.group(2)
            else:
                assert note is not None  # the branch's condition: one of the two matched
                marker, rest = note.group(1).translate(_SUP_TO_DIGIT), note.group(2)
            out.append(Block("note", rest.strip(), page, marker_from_str(marker)))
        elif out and out[-1].kind == "note" and not body:
            more.append(stripped)  # a continuation line of the footnote above (indented in Markdown, wrapped in text)
        else:
            body.append(stripped)
    flush()
    return out


def _heading_text(text: str) -> str:
    """Return a Markdown heading's text without its closing #s ("# Title ##" → "Title")."""
    return text.rstrip().rstrip("#").rstrip()


def _body_block(lines: list[str], page: int | None) -> Block:
    text = _join_lines(lines)
    if len(lines) == 1 and _looks_like_heading(text):
        return Block("heading?", text, page)
    return Block("body", text, page)


def _join_lines(lines: list[str]) -> str:
    # Pieces joined once at the end: adding each line to the text so far copies it every time
    # (a 2 MB file of 200,000 lines and no blank one took 158 s).
    pieces = [lines[0]]
    tail = lines[0][-2:]  # the last two characters of the text so far
    for line in lines[1:]:
        if tail.endswith("-") and line[:1].islower() and not tail.endswith(" -"):  # undo end-of-line hyphenation
            pieces[-1] = pieces[-1][:-1]
            tail = (tail[:-1] + line)[-2:]
            pieces.append(line)
        else:
            pieces.append(f" {line}")
            tail = pieces[-1][-2:]
    text = "".join(pieces)
    text = _MD_NOTE_REF.sub(lambda m: f"⟦{m.group(1)}⟧", text)
    text = _SUP_RUN.sub(lambda m: f"⟦{m.group(0).translate(_SUP_TO_DIGIT)}⟧", text)
    return text


def _looks_like_heading(text: str) -> bool:
    words = text.split()
    return (
        0 < len(words) <= 14
        and len(text) <= 120
        and (text[0].isupper() or text[0].isdigit())
        and not _TERMINAL.search(text)
        and not text.endswith(",")
        and "⟦" not in text
    )


def _settle_headings(raw: list[Block]) -> list[Block]:
    """A heading-like line is a heading when body text follows it, else front/back matter;
    a short line whose next body block starts in lowercase is a paragraph cut by a page break."""
    out: list[Block] = []
    after: list[Block | None] = [None] * len(raw)  # the next block that is not a note or page break
    following: Block | None = None  # found in one pass from the end (a copy of the rest per line took minutes)
    for i in range(len(raw) - 1, -1, -1):
        after[i] = following
        if raw[i].kind not in ("note", "pagebreak"):
            following = raw[i]
    for block, following in zip(raw, after, strict=True):
        if block.kind != "heading?":
            out.append(block)
            continue
        if following is not None and following.kind == "body" and following.text[:1].islower():
            kind = "body"
        elif following is not None and following.kind == "body" and len(following.text) > 80:
            kind = "heading"
        else:
            kind = "matter"
        out.append(Block(kind, block.text, block.page))
    return out


def _clean_inline(text: str) -> str:
    return text.strip().strip("*_").strip()


def assemble(doc: str, blocks: list[Block]) -> Document:
    """Return the Document built from a reader's blocks: rejoined paragraphs, sections, notes."""
    blocks = number_series(blocks)
    notes = _collect_notes(doc, blocks)
    known = {str(n.marker) for n in notes}
    # Each paragraph is gathered as a list of block texts, joined once at the end: adding each block
    # to the text so far copied it every time (a paragraph over 1,000,000 form feeds never ended).
    pieces: list[_Piece] = []
    section: str | None = None
    title = _title(blocks)
    broken = False  # a page break or footnote area since the last body block
    printed = {block.page: block.text for block in blocks if block.kind == "pagelabel"}
    for block in blocks:
        if block.kind == "pagelabel":
            continue
        if block.kind in ("note", "pagebreak"):
            broken = True
            continue
        if block.kind == "heading":
            section = block.text
            pieces.append(_Piece([""], None, None, None, False))  # a heading ends any open paragraph
            broken = False
            continue
        text = _keep_known_markers(block.text, known)
        last = pieces[-1] if pieces and pieces[-1].texts[0] else None
        if block.kind == "matter" and last and last.section == "\0matter":
            last.add(f"— {text}", block.page or last.page_end)
        elif block.kind == "matter":
            pieces.append(_Piece([text], "\0matter", block.page, block.page, ends_sentence(text)))
        elif last and last.section != "\0matter" and _continues(last.ends, text, broken, block.continues):
            last.add(text, block.page if block.page is not None else last.page_end)
        else:
            pieces.append(_Piece([text], section, block.page, block.page, ends_sentence(text)))
        broken = False
    paragraphs: list[Paragraph] = []
    for piece in pieces:
        text, sec, page, page_end = " ".join(piece.texts), piece.section, piece.page, piece.page_end
        if not text:
            continue
        number = len(paragraphs) + 1
        markers = tuple(marker_from_str(m) for m in MARK.findall(text))
        paragraphs.append(Paragraph(
            id=f"{doc}#p{number}", doc=doc, number=number,
            section=None if sec == "\0matter" else sec, page=page, page_end=page_end,
            text=clean_text(text), display=display_text(text), footnotes=markers,
            page_label=printed.get(page), page_label_end=printed.get(page_end),
        ))
    return Document(doc=doc, title=title, paragraphs=tuple(paragraphs), footnotes=tuple(notes))


@dataclasses.dataclass
class _Piece:
    """A paragraph being gathered from blocks: its texts, section, pages, and whether it ends a sentence."""
    texts: list[str]
    section: str | None
    page: int | None
    page_end: int | None
    ends: bool

    def add(self, text: str, page_end: int | None) -> None:
        """Add a block's text; a text of markers alone leaves the end as it was."""
        self.texts.append(text)
        self.page_end = page_end
        if MARK.sub("", text).strip():
            self.ends = ends_sentence(text)


def _title(blocks: list[Block]) -> str | None:
    """The longest front-matter line before the first heading (not an author line: "Jane Roe*"),
    else the first heading."""
    front: list[str] = []
    for block in blocks:
        if block.kind == "heading":
            break
        # not an author line ("Jane Roe*") nor a DOI or web address line
        if block.kind == "matter" and not re.search(r"[*∗†‡§¶‖]$|https?://|www\.|^doi\b", block.text, re.IGNORECASE):
            front.append(block.text)
    else:
        return max(front, key=len) if front else None
    return max(front, key=len) if front else block.text


def _collect_notes(doc: str, blocks: list[Block]) -> list[Footnote]:
    parts: dict[str, tuple[Marker, list[str]]] = {}  # joined once: a note defined 100,000 times took 117 s
    for block in blocks:
        if block.kind == "note" and block.marker is not None:
            text = re.sub(r"\s+", " ", block.text).strip()
            texts = parts.get(str(block.marker), (block.marker, []))[1]  # a definition split across pages:
            texts.append(text)  # keep both halves
            parts[str(block.marker)] = (block.marker, texts)
    notes = []
    for marker, texts in parts.values():
        text = " ".join(texts)
        notes.append(Footnote(doc=doc, marker=marker, text=text, urls=extract_urls(text)))
    return cite.resolve_footnotes(notes, _before_markers(blocks))


def _before_markers(blocks: list[Block]) -> dict[str, str]:
    """The body text just before each note's first marker (300 characters, markers removed), by marker: a law
    review names there the case a note cites by reporter alone ("In Fulton v. City of Philadelphia,⟦57⟧ …")."""
    out: dict[str, str] = {}
    for block in blocks:
        if block.kind == "body":
            for m in MARK.finditer(block.text):
                out.setdefault(m.group(1), MARK.sub("", block.text[max(0, m.start() - 300): m.start()]))
    return out


def _keep_known_markers(text: str, known: set[str]) -> str:
    """Markers with no footnote (e.g. the ² of km²) go back to being plain text."""
    def put_back(m: re.Match[str]) -> str:
        if m.group(1) in known:
            return m.group(0)
        digits = m.group(1)
        return digits.translate(str.maketrans("0123456789", _SUPERSCRIPTS)) if digits.isdigit() else f"[^{digits}]"
    return MARK.sub(put_back, text)


def _continues(prev_ends: bool, text: str, broken: bool, told: bool | None = None) -> bool:
    """A body block continues the previous paragraph when its reader says so, else when that one
    stopped mid-sentence (``prev_ends``: it ended one)."""
    if told is not None:
        return told
    if prev_ends:
        return False
    return broken or text[:1].islower()


def ends_sentence(text: str) -> bool:
    """Return True when the text, its note markers aside, ends as a sentence does (. ? ! : ; a closing quote)."""
    return bool(_TERMINAL.search(MARK.sub("", text).rstrip()))


def clean_text(text: str) -> str:
    """Return text with footnote markers removed and whitespace normalised (what gets embedded)."""
    text = MARK.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def display_text(text: str) -> str:
    """Return text with footnote markers shown as [n] (what people see)."""
    text = MARK.sub(lambda m: f"[{m.group(1).rsplit(':', 1)[-1]}]", text)  # "2:1" (series 2) shows as [1]
    return re.sub(r"\s+", " ", text).strip()


def extract_urls(text: str) -> tuple[str, ...]:
    """Return the http(s) URLs in a footnote, in order, without duplicates."""
    urls = _URL_ANGLE.findall(text)
    rest = _URL_ANGLE.sub(" ", text)
    urls += [u.rstrip(".,;:)'’") for u in _URL_BARE.findall(rest)]
    return tuple(dict.fromkeys(urls))
