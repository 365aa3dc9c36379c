"""PDF reader: a PDF file → blocks (headings, body text, footnotes, page breaks) for ``parse.assemble``.

pypdf's text visitor gives every text run with its font size and position. Runs are
grouped into lines; a digit run that is smaller or raised relative to its line is a
footnote marker (written ``⟦n⟧``). Per page: running headers, footers and page numbers
are dropped, the footnote area (smaller lines at the bottom starting with a marker) is
cut into one "note" block per footnote, and the rest is joined into paragraphs
(vertical gaps, indents and short last lines end one; end-of-line hyphens are undone
but URLs are glued back as they were). ``assemble`` rejoins what page breaks cut.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from qa.errors import DocumentError
from qa.records import Block

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_DIGITS = str.maketrans(_SUPERSCRIPTS, "0123456789")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_MARKER_RUN = re.compile(r"^\d{1,3}(?:\s*,\s*\d{1,3})*$")
_LEAD = re.compile(rf"^(?:⟦(\d+)⟧|([{_SUPERSCRIPTS}]+)|(\d{{1,3}})(?=[\s.)]))\s*[.)]?\s*")
_TERMINAL = re.compile(r"""[.!?:;"”»)\]'’…]$""")
_FOLIO = re.compile(r"^(?:page\s+)?(?:\d{1,3}|[ivxlc]+)(?:\s*(?:/|of)\s*\d+)?$|^[-–—]\s*\d+\s*[-–—]$", re.IGNORECASE)
_URL_TAIL = re.compile(r"(<?)((?:https?://|www\.)\S*)$")
_COMPOUND_PREFIXES = {"non", "self", "ex", "anti", "well", "long", "short", "like", "next", "cross", "cyber", "semi"}


@dataclass(frozen=True)
class _Run:
    x: float
    y: float
    size: float
    bold: bool
    text: str


@dataclass(frozen=True)
class _Line:
    x: float
    y: float  # baseline, PDF units (grows upwards)
    size: float
    bold: bool
    text: str  # markers written ⟦n⟧
    lead: tuple[int, str, bool] | None  # a leading marker: number, rest of line, superscript?


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of a PDF: headings, body runs, footnotes and page breaks, with pages."""
    pages = [_lines(runs) for runs in _page_runs(Path(path))]
    sizes: Counter[float] = Counter()
    for line in (line for page in pages for line in page):
        sizes[line.size] += len(line.text)
    if not sizes:
        raise DocumentError(f"{path}: the PDF has no text layer (scanned images?); run OCR on it first, e.g. ocrmypdf")
    body_size = max(sizes, key=lambda s: sum(n for t, n in sizes.items() if abs(t - s) < 0.3))
    pages = _drop_furniture(pages)
    vocab = {w.lower() for page in pages for line in page for w in re.findall(r"\w+(?:-\w+)*", line.text)}
    body_lines = [line for page in pages for line in page if abs(line.size - body_size) < 0.3 and not line.bold]
    plain = {id(line) for line in body_lines}
    pitches = [a.y - b.y for page in pages for a, b in zip(page, page[1:])
               if id(a) in plain and id(b) in plain and 0 < a.y - b.y < 3 * body_size]
    pitch = statistics.median(pitches) if pitches else 1.2 * body_size
    lengths = sorted(len(line.text) for line in body_lines) or [60]
    width = lengths[int(0.8 * (len(lengths) - 1))]  # characters in a full line
    blocks: list[Block] = []
    last_note: int | None = None
    for number, lines in enumerate(pages, start=1):
        if number > 1:
            blocks.append(Block("pagebreak", "", number))
        body, notes = _split_notes(lines, body_size, pitch, last_note)
        blocks += _paragraphs(body, number, body_size, pitch, width, vocab)
        for marker, note_lines in notes:
            earlier = next((i for i in range(len(blocks) - 1, -1, -1) if blocks[i].kind == "note"), None)
            if earlier is not None and blocks[earlier].marker == marker:  # a note continued from the last page
                blocks[earlier] = Block("note", _join([blocks[earlier].text, *note_lines], vocab),
                                        blocks[earlier].page, marker)
            else:
                blocks.append(Block("note", _join(note_lines, vocab), number, marker))
            last_note = marker
    return _settle(_rehyphenate(blocks, vocab))


def _page_runs(path: Path) -> list[list[_Run]]:
    """Every page's text runs; unreadable, encrypted and broken files raise DocumentError."""
    import pypdf  # imported here: only PDFs need it

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path}: the PDF is encrypted with a password; save an unprotected copy and retry")
        pages = []
        for page in reader.pages:
            runs: list[_Run] = []
            page.extract_text(visitor_text=lambda *args: _collect(runs, *args))
            pages.append(runs)
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types for damaged files
        reason = "it needs a password or a decryption library" if "crypt" in str(exc).lower() else str(exc)
        raise DocumentError(f"{path}: not a readable PDF (corrupt or truncated: {reason}); re-export or re-download it") from exc
    return pages


def _collect(runs: list[_Run], text: str, cm: list[float], tm: list[float], font: dict | None, size: float) -> None:
    text = text.replace("\n", " ").translate(_LIGATURES)
    if not text:
        return
    a, b, c, d, e, f = (tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3], tm[2] * cm[0] + tm[3] * cm[2],
                        tm[2] * cm[1] + tm[3] * cm[3], tm[4] * cm[0] + tm[5] * cm[2] + cm[4],
                        tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
    if font is None or not text.strip():  # a space pypdf inferred, or a blank run: belongs to the line in progress
        if runs:
            runs.append(_Run(runs[-1].x, runs[-1].y, runs[-1].size, runs[-1].bold, " "))
        return
    if abs(b) > 0.1 * abs(a) + 1e-6 or abs(c) > 0.1 * abs(d) + 1e-6:
        return  # rotated text (watermarks, margin notes) is not part of the flow
    name = str(font.get("/BaseFont", ""))
    bold = bool(re.search(r"bold|black|heavy|semibold", name, re.IGNORECASE))
    runs.append(_Run(e, f, round(size * math.hypot(c, d), 1), bold, text))


def _lines(runs: list[_Run]) -> list[_Line]:
    """Group runs into lines (a raised marker joins the line it belongs to), top to bottom."""
    groups: list[list[_Run]] = []
    for run in runs:
        target = groups[-1] if run.text == " " and groups else next(
            (g for g in reversed(groups) if abs(g[0].y - run.y) < 0.5 * max(g[0].size, run.size)), None)
        if target is None:
            groups.append([run])
        else:
            target.append(run)
    lines = [_line(sorted(g, key=lambda run: round(run.x, 1))) for g in groups]
    return sorted((line for line in lines if line.text), key=lambda line: -line.y)


def _line(runs: list[_Run]) -> _Line:
    weights = Counter()
    for run in runs:
        weights[run.size] += len(run.text.strip())
    size = weights.most_common(1)[0][0]
    main = [r for r in runs if r.size == size and r.text.strip()]
    base = statistics.median(r.y for r in main)
    bold = sum(len(r.text) for r in main if r.bold) >= 0.9 * sum(len(r.text) for r in main)
    text = ""
    for run in runs:
        raised, smaller = run.y - base, run.size < 0.85 * size
        sup = _MARKER_RUN.match(run.text.strip()) and (
            (smaller and raised > -0.05 * size) or raised > 0.25 * size)
        if sup and text.endswith("⟧") and not run.text[0].isspace() and "," not in run.text:
            text = text[:-1] + run.text.strip() + "⟧"  # one number drawn as several runs: "1", "9"
        elif sup:
            text += "".join(f"⟦{n}⟧" for n in re.findall(r"\d+", run.text))
        else:
            text += run.text
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(f"[{_SUPERSCRIPTS}]+", lambda m: f"⟦{m.group(0).translate(_SUP_DIGITS)}⟧", text)
    x = min((r.x for r in runs if r.text.strip()), default=0.0)
    lead = _LEAD.match(text)
    marker = None
    printed = [r.text.strip() for r in runs if r.text.strip()]
    if len(printed) > 1 and re.fullmatch(r"\d{1,3}", printed[0]) and not text.startswith("⟦"):  # a number set apart: "1" + "Kyodo, …"
        marker = (int(printed[0]), text[len(printed[0]):].lstrip(" .)"), False)
    elif lead and lead.end() < len(text):
        digits = lead.group(1) or (lead.group(2) or "").translate(_SUP_DIGITS) or lead.group(3)
        marker = (int(digits), text[lead.end():], lead.group(3) is None)
    return _Line(round(x, 1), base, size, bold, text, marker)


def _drop_furniture(pages: list[list[_Line]]) -> list[list[_Line]]:
    """Drop running headers/footers (same text and place on several pages) and page numbers."""
    def key(line: _Line) -> tuple[int, str]:
        return round(line.y / 3), re.sub(r"\d+", "#", line.text)

    edges = [page[:2] + page[-2:] for page in pages]
    seen = Counter(k for edge in edges for k in {key(line) for line in edge})
    repeated = {k for k, n in seen.items() if n >= max(2, len(pages) // 3)}
    out = []
    for page, edge in zip(pages, edges):
        drop = {id(line) for line in edge if key(line) in repeated or _FOLIO.match(line.text)}
        out.append([line for line in page if id(line) not in drop])
    return out


def _split_notes(lines: list[_Line], body_size: float, pitch: float, last: int | None
                 ) -> tuple[list[_Line], list[tuple[int, list[str]]]]:
    """Split a page into body lines and its footnote area: (body, [(marker, lines)])."""
    start = len(lines)
    while start > 0 and lines[start - 1].size < 0.95 * body_size:
        start -= 1
    area = lines[start:]
    cited = {int(n) for line in lines[:start] for n in re.findall(r"⟦(\d+)⟧", line.text)}
    left = min((line.x for line in area), default=0.0)

    def opens(line: _Line, expected: int | None) -> bool:
        if line.lead is None:
            return False
        number, _, sup = line.lead
        return sup or (line.x <= left + 2 and (number in cited or number == expected))

    first = next((i for i, line in enumerate(area) if opens(line, (last or 0) + 1)), None)
    if first is None:
        gap = lines[start - 1].y - area[0].y if area and start else 0.0
        if not (area and last is not None and gap > 1.5 * pitch):
            return lines, []
        first = len(area)
    elif first and (last is None or start == 0 or lines[start - 1].y - area[0].y < 1.5 * pitch):
        start, area, first = start + first, area[first:], 0  # small body text above the notes
    notes: list[tuple[int, list[str]]] = [(last, [line.text for line in area[:first]])] if first else []
    for line in area[first:]:
        expected = notes[-1][0] + 1 if notes and notes[-1][0] is not None else (last or 0) + 1
        if opens(line, expected):
            notes.append((line.lead[0], [line.lead[1]]))
        else:
            notes[-1][1].append(line.text)
    return lines[:start], notes


def _paragraphs(lines: list[_Line], page: int, body_size: float, pitch: float, width: float,
                vocab: set[str]) -> list[Block]:
    """Join a page's body lines into heading and body blocks."""
    left = Counter(round(line.x) for line in lines if not line.bold).most_common(1)
    left_x = left[0][0] if left else 0
    groups: list[tuple[str, list[_Line]]] = []
    prev: _Line | None = None
    for line in lines:
        heading = (line.bold or line.size >= 1.15 * body_size) and len(line.text) <= 200 and "⟦" not in line.text
        kind = "heading" if heading else "body"
        same = prev is not None and groups and groups[-1][0] == kind and (
            prev.y - line.y < (1.6 * line.size if heading else pitch + 0.25 * body_size))
        if same and kind == "body":
            indented = line.x - left_x > 0.5 * body_size
            # The next line's first word would have fitted after a sentence's end: the paragraph ended.
            room = len(prev.text) + 1 + len(line.text.split(" ", 1)[0]) < 0.9 * width
            short_end = room and _TERMINAL.search(re.sub(r"⟦\d+⟧$", "", prev.text))
            same = not indented and not short_end
        if same and kind == "heading":
            same = abs(prev.size - line.size) < 0.3 and prev.bold == line.bold
        if same:
            groups[-1][1].append(line)
        else:
            groups.append((kind, [line]))
        prev = line
    blocks = []
    for kind, group in groups:
        text = _join([line.text for line in group], vocab)
        if kind == "body" and len(group) == 1 and len(text) < 0.5 * width and _heading_like(text):
            kind = "heading?"  # a short single line: a heading or front matter, decided by _settle
        blocks.append(Block(kind, text, page))
    return blocks


def _heading_like(text: str) -> bool:
    return (len(text.split()) <= 14 and (text[0].isupper() or text[0].isdigit())
            and not _TERMINAL.search(text) and not text.endswith(",") and "⟦" not in text)


def _join(lines: list[str], vocab: set[str]) -> str:
    """Join lines: undo end-of-line hyphenation, glue URLs cut across lines without a space."""
    text = ""
    for line in (line.strip() for line in lines):
        if not text or not line:
            text = text or line
            continue
        url = _URL_TAIL.search(text)
        open_url = url and not (">" in url.group(2) if url.group(1) else re.search(r"[,;)»>]$", url.group(2)))
        if open_url and url.group(2).endswith(".") and not url.group(1):
            open_url = line[:1].islower() or line[:1].isdigit() or line[:1] == "/"
        hyphen = re.search(r"(\w+)[-\u00ad]$", text)
        if open_url:
            text += line
        elif text.endswith("\u00ad"):
            text = text[:-1] + line
        elif hyphen and line[:1].isalnum():
            text = text + line if not line[0].islower() or _real_hyphen(hyphen.group(1), line, vocab) else text[:-1] + line
        else:
            text = f"{text} {line}"
    return text.replace("\u00ad", "")


def _real_hyphen(left: str, line: str, vocab: set[str]) -> bool:
    """Whether "left-" + "right…" at a line end is a compound's hyphen rather than hyphenation."""
    right = re.match(r"\w+", line).group(0)
    joined, compound = (left + right).lower(), f"{left}-{right}".lower()
    if compound in vocab and joined not in vocab:
        return True
    return joined not in vocab and left.lower() in _COMPOUND_PREFIXES


def _rehyphenate(blocks: list[Block], vocab: set[str]) -> list[Block]:
    """A word hyphenated across a page break moves whole to the next page's first block."""
    out = list(blocks)
    for i, block in enumerate(out):
        if block.kind != "body" or not re.search(r"\w-$", block.text):
            continue
        j = next((j for j in range(i + 1, len(out)) if out[j].kind not in ("note", "pagebreak")), None)
        words = block.text.rsplit(" ", 1)
        if j is None or out[j].kind != "body" or len(words) < 2 or not out[j].text[:1].islower():
            continue
        joined = _join([words[1], out[j].text], vocab)
        out[i] = Block("body", words[0], block.page)
        out[j] = Block("body", joined, out[j].page)
    return out


def _settle(blocks: list[Block]) -> list[Block]:
    """A heading is a section heading when a real paragraph follows it, else front/back matter."""
    out = []
    for i, block in enumerate(blocks):
        if block.kind not in ("heading", "heading?"):
            out.append(block)
            continue
        following = next((b for b in blocks[i + 1:] if b.kind not in ("note", "pagebreak")), None)
        real = following is not None and following.kind == "body" and len(following.text) > 80
        out.append(Block("heading" if real else "matter", block.text, block.page))
    return out
