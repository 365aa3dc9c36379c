"""Glyph widths: where each text-showing operator of a PDF page puts ink, for ``qa.pdf``.

pypdf reports where a text run starts but not where it ends. Its operator visitor gives
every text-showing operator (Tj, TJ, ', "); each is measured here from the font's /Widths
and /FirstChar (simple fonts) or /W and /DW (Type0), with TJ kerning and the Tc, Tw and Tz
state, into a ``Span``: left and right of the ink, the end of the first word, a space's width.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Where one text-showing operator put ink: from its first glyph to its last, on a baseline."""
    y: float
    x0: float  # left of the first non-space glyph
    word: float | None  # right of its first word (where the first space after ink starts)
    x1: float  # right of the last non-space glyph
    space: float  # width of a space in this font and size
    trail: bool  # the last glyph drawn is a space


@dataclass(frozen=True)
class Font:
    widths: dict[int, float]  # glyph advance per character code, 1/1000 of the font size
    default: float
    two_byte: bool  # Type0 fonts: codes are 2-byte CIDs
    spaces: frozenset[int]  # codes that draw a space


def page_fonts(page: object) -> dict[str, object]:
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


def _font_metrics(font: object) -> Font | None:
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
            widths = standard_widths(str(font.get("/BaseFont", "")))
        if not widths:
            return None  # a font without metrics in the file, and not one of the standard 14
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
    return Font(widths, default, two_byte, frozenset(spaces))


def standard_widths(base_font: str) -> dict[int, float]:
    """Widths by (WinAnsi) character code of one of the 14 standard fonts, which PDFs may use
    without metrics in the file; {} for any other font. The metrics ship with pypdf (Adobe's AFMs)."""
    try:
        from pypdf._codecs.core_font_metrics import CORE_FONT_METRICS
    except ImportError:  # a pypdf without them: callers fall back to character counts
        return {}
    name = base_font.lstrip("/").split("+", 1)[-1]
    metrics = CORE_FONT_METRICS.get(name) or CORE_FONT_METRICS.get(name.replace("-", ","))
    if metrics is None:
        return {}
    widths: dict[int, float] = {}
    for char, width in metrics.character_widths.items():
        try:
            code = char.encode("cp1252")
        except (UnicodeEncodeError, AttributeError):
            continue
        if len(code) == 1:
            widths[code[0]] = float(width)
    return widths


def hide_unused_space_widths(fonts: dict[str, object], done: set[int]) -> None:
    """Zero, in memory, the width of code 32 in simple fonts that draw no space glyph.

    TeX's fonts have none: word gaps are TJ offsets, and code 32 is another glyph (the wide
    visible space of T1). pypdf judges word gaps by the width of code 32, so the spaces of a
    line that TeX shrank would be lost; with that width zero it falls back to a default space.
    ``done`` holds the fonts already seen on earlier pages.
    """
    import pypdf  # only PDFs need it

    for font in fonts.values():
        try:
            font = font.get_object()
            if id(font) in done:
                continue
            done.add(id(font))
            metrics = _font_metrics(font)
            encoding = font.get("/Encoding")
            encoding = encoding.get_object() if encoding is not None else None
            named, code = {}, 0
            for item in (encoding.get("/Differences") or []) if hasattr(encoding, "get") else []:
                if isinstance(item, (int, float)):
                    code = int(item)
                else:
                    named[code], code = str(item), code + 1
            no_space = named.get(32, "/space") != "/space" or ("/ToUnicode" in font and not metrics.spaces)
            first = int(font.get("/FirstChar", 0))
            if not metrics.two_byte and no_space and 0 <= 32 - first < len(font["/Widths"]):
                font["/Widths"][32 - first] = pypdf.generic.NumberObject(0)
        except Exception:  # damaged font dictionaries: leave them to pypdf
            continue


def span_tracker(fonts: dict[str, object], metrics: dict[int, Font | None], spans: list[Span]
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


def _measure(items: list, state: dict, pen: dict, cm: list[float], tm: list[float], spans: list[Span]) -> None:
    font: Font = state["font"]
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
    spans.append(Span(f, e + x0 * a, None if word is None else e + word * a, e + x1 * a, space * abs(a), trail))

