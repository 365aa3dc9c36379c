"""PDF reader: a PDF file → blocks (headings, body text, footnotes, page breaks) for ``parse.assemble``.

pypdf's text visitor gives every text run with its font size and position. Runs are
grouped into lines; a digit run that is smaller or raised relative to its line is a
footnote marker (written ``⟦n⟧``). Per page: running headers, footers and page numbers
are dropped, the footnote area (smaller lines at the bottom starting with a marker) is
cut into one "note" block per footnote, and the rest is joined into paragraphs
(vertical gaps, indents and short last lines end one; end-of-line hyphens are undone
but URLs are glued back as they were). ``assemble`` rejoins what page breaks cut.

A line is "short" by its real width: pypdf's operator visitor gives every text-showing
operator, measured here from the font's /Widths or /W (with kerning, Tc, Tw, Tz). In
ragged-right text a paragraph ended where the next line's first word would have fitted;
in justified text, where a line stops short of the margin.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
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
class _Span:
    """Where one text-showing operator put ink: from its first glyph to its last, on a baseline."""
    y: float
    x0: float  # left of the first non-space glyph
    word: float | None  # right of its first word (where the first space after ink starts)
    x1: float  # right of the last non-space glyph
    space: float  # width of a space in this font and size
    trail: bool  # the last glyph drawn is a space


@dataclass(frozen=True)
class _Font:
    widths: dict[int, float]  # glyph advance per character code, 1/1000 of the font size
    default: float
    two_byte: bool  # Type0 fonts: codes are 2-byte CIDs
    spaces: frozenset[int]  # codes that draw a space


@dataclass(frozen=True)
class _Line:
    x: float
    y: float  # baseline, PDF units (grows upwards)
    size: float
    bold: bool
    text: str  # markers written ⟦n⟧
    lead: tuple[int, str, bool] | None  # a leading marker: number, rest of line, superscript?
    end: float | None = None  # right end of the ink, from glyph widths (None: unknown font metrics)
    word_end: float | None = None  # right end of the line's first word
    space: float = 0.0
    trail: bool = False  # the line's last glyph is a drawn space (where the producer broke the line)


@dataclass(frozen=True)
class _Layout:
    """Document-wide measures of the body text that decide where paragraphs end."""
    body_size: float
    pitch: float  # baseline to baseline
    chars: int  # characters in a full line: the fallback when glyph widths are unknown
    full: float | None  # width of a full line, from its left edge (None: widths unknown)
    justified: bool  # full lines all end exactly at the right margin
    break_spaces: bool  # the producer draws the space where it breaks a line (so a paragraph's end has none)
    indents: bool  # paragraphs start with a first-line indent
    gaps: bool  # paragraphs are set apart by vertical space


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of a PDF: headings, body runs, footnotes and page breaks, with pages."""
    pages = [_lines(runs, spans) for runs, spans in _page_runs(Path(path))]
    sizes: Counter[float] = Counter()
    for line in (line for page in pages for line in page):
        sizes[line.size] += len(line.text)
    if not sizes:
        raise DocumentError(f"{path}: the PDF has no text layer (scanned images?); run OCR on it first, e.g. ocrmypdf")
    body_size = max(sizes, key=lambda s: sum(n for t, n in sizes.items() if abs(t - s) < 0.3))
    pages = _drop_furniture(pages)
    vocab = {w.lower() for page in pages for line in page for w in re.findall(r"\w+(?:-\w+)*", line.text)}
    plain = [[line for line in page if abs(line.size - body_size) < 0.3 and not line.bold] for page in pages]
    lefts = _left_edges(plain, body_size)
    layout = _layout(plain, lefts, body_size)
    blocks: list[Block] = []
    last_note: int | None = None
    tail: tuple[_Line, float] | None = None  # the last body line so far, with its page's left edge
    for number, lines in enumerate(pages, start=1):
        if number > 1:
            blocks.append(Block("pagebreak", "", number))
        body, notes = _split_notes(lines, body_size, layout.pitch, last_note)
        start = len(blocks)
        page_blocks, tail, continued = _paragraphs(body, number, layout, lefts[number - 1], vocab, tail)
        blocks += page_blocks
        if continued:
            _carry_last_words(blocks, start)
        for marker, note_lines in notes:
            earlier = next((i for i in range(len(blocks) - 1, -1, -1) if blocks[i].kind == "note"), None)
            if earlier is not None and blocks[earlier].marker == marker:  # a note continued from the last page
                blocks[earlier] = Block("note", _join([blocks[earlier].text, *note_lines], vocab),
                                        blocks[earlier].page, marker)
            else:
                blocks.append(Block("note", _join(note_lines, vocab), number, marker))
            last_note = marker
    return _settle(_rehyphenate(blocks, vocab))


def _left_edges(plain: list[list[_Line]], body_size: float) -> list[float]:
    """Each page's left edge of body text: where most body lines start on pages of the same parity
    (mirrored margins), so that a page of one-line paragraphs still shows their indents."""
    counts = [Counter(round(line.x) for page in plain[parity::2] for line in page) for parity in (0, 1)]
    everywhere = counts[0] + counts[1]
    edges = []
    for number, page in enumerate(plain):
        common = (counts[number % 2] if counts[number % 2].total() >= 20 else everywhere).most_common(1)
        edge = common[0][0] if common else 0.0
        starts = Counter(round(line.x) for line in page)
        if starts and not any(edge - 1 <= x <= edge + 3 * body_size for x in starts):  # a page set apart
            edge = starts.most_common(1)[0][0]
        edges.append(float(edge))
    return edges


def _layout(plain: list[list[_Line]], lefts: list[float], body_size: float) -> _Layout:
    """Line pitch, and how far a full line reaches: in glyph widths when every font has them."""
    pitches = [a.y - b.y for page in plain for a, b in zip(page, page[1:]) if 0 < a.y - b.y < 3 * body_size]
    pitch = statistics.median(pitches) if pitches else 1.2 * body_size
    lines = [line for page in plain for line in page]
    lengths = sorted(len(line.text) for line in lines) or [60]
    chars = lengths[int(0.8 * (len(lengths) - 1))]  # characters in a full line
    cues = dict(
        break_spaces=sum(line.trail for line in lines) > 0.3 * len(lines),
        indents=sum(line.x - left > 0.5 * body_size for page, left in zip(plain, lefts) for line in page)
        > 0.02 * len(lines),
        gaps=sum(pitch + 0.25 * body_size < a.y - b.y < 3 * body_size for page in plain for a, b in zip(page, page[1:]))
        > 0.02 * len(lines))
    reach = sorted(line.end - left for page, left in zip(plain, lefts) for line in page if line.end is not None)
    if len(reach) < 10 or len(reach) < 0.9 * len(lines):
        return _Layout(body_size, pitch, chars, None, False, **cues)
    full = reach[int(0.99 * (len(reach) - 1))]  # ragged lines end anywhere short of it
    justified = sum(1 for r in reach if abs(r - full) < 0.05 * body_size) >= 0.4 * len(reach)
    return _Layout(body_size, pitch, chars, full, justified, **cues)


def _page_runs(path: Path) -> list[tuple[list[_Run], list[_Span]]]:
    """Every page's text runs and inked spans; unreadable, encrypted and broken files raise DocumentError."""
    import pypdf  # imported here: only PDFs need it

    try:
        reader = pypdf.PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(f"{path}: the PDF is encrypted with a password; save an unprotected copy and retry")
        pages = []
        metrics: dict[int, _Font | None] = {}
        for page in reader.pages:
            runs: list[_Run] = []
            spans: list[_Span] = []
            page.extract_text(visitor_text=lambda *args: _collect(runs, *args),
                              visitor_operand_after=_span_tracker(_page_fonts(page), metrics, spans))
            pages.append((runs, spans))
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


def _page_fonts(page: object) -> dict[str, object]:
    """The font dictionaries a page's content can select by name (its own, then its forms')."""
    fonts: dict[str, object] = {}
    resources = [page.get("/Resources")]
    while resources:
        res = resources.pop()
        res = res.get_object() if res is not None else None
        if not hasattr(res, "get"):
            continue
        for name, font in (res.get("/Font") or {}).items():
            fonts.setdefault(str(name), font)
        for xobject in (res.get("/XObject") or {}).values():
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form" and len(resources) < 50:
                resources.append(xobject.get("/Resources"))
    return fonts


def _font_metrics(font: object) -> _Font | None:
    """Glyph widths by character code: /Widths from /FirstChar (simple fonts), or /W and /DW of
    the descendant font (Type0, Identity-H: the code is the CID); spaces found through /ToUnicode."""
    font = font.get_object()
    widths: dict[int, float] = {}
    if font.get("/Subtype") == "/Type0":
        cid = font["/DescendantFonts"][0].get_object()
        spec, i = list(cid.get("/W") or []), 0
        while i + 1 < len(spec):
            first, nxt = int(spec[i]), spec[i + 1].get_object()
            if isinstance(nxt, list):
                widths.update((first + k, float(w)) for k, w in enumerate(nxt))
                i += 2
            elif i + 2 < len(spec) and int(nxt) - first < 65536:
                widths.update((code, float(spec[i + 2])) for code in range(first, int(nxt) + 1))
                i += 3
            else:
                break
        default = float(cid.get("/DW", 1000))
        if str(font.get("/Encoding")) not in ("/Identity-H", "/Identity-V"):  # codes are not CIDs
            widths, default = {}, statistics.fmean(widths.values()) if widths else default
        two_byte = True
    else:
        scale = float(font["/FontMatrix"][0]) * 1000 if "/FontMatrix" in font else 1.0  # Type3 glyph space
        first = int(font.get("/FirstChar", 0))
        widths = {first + k: float(w) * scale for k, w in enumerate(font.get("/Widths") or [])}
        if not widths:
            return None  # a standard font without metrics in the file
        descriptor = font.get("/FontDescriptor")
        missing = float(descriptor.get_object().get("/MissingWidth", 0)) if descriptor else 0.0
        default = missing or statistics.fmean(w for w in widths.values() if w > 0)
        two_byte = False
    spaces = {32} if not two_byte else set()
    if "/ToUnicode" in font:
        cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
        spaces = set()
        for block in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.DOTALL):
            spaces |= {int(src, 16) for src, dst in re.findall(r"<(\w+)>\s*<(\w+)>", block) if int(dst, 16) == 32}
        for block in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.DOTALL):
            for lo, hi, dst in re.findall(r"<(\w+)>\s*<(\w+)>\s*<(\w+)>", block):
                if int(dst, 16) <= 32 <= int(dst, 16) + int(hi, 16) - int(lo, 16):
                    spaces.add(int(lo, 16) + 32 - int(dst, 16))
    return _Font(widths, default, two_byte, frozenset(spaces))


def _span_tracker(fonts: dict[str, object], metrics: dict[int, _Font | None], spans: list[_Span]
                  ) -> Callable[[bytes, list, list[float], list[float]], None]:
    """A visitor for pypdf's operators that measures where each text-showing operator puts ink.

    pypdf reports a run's start but not its end, so the end is computed here from the glyph
    widths, character and word spacing, horizontal scaling and the kerning numbers of TJ.
    """
    state = {"font": None, "size": 0.0, "tc": 0.0, "tw": 0.0, "th": 1.0}
    saved: list[dict] = []
    pen = {"tm": None, "at": 0.0}

    def number(value: object) -> float:
        return float(value) if isinstance(value, (int, float)) else 0.0

    def visit(op: bytes, operands: list, cm: list[float], tm: list[float]) -> None:
        if op == b"q":
            saved.append(dict(state))
        elif op == b"Q" and saved:
            state.update(saved.pop())
        elif op == b"Tf" and len(operands) >= 2:
            font = fonts.get(str(operands[0]))
            key = id(font.get_object()) if font is not None else 0
            if key not in metrics:
                try:
                    metrics[key] = _font_metrics(font) if font is not None else None
                except Exception:  # damaged font dictionaries: treat their widths as unknown
                    metrics[key] = None
            state["font"], state["size"] = metrics[key], number(operands[1])
        elif op in (b"Tc", b"Tw") and operands:
            state["tc" if op == b"Tc" else "tw"] = number(operands[0])
        elif op == b"Tz" and operands:
            state["th"] = number(operands[0]) / 100
        elif op in (b"Tj", b"'", b'"', b"TJ") and operands:
            if op == b'"' and len(operands) >= 3:
                state["tw"], state["tc"] = number(operands[0]), number(operands[1])
            items = operands[0] if op == b"TJ" else operands[-1:]
            if state["font"] is None or not isinstance(items, list):
                return
            if pen["tm"] != list(tm):  # a new position; else the pen goes on from the last operator
                pen["tm"], pen["at"] = list(tm), 0.0
            _measure(items, state, pen, cm, tm, spans)

    return visit


def _measure(items: list, state: dict, pen: dict, cm: list[float], tm: list[float], spans: list[_Span]) -> None:
    font: _Font = state["font"]
    size, th = state["size"], state["th"]
    x0 = word = x1 = None
    start, trail = pen["at"], False
    for item in items:
        if isinstance(item, (int, float)):
            pen["at"] -= float(item) / 1000 * size * th
            continue
        raw = getattr(item, "original_bytes", None)
        raw = raw if isinstance(raw, bytes) else str(item).encode("latin-1", "replace")
        codes = ([raw[i] << 8 | raw[i + 1] for i in range(0, len(raw) - 1, 2)] if font.two_byte else list(raw))
        for code in codes:
            advance = font.widths.get(code, font.default) / 1000 * size + state["tc"]
            if code == 32 and not font.two_byte:
                advance += state["tw"]
            trail = code in font.spaces
            if trail:
                if x0 is not None and word is None:
                    word = pen["at"]
            else:
                x0 = pen["at"] if x0 is None else x0
                x1 = pen["at"] + advance * th
            pen["at"] += advance * th
    if x0 is None:  # only spaces: where the line was broken, if it comes last
        x0 = x1 = start
    a, b = tm[0] * cm[0] + tm[1] * cm[2], tm[0] * cm[1] + tm[1] * cm[3]
    if abs(b) > 0.1 * abs(a) + 1e-6:
        return  # rotated text is not part of the flow
    e, f = tm[4] * cm[0] + tm[5] * cm[2] + cm[4], tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
    space = next((font.widths.get(c, font.default) for c in font.spaces), 280.0) / 1000 * size * th
    spans.append(_Span(f, e + x0 * a, None if word is None else e + word * a, e + x1 * a, space * abs(a), trail))


def _lines(runs: list[_Run], spans: list[_Span]) -> list[_Line]:
    """Group runs into lines (a raised marker joins the line it belongs to), top to bottom,
    each with where its ink ends and where its first word ends, when the glyph widths are known."""
    groups: list[list[_Run]] = []
    for run in runs:
        target = groups[-1] if run.text == " " and groups else next(
            (g for g in reversed(groups) if abs(g[0].y - run.y) < 0.5 * max(g[0].size, run.size)), None)
        if target is None:
            groups.append([run])
        else:
            target.append(run)
    lines = sorted((line for line in (_line(sorted(g, key=lambda run: round(run.x, 1))) for g in groups)
                    if line.text), key=lambda line: -line.y)
    inked: dict[int, list[_Span]] = {}
    for span in spans:
        near = min(range(len(lines)), key=lambda i: abs(lines[i].y - span.y), default=None)
        if near is not None and abs(lines[near].y - span.y) < 0.6 * lines[near].size:
            inked.setdefault(near, []).append(span)
    return [_measured(line, sorted(inked[i], key=lambda s: s.x0)) if i in inked else line
            for i, line in enumerate(lines)]


def _measured(line: _Line, spans: list[_Span]) -> _Line:
    word_end = spans[0].x1
    for span, after in zip(spans, spans[1:] + [None]):
        if span.word is not None:
            word_end = span.word
            break
        word_end = span.x1
        if after is None or after.x0 - span.x1 > 0.5:  # the next span is not glued to this word
            break
    return replace(line, end=max(s.x1 for s in spans), word_end=word_end,
                   space=statistics.median(s.space for s in spans), trail=max(spans, key=lambda s: s.x0).trail)


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


def _paragraphs(lines: list[_Line], page: int, layout: _Layout, left: float, vocab: set[str],
                before: tuple[_Line, float] | None) -> tuple[list[Block], tuple[_Line, float] | None, bool]:
    """Join a page's body lines into heading and body blocks. Also returns the page's last body
    line (for the next page) and whether the first block continues the paragraph ``before`` it."""
    body_size = layout.body_size
    groups: list[tuple[str, list[_Line]]] = []
    prev: _Line | None = None
    for line in lines:
        heading = (line.bold or line.size >= 1.15 * body_size) and len(line.text) <= 200 and "⟦" not in line.text
        kind = "heading" if heading else "body"
        same = prev is not None and groups and groups[-1][0] == kind and (
            prev.y - line.y < (1.6 * line.size if heading else layout.pitch + 0.25 * body_size))
        if same and kind == "body":
            same = not _starts(prev, line, left, left, layout)
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
        if kind == "body" and len(group) == 1 and len(text) < 0.5 * layout.chars and _heading_like(text):
            kind = "heading?"  # a short single line: a heading or front matter, decided by _settle
        blocks.append(Block(kind, text, page))
    if not blocks:
        return blocks, before, False
    # Across a page break, with no vertical gap to go by: the next line has no indent where paragraphs
    # have them, or, where paragraphs touch, the last line was full and nothing else says it ended.
    evidence = layout.indents or not layout.gaps and layout.full is not None
    continued = (evidence and before is not None and blocks[0].kind == "body"
                 and not _starts(before[0], groups[0][1][0], before[1], left, layout))
    return blocks, (groups[-1][1][-1], left) if blocks[-1].kind == "body" else None, continued


def _starts(prev: _Line, line: _Line, prev_left: float, left: float, layout: _Layout) -> bool:
    """Whether ``line`` starts a new paragraph after the body line ``prev`` (no vertical gap between)."""
    if line.x - left > 0.5 * layout.body_size:
        return True  # a first-line indent
    terminal = _ends_sentence(prev.text)
    if layout.full is not None and prev.end is not None and line.word_end is not None:
        margin = prev_left + layout.full
        # Ragged right: the next line's first word would have fitted after this one, so the line was ended.
        if prev.end + prev.space + (line.word_end - line.x) <= margin and (terminal or line.text[:1].isupper()):
            return True
        # Justified: every line but a paragraph's last reaches the margin.
        if terminal and layout.justified and prev.end < margin - 0.5 * prev.space:
            return True
    elif terminal and len(prev.text) + 1 + len(line.text.split(" ", 1)[0]) < 0.9 * layout.chars:
        return True  # no glyph widths: the same test, counting characters
    # A producer that draws the space at every line break draws none where a paragraph ends (nor
    # after a note number, so a line ending with one tells nothing).
    return terminal and layout.break_spaces and not prev.trail and not prev.text.endswith("⟧")


def _carry_last_words(blocks: list[Block], start: int) -> None:
    """The paragraph at ``blocks[start]`` continues one that a page cut at a sentence's end: move
    that sentence's last word over, so that ``assemble`` sees a cut mid-sentence and rejoins them."""
    j = next((j for j in range(start - 1, -1, -1) if blocks[j].kind not in ("note", "pagebreak")), None)
    if j is None or blocks[j].kind != "body":
        return
    words = blocks[j].text.split(" ")
    cut = len(words) - 1
    while cut > 1 and (_ends_sentence(words[cut - 1]) or words[cut].startswith("⟦")):
        cut -= 1
    if cut < 1 or _ends_sentence(words[cut - 1]) or words[cut].startswith("⟦"):
        return
    blocks[j] = Block("body", " ".join(words[:cut]), blocks[j].page)
    blocks[start] = Block("body", " ".join(words[cut:] + [blocks[start].text]), blocks[start].page)


def _ends_sentence(text: str) -> bool:
    return bool(_TERMINAL.search(re.sub(r"(?:\s*⟦\d+⟧)+$", "", text).rstrip()))


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
