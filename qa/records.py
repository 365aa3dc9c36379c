"""The data that crosses stage boundaries: documents, paragraphs, footnotes, chunks, hits.

Every stage takes and returns these frozen dataclasses; nothing else is shared.
A footnote marker is an ``int`` when it is a number (¹² → 12) and a ``str`` otherwise
(Markdown ``[^note]`` → "note").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

Marker = int | str


@dataclass(frozen=True)
class Reference:
    """One back-reference in a note ("Id. at 717", "Tribe, supra note 6", "Midler, 849 F.2d at 462") and the
    authority it resolves to: its full citation, the note holding it, this occurrence's own pin and opinion."""

    kind: str  # "id" | "supra" | "short" | "hereinafter" | "ibid" | "op. cit."
    start: int  # where the back-reference sits in the note's text
    end: int
    status: str  # "resolved" | "ambiguous" (several antecedents fit) | "not found"
    authority: str | None = None  # the full citation as printed, without its pin and parentheticals
    authority_note: Marker | None = None
    pin: str | None = None  # this occurrence's pin cite ("717", "¶ 76")
    opinion: str | None = None  # this occurrence's opinion ("Kavanaugh, J., concurring")
    resolved: str | None = None  # what to show: the authority with this occurrence's pin and opinion


@dataclass(frozen=True)
class Footnote:
    """One footnote of a document: its marker, text as written, URLs, resolved reference."""

    doc: str
    marker: Marker
    text: str
    urls: tuple[str, ...] = ()
    # For back-reference notes: what they point to (for "Ibid." / "op. cit." the earlier note's text; for
    # "Id.", "supra", short forms the authority with its pin, several joined by "; "), or None.
    resolved: str | None = None
    resolved_marker: Marker | None = None
    # True when the note is a back-reference we could not resolve (never guessed).
    unresolved: bool = False
    references: tuple[Reference, ...] = ()  # each back-reference of the note, in order


@dataclass(frozen=True)
class Block:
    """A reader's raw unit before assembly: a heading, a run of body text, or a footnote.

    Readers (text, Markdown, PDF) emit blocks; ``parse.assemble`` turns them into
    paragraphs. Footnote markers inside ``text`` are written ``⟦n⟧``.
    """

    kind: str  # "heading" | "body" | "matter" | "note" | "pagebreak" | "pagelabel" (text: the page's printed number)
    text: str
    page: int | None = None
    marker: Marker | None = None  # for "note" blocks
    # For "body" blocks after a page break: True when the reader saw from the layout that this
    # continues the paragraph before it, False when it starts a new one, None to let
    # ``assemble`` decide (it joins when the paragraph before stopped mid-sentence).
    continues: bool | None = None


@dataclass(frozen=True)
class Paragraph:
    """A paragraph of body text; ``text`` has no markers, ``display`` shows them as [n]."""

    id: str
    doc: str
    number: int
    section: str | None
    page: int | None
    page_end: int | None
    text: str
    display: str
    footnotes: tuple[Marker, ...] = ()
    # The page numbers printed on the sheets (a PDF's page labels or folios: "171", "xii"); ``page`` and
    # ``page_end`` are the PDF's own positions (1, 2, …), which an "Open PDF" link needs. None: not known.
    page_label: str | None = None
    page_label_end: str | None = None


@dataclass(frozen=True)
class Document:
    """A parsed document: its relative path, title, paragraphs and footnotes (and, where known, authors and year)."""

    doc: str
    title: str | None
    paragraphs: tuple[Paragraph, ...]
    footnotes: tuple[Footnote, ...]
    authors: tuple[str, ...] = ()
    year: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of text that gets embedded; it always points back to one paragraph."""

    id: str
    paragraph_id: str
    kind: str  # "window" (body sentences), "titled" (section heading + first sentence) or "note" (a cited footnote's text)
    text: str


@dataclass(frozen=True)
class Citation:
    """A footnote as shown with a hit: marker, text, resolved reference, every URL."""

    marker: Marker
    text: str
    urls: tuple[str, ...]
    resolved: str | None = None
    unresolved: bool = False
    references: tuple[Reference, ...] = ()


@dataclass(frozen=True)
class Hit:
    """One ranked paragraph returned for a question."""

    rank: int
    score: float
    paragraph: Paragraph
    citations: tuple[Citation, ...] = ()
    highlight: str = ""


@dataclass(frozen=True)
class Answer:
    """The result of one question: ranked hits and whether retrieval abstained."""

    question: str
    hits: tuple[Hit, ...]
    abstained: bool = False
    retriever: str = "hybrid"
    scores: dict[str, Any] = field(default_factory=dict, compare=False)
    docs: tuple[str, ...] = ()  # the documents the search was limited to (empty: all)


def marker_from_str(raw: str) -> Marker:
    """Return the marker as an int when it is a note number (all decimal digits, at most 9), else the
    stripped string: int() refuses "²" (a digit, not a decimal) and numbers of over 4,300 digits."""
    raw = raw.strip()
    return int(raw) if raw.isdecimal() and len(raw) <= 9 else raw


def to_dict(obj: Any) -> dict[str, Any]:
    """Return a JSON-ready dict of a record (tuples become lists)."""
    return _jsonable(asdict(obj))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def footnote_from_dict(d: dict[str, Any]) -> Footnote:
    """Return a Footnote rebuilt from its JSON dict."""
    return Footnote(
        doc=d["doc"], marker=d["marker"], text=d["text"], urls=tuple(d.get("urls", ())),
        resolved=d.get("resolved"), resolved_marker=d.get("resolved_marker"),
        unresolved=bool(d.get("unresolved", False)),
        references=tuple(reference_from_dict(r) for r in d.get("references", ())),  # none in an index built before
    )


def reference_from_dict(d: dict[str, Any]) -> Reference:
    """Return a Reference rebuilt from its JSON dict."""
    return Reference(kind=d["kind"], start=d["start"], end=d["end"], status=d["status"], authority=d.get("authority"),
                     authority_note=d.get("authority_note"), pin=d.get("pin"), opinion=d.get("opinion"),
                     resolved=d.get("resolved"))


def paragraph_from_dict(d: dict[str, Any]) -> Paragraph:
    """Return a Paragraph rebuilt from its JSON dict."""
    return Paragraph(
        id=d["id"], doc=d["doc"], number=d["number"], section=d.get("section"),
        page=d.get("page"), page_end=d.get("page_end"), text=d["text"],
        display=d["display"], footnotes=tuple(d.get("footnotes", ())),
        page_label=d.get("page_label"), page_label_end=d.get("page_label_end"),  # none in an index built before
    )


def chunk_from_dict(d: dict[str, Any]) -> Chunk:
    """Return a Chunk rebuilt from its JSON dict."""
    return Chunk(id=d["id"], paragraph_id=d["paragraph_id"], kind=d["kind"], text=d["text"])
