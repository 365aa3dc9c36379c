"""Render stage of the web chat: an ``Answer`` → safe HTML, one block per passage.

Everything that comes from a document or a person (passage text, section titles,
footnotes, URLs, file names, questions) is HTML-escaped first; only then are our
own tags added: ``<mark>`` around the highlight, in-page links from ``[n]``
markers to the footnote list under the passage, and links for http(s) URLs.
The chat shows these blocks as HTML and never re-reads them as Markdown, so a
document holding ``<script>``, ``onerror=`` or ``![x](http://…)`` shows as text.
``ui.py`` hands the blocks to the Chatbot; ``/chat`` joins them into one reply.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import replace
from html import escape
from urllib.parse import quote

from qa.output import printed_pages
from qa.records import Answer, Citation, Hit, Marker, Paragraph

NOT_FOUND = "Not found in your documents."
_URL = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
_URL_TAIL = ".,;:)]}'’”»"
_MARKER = re.compile(r"\[([^\[\]\s]{1,24})\]")
_SPACE = re.compile(r"\s+")
_ITALIC = re.compile(r"\*([^*\s][^*]*?)\*")
PREVIEW_CHARS = 110
SHOWN_CHARS = 20_000  # of one passage in the chat: five hits on 1,000,000-character paragraphs made a 58 MB reply
SHOWN_QUESTION_CHARS = 300


def esc(text: object) -> str:
    """Return text safe inside HTML content and attribute values."""
    return escape(str(text), quote=True)


def safe_url(url: str) -> str | None:
    """Return the URL when it is a plain http(s) link, else None (javascript:, data:, …)."""
    url = url.strip()
    return url if _URL.fullmatch(url) else None


def linkify(text: str) -> str:
    """Return escaped text in which http(s) URLs are links that open in a new tab.

    ``<url>`` loses its angle brackets and ``*title*`` becomes italic, as footnotes write them.
    """
    out, pos = [], 0
    for m in _URL.finditer(text):
        url = m.group(0).rstrip(_URL_TAIL)
        start, end = m.start(), m.start() + len(url)
        if start > 0 and text[start - 1] == "<" and text[end:end + 1] == ">":
            out.append(_plain(text[pos:start - 1]))
            end += 1
        else:
            out.append(_plain(text[pos:start]))
        out.append(_link(url, url))
        pos = end
    out.append(_plain(text[pos:]))
    return "".join(out)


def _plain(text: str) -> str:
    return _ITALIC.sub(r"<em>\1</em>", esc(text))


def _link(url: str, label: str, cls: str = "qa-url") -> str:
    return f'<a class="{cls}" href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(label)}</a>'


def anchor(uid: str, marker: Marker) -> str:
    """Return the in-page id of a passage's footnote (unique per passage block)."""
    return f"{uid}-fn-" + re.sub(r"[^A-Za-z0-9_-]", "_", str(marker))


def question_html(question: str) -> str:
    """Return a person's question as escaped HTML (very long ones shortened for display)."""
    text = question if len(question) <= SHOWN_QUESTION_CHARS else question[:SHOWN_QUESTION_CHARS] + "…"
    return f'<span class="qa-question">{esc(text)}</span>'


def error_html(message: str) -> str:
    """Return a one-line problem (an InputError, a bad upload) as a chat message."""
    return f'<div class="qa-error" role="alert"><span aria-hidden="true">⚠️</span> {esc(message)}</div>'


def answer_blocks(answer: Answer, uid: str, file_url: Callable[[Paragraph], str | None] = lambda p: None,
                  source: Callable[[str], str] = lambda doc: doc, label: Callable[[str], str] = lambda doc: doc) -> list[str]:
    """Return one HTML block per hit: the best one open, the next ones collapsible (all of them
    collapsed when nothing answers: the closest passages are offered, not shown as an answer)."""
    if not answer.hits:
        return [f'<div class="qa-notfound"><strong>{NOT_FOUND}</strong> No passage matched the question.</div>']
    blocks = []
    for n, hit in enumerate(answer.hits):
        block = passage_html(hit, f"{uid}-{hit.rank}", open_=n == 0 and not answer.abstained, closest=answer.abstained,
                             file_url=file_url(hit.paragraph), source=source(hit.paragraph.doc),
                             label=label(hit.paragraph.doc))
        if n == 0 and answer.abstained:
            block = (f'<div class="qa-notfound"><strong>{NOT_FOUND}</strong> '
                     "These are the closest passages; none of them seems to answer the question.</div>" + block)
        blocks.append(block)
    return blocks


def passage_html(hit: Hit, uid: str, open_: bool = True, closest: bool = False, file_url: str | None = None,
                 source: str | None = None, label: str | None = None) -> str:
    """Return one passage: where it comes from, its text with the highlight, its footnotes."""
    hit = shown_part(hit)
    p = hit.paragraph
    named = label if label and label != p.doc else None  # the document's title, its file name on hover
    where = [f'<span class="qa-rank" title="rank">{hit.rank}</span>',
             f'<span class="qa-doc" title="{esc(p.doc)}">{esc(named)}</span>' if named else
             f'<span class="qa-doc">{esc(p.doc)}</span>']
    if p.section and not repeats_title(p.section, label or p.doc):  # a title repeated as a section says nothing
        where.append(f'<span class="qa-section">{esc(p.section)}</span>')
    if p.page is not None:
        where.append(f'<span class="qa-pages">{esc(printed_pages(p.page_label, p.page_label_end, p.page, p.page_end))}</span>')
    if closest:
        where.append('<span class="qa-tag">closest match</span>')
    meta = f'<div class="qa-meta">{"".join(where)}</div>'
    body = (f'<p class="qa-text">{text_html(p.display, hit.highlight, hit.citations, uid)}</p>'
            f"{notes_html(hit.citations, uid)}{actions_html(hit, file_url, source)}")
    cls = "qa-passage" + (" qa-closest" if closest else "")
    if open_:
        return f'<div class="{cls} qa-top">{meta}{body}</div>'
    known = {str(c.marker) for c in hit.citations}
    preview = _SPACE.sub(" ", _MARKER.sub(lambda m: "" if m.group(1) in known else m.group(0), p.display)).strip()
    preview = preview if len(preview) <= PREVIEW_CHARS else preview[:PREVIEW_CHARS].rsplit(" ", 1)[0] + "…"
    return (f'<details class="{cls}"><summary>{meta}<span class="qa-preview">{esc(preview)}</span></summary>'
            f"{body}</details>")


def shown_part(hit: Hit) -> Hit:
    """Return the hit as the chat shows it: each cited note once (a paragraph citing one note 300,000 times listed
    it 300,000 times: 33 MB), and a passage longer than SHOWN_CHARS cut to that many characters around its
    highlight ("…" where cut; the copy and the preview take the same part); else the hit as it is."""
    once = tuple({c.marker: c for c in hit.citations}.values())  # in the order first cited (one marker, one note)
    if len(once) < len(hit.citations):
        hit = replace(hit, citations=once)
    p = hit.paragraph
    if len(p.display) <= SHOWN_CHARS and len(hit.highlight) <= SHOWN_CHARS:
        return hit
    highlight = hit.highlight[:SHOWN_CHARS // 2]
    start, _ = find_highlight(p.display, [m.span() for m in _MARKER.finditer(p.display)], highlight)
    lo = max(0, min(start - SHOWN_CHARS // 4, len(p.display) - SHOWN_CHARS))
    hi = lo + SHOWN_CHARS
    display = ("…" if lo else "") + p.display[lo:hi] + ("…" if hi < len(p.display) else "")
    at = max(0, p.text.find(highlight[:200]))  # the clean text (no markers) holds the highlight as it is
    lo = max(0, min(at - SHOWN_CHARS // 4, len(p.text) - SHOWN_CHARS))
    text = ("…" if lo else "") + p.text[lo:lo + SHOWN_CHARS] + ("…" if lo + SHOWN_CHARS < len(p.text) else "")
    return replace(hit, paragraph=replace(p, display=display, text=text), highlight=highlight)


def repeats_title(section: str, source: str) -> bool:
    """Return whether a section heading only repeats the document's title, ``source`` being that title or the
    document as cited ("Title, Author (2024)"); case, spacing and closing punctuation aside."""
    def key(text: str) -> str:
        return _SPACE.sub(" ", text).strip().rstrip(".:").casefold()
    heading, title = key(section), key(source)
    return title == heading or title.startswith((heading + ",", heading + " ("))


def text_html(display: str, highlight: str, citations: tuple[Citation, ...], uid: str) -> str:
    """Return the passage text escaped, the highlight in <mark>, footnote markers as links."""
    known = {str(c.marker): c for c in citations}
    markers = [(m.start(), m.end(), known[m.group(1)]) for m in _MARKER.finditer(display) if m.group(1) in known]
    start, end = find_highlight(display, [(a, b) for a, b, _ in markers], highlight)
    cuts = sorted({0, len(display), start, end, *(x for a, b, _ in markers for x in (a, b))})
    by_start = {a: c for a, _, c in markers}
    out = []
    for a, b in itertools.pairwise(cuts):
        if a == start and start != end:
            out.append("<mark>")
        if a in by_start:
            c = by_start[a]
            out.append(f'<sup class="qa-ref"><a href="#{anchor(uid, c.marker)}" title="{esc(c.text[:300])}">'
                       f"[{esc(c.marker)}]</a></sup>")
        else:
            out.append(esc(display[a:b]))
        if b == end and start != end:
            out.append("</mark>")
    return "".join(out)


def find_highlight(display: str, marker_spans: list[tuple[int, int]], highlight: str) -> tuple[int, int]:
    """Return the (start, end) of the highlight in the display text, markers ignored; (0, 0) if absent.

    The highlight comes from the clean text (no markers, single spaces); the display
    text has ``[n]`` markers in it, so both are compared with markers and extra
    spaces taken out, keeping a map back to display positions.
    """
    target = _SPACE.sub(" ", highlight).strip()
    if not target:
        return 0, 0
    skip: set[int] = set()
    for a, b in marker_spans:
        skip.update(range(a, b))
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(display):
        if i in skip:
            continue
        if ch.isspace() and (not chars or chars[-1] == " "):
            continue
        chars.append(" " if ch.isspace() else ch)
        where.append(i)
    flat = "".join(chars)
    at = flat.find(target)
    if at < 0:
        return 0, 0
    last = at + len(target) - 1
    return where[at], where[last] + 1


def notes_html(citations: tuple[Citation, ...], uid: str) -> str:
    """Return the footnote list under a passage: text, resolved source, links."""
    if not citations:
        return ""
    items = []
    for c in citations:
        extra = _resolution_html(c)
        shown = {u.rstrip(_URL_TAIL) for u in _URL.findall(c.text + " " + (c.resolved or ""))}
        more = [u for u in c.urls if safe_url(u) and u not in shown]
        links = "".join(f'<div class="qa-links">{_link(u, u)}</div>' for u in more)
        items.append(f'<li id="{anchor(uid, c.marker)}"><span class="qa-marker">[{esc(c.marker)}]</span> '
                     f'<span class="qa-note">{linkify(c.text)}</span>{extra}{links}</li>')
    return f'<ol class="qa-notes" aria-label="footnotes">{"".join(items)}</ol>'


def _resolution_html(c: Citation) -> str:
    """The "refers to" lines of a note: one per back-reference ("Id. at 717", "Tribe, supra note 6"), each
    with the authority it resolves to and its own pin, or why it is left unresolved (never guessed)."""
    if len(c.references) <= 1 and not any(r.status == "ambiguous" for r in c.references):
        if c.resolved:
            return f'<div class="qa-resolved">↳ refers to: {linkify(c.resolved)}</div>'
        return '<div class="qa-unresolved">↳ earlier reference not found in this document</div>' if c.unresolved else ""
    lines = []
    for r in c.references:
        said = f'<span class="qa-said">{esc(reference_said(c.text[r.start:r.end]))}</span>'
        if r.status == "resolved" and r.resolved:
            lines.append(f'<div class="qa-resolved">↳ {said} refers to: {linkify(r.resolved)}</div>')
        elif r.status == "ambiguous":
            lines.append(f'<div class="qa-unresolved">↳ {said}: several earlier authorities fit; not resolved</div>')
        else:
            lines.append(f'<div class="qa-unresolved">↳ {said}: earlier reference not found in this document</div>')
    return "".join(lines)


def reference_said(text: str, limit: int = 40) -> str:
    """Return how a note words one of its back-references, as shown before what it refers to: the citation
    itself ("Dana, supra note 8, at 1806–07"), without the parenthetical or quotation that follows it or a
    closing full stop, cut at a word (with "…") when still over ``limit`` characters."""
    said = _SPACE.sub(" ", _SAID_END.split(text, 1)[0]).strip().rstrip(",;:") or _SPACE.sub(" ", text).strip()
    said = said[:-1] if said.endswith(".") and said[-2:-1].isdigit() else said  # "id. at 310." (not "Id.")
    if len(said) > limit:
        said = said[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return said


_SAID_END = re.compile(r"\s*[(“\"]")  # where a citation's parenthetical or quotation begins


def actions_html(hit: Hit, file_url: str | None, source: str | None = None) -> str:
    """Return the passage's buttons: copy with citation, open the original file."""
    copy = (f'<button class="qa-copy" type="button" title="Copy the passage and its citation">Copy with citation</button>'
            f'<span class="qa-copytext" hidden>{esc(copy_text(hit, source))}</span>')
    opener = ""
    if file_url:
        p = hit.paragraph
        at = printed_pages(p.page_label, None, p.page)  # the printed page; the link goes to the PDF's own
        label = f"Open PDF at {at}" if p.page is not None and p.doc.lower().endswith(".pdf") else "Open document"
        opener = f'<a class="qa-open" href="{esc(file_url)}" target="_blank" rel="noopener noreferrer">{esc(label)} ↗</a>'
    helped = (f'<button class="qa-helped" type="button" value="{esc(hit.paragraph.id)}" '
              'title="Save this passage as the one that answers the question (for qa eval)">This one answers it</button>')
    return f'<div class="qa-actions">{copy}{opener}{helped}</div>'


def copy_text(hit: Hit, source: str | None = None) -> str:
    """Return a passage as plain text with its citation and footnotes (what "Copy" puts on the clipboard): the
    source as a reader cites it (``source``: title, authors, year; else the file name), the printed pages, each
    note with the authority each of its back-references resolves to; no Markdown marks."""
    p = hit.paragraph
    cited = source or p.doc
    section = p.section if p.section and not repeats_title(p.section, cited) else ""
    where = ", ".join(x for x in (cited, section, printed_pages(p.page_label, p.page_label_end, p.page, p.page_end)) if x)
    lines = [f"“{plain(p.display)}”", f"— {where}"]
    for c in hit.citations:
        resolved = [r.resolved for r in c.references if r.status == "resolved" and r.resolved] or \
            ([c.resolved] if c.resolved else [])
        lines.append(f"[{c.marker}] {plain(c.text)}" + (f" (= {'; '.join(plain(r) for r in resolved)})" if resolved else ""))
    return "\n".join(lines)


def plain(text: str) -> str:
    """Return text without Markdown's marks: *emphasis* and _emphasis_ as their words, <https://…> as the address."""
    text = _ANGLE_URL.sub(r"\1", text)
    return _EMPHASIS.sub(lambda m: m.group(2), text)


_ANGLE_URL = re.compile(r"<(https?://[^>\s]+)>")
_EMPHASIS = re.compile(r"(?<![\w*_])(\*\*|\*|__|_)(?=\S)([^*_\n]+?)(?<=\S)\1(?![\w*_])")


def file_href(doc: str, page: int | None) -> str:
    """Return the chat's link to a document file (at a page for PDFs), relative to the app."""
    href = "qa/doc/" + quote(doc, safe="/")
    if page is not None and doc.lower().endswith(".pdf"):
        href += f"#page={int(page)}"
    return href
