"""PDF glyphs: every glyph of a page, placed, from PDFium (pypdfium2), for ``qa.pdf.lines``.

PDFium maps each glyph to Unicode through the font's ToUnicode map and encoding, with its
box, baseline origin and the size it is drawn at (a character beyond the BMP as two UTF-16
halves, joined here; a lone half is dropped, so all text out is valid Unicode). Here the glyphs become text runs: a run is
the glyphs of one baseline, size and weight that follow each other on the line; word spaces
are taken from the gaps between glyphs (some producers draw no space characters at all),
a hyphen PDFium marks as a line-end hyphen stays a hyphen, and rotated glyphs (watermarks,
margin notes) and glyphs over a picture (a figure's labels) are left out. Each run comes
with a ``Span``: where its ink starts and ends.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from qa.errors import DocumentError

_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# What a ligature glyph without a Unicode mapping may stand for (PDFium gives its font code, a control
# character: "Dri\x1c" for "Drift"), longest first; and such a glyph inside a word.
_LIGATURE_READINGS = ("ffi", "ffl", "fft", "ff", "fi", "fl", "ft", "fj", "st", "ct", "tt", "th")
_CONTROL = re.compile(r"[\x00\x01\x03-\x08\x0b\x0c\x0e-\x1f]")
_UNMAPPED = re.compile(rf"([^\W\d_]*)({_CONTROL.pattern})([^\W\d_]*)")
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_WORD_GAP = 0.16  # a gap wider than this many ems between two glyphs is a word space


@dataclass(frozen=True)
class Span:
    """Where a run put ink: from its first glyph to its last, on a baseline."""
    y: float
    x0: float  # left of the first glyph
    word: float | None  # right of its first word (None: one word)
    x1: float  # right of the last glyph
    space: float  # width of a word space at this size
    trail: bool  # the run ends with a space the producer drew


@dataclass(frozen=True)
class Run:
    """Glyphs of one style that follow each other on a baseline: where they start, their text."""
    x: float
    y: float  # baseline
    size: float
    bold: bool
    text: str


@dataclass(frozen=True)
class _Glyph:
    text: str
    x0: float
    x1: float
    y: float  # baseline (origin)
    size: float
    bold: bool
    space: bool  # a space character (drawn or inferred by PDFium)


def pages(path: Path) -> Iterator[tuple[list[Run], list[Span]]]:
    """Yield every page's text runs and inked spans; unreadable and encrypted files raise DocumentError."""
    import pypdfium2 as pdfium  # imported here: only PDFs need it

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentError(f"{path}: the PDF is encrypted with a password; save an unprotected copy and retry") from exc
        raise DocumentError(f"{path}: not a readable PDF (corrupt or truncated: {exc}); re-export or re-download it") from exc
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            try:
                figures = _figures(page)
                yield _runs([g for g in _glyphs(textpage) if not any(_inside(g, box) for box in figures)])
            finally:
                textpage.close()
                page.close()
    finally:
        document.close()


def _figures(page: object) -> list[tuple[float, float, float, float]]:
    """The boxes of a page's pictures (left, bottom, right, top): text drawn over one is a label of
    the figure, not prose. A picture covering most of the page is a scan under its OCR text."""
    import pypdfium2.raw as raw

    width, height = page.get_size()  # type: ignore[attr-defined]
    boxes = []
    for image in page.get_objects(filter=(raw.FPDF_PAGEOBJ_IMAGE,), max_depth=3):  # type: ignore[attr-defined]
        left, bottom, right, top = image.get_bounds()
        if 0 < (right - left) * (top - bottom) < 0.6 * width * height:
            boxes.append((left, bottom, right, top))
    return boxes


def _inside(glyph: _Glyph, box: tuple[float, float, float, float]) -> bool:
    left, bottom, right, top = box
    return left <= glyph.x0 and glyph.x1 <= right and bottom <= glyph.y <= top


def _glyphs(textpage: object) -> Iterator[_Glyph]:
    """The page's glyphs in content order, with boxes, baselines and drawn sizes."""
    import pypdfium2.raw as raw

    tp = textpage.raw  # type: ignore[attr-defined]
    box = raw.FS_RECTF()
    ox, oy = ctypes.c_double(), ctypes.c_double()
    matrix = raw.FS_MATRIX()
    name = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    fonts: dict[bytes, bool] = {}
    count = raw.FPDFText_CountChars(tp)
    paired = False  # this index is the low half of a pair read at the one before
    for i in range(count):
        if paired:
            paired = False
            continue
        code = raw.FPDFText_GetUnicode(tp, i)
        if code in (10, 13) or code == 0xFFFE:
            continue
        char = "-" if code == 2 else chr(code)  # 2: PDFium's mark for a hyphen at a line's end
        if 0xD800 <= code <= 0xDFFF:
            char, paired = code_point(code, raw.FPDFText_GetUnicode(tp, i + 1) if i + 1 < count else 0)
            if not char:
                continue
        generated = raw.FPDFText_IsGenerated(tp, i) == 1
        raw.FPDFText_GetCharOrigin(tp, i, ox, oy)
        if generated:
            yield _Glyph(" ", ox.value, ox.value, oy.value, 0.0, False, True)
            continue
        raw.FPDFText_GetMatrix(tp, i, matrix)
        if _rotated(matrix.a, matrix.b):
            continue  # rotated text (watermarks, margin notes) is not part of the flow
        # the size across the baseline: a slanted italic's matrix (Word's, where a font has no italic) is skewed
        size = raw.FPDFText_GetFontSize(tp, i) * abs(matrix.a * matrix.d - matrix.b * matrix.c) / math.hypot(matrix.a, matrix.b)
        raw.FPDFText_GetLooseCharBox(tp, i, box)  # the glyph's advance, not its ink: a "1" is narrow
        raw.FPDFText_GetFontInfo(tp, i, name, len(name), flags)
        font = name.value
        if font not in fonts:
            fonts[font] = bool(_BOLD.search(font.decode("latin-1"))) or bool(flags.value & (1 << 18))
        bold = fonts[font] or raw.FPDFText_GetFontWeight(tp, i) >= 600
        space = char.isspace() and (code >= 0x20 or char == "\t")  # a control code is a glyph (see ligature_readings)
        x0, x1 = (ox.value, ox.value) if space and box.right <= box.left else (box.left, box.right)
        yield _Glyph(" " if space else char, x0, x1, oy.value, round(size, 1), bold, space)


def _rotated(a: float, b: float) -> bool:
    """Return whether a glyph whose text matrix sends the baseline to (a, b) is set off the horizontal
    (a watermark, a margin note): its baseline tilts. A matrix skewed the other way, with its baseline
    level, is an italic made by slanting the upright font (Word does so where a font has no italic);
    it was taken for rotated, and the word was lost ("I. Rahimi as Methodology" read "I. as Methodology")."""
    return abs(b) > 0.1 * abs(a) + 1e-6 or abs(a) < 1e-6


def code_point(code: int, following: int) -> tuple[str, bool]:
    """Return the character a UTF-16 surrogate ``code`` stands for with the code unit ``following`` it,
    and whether that unit was used: PDFium gives a character beyond the BMP (math italic 𝐴, U+1D434, in
    Word's equations) as a pair of halves; a half without its other is no character ("": dropped), and
    would make the text impossible to encode."""
    if 0xD800 <= code <= 0xDBFF and 0xDC00 <= following <= 0xDFFF:
        return chr(0x10000 + ((code - 0xD800) << 10) + (following - 0xDC00)), True
    return "", False


def ligature_readings(texts: list[str]) -> dict[str, str]:
    """Return what each unmapped ligature glyph of a document (a control character inside words) stands
    for: the reading that turns the most of its words into words the document prints in plain letters
    ("Dri\x1c" → "Drift" where "drift" is printed elsewhere), where it explains at least three words and
    twice as many as any other reading. A glyph no reading explains is a space, as it was read before."""
    vocabulary: set[str] = set()
    odd: list[tuple[str, str, str]] = []
    for text in texts:
        vocabulary.update(w.lower() for w in re.findall(r"[^\W\d_]+", text))
        odd += [(m[1], m[2], m[3]) for m in _UNMAPPED.finditer(text) if m[1] or m[3]]
    readings: dict[str, str] = {}
    for code in {glyph for text in texts for glyph in _CONTROL.findall(text)}:
        counts = Counter(dict.fromkeys(_LIGATURE_READINGS, 0))
        for before, _, after in (o for o in odd if o[1] == code):
            for reading in _LIGATURE_READINGS:
                counts[reading] += f"{before}{reading}{after}".lower() in vocabulary
        (best, n), (_, second) = counts.most_common(2)
        readings[code] = best if n >= 3 and n >= 2 * second else " "
    return readings


def _letter_spaced(run: list[_Glyph]) -> list[_Glyph]:
    """Return a run's glyphs with the spaces between its words only, where it is letter-spaced (a title
    set "U N I T E D  S T A T E S"): most glyphs stand apart by more than a word gap, and a few gaps are
    wider than the letters' own spacing by a good part of a space. Those are the word spaces; the other
    gaps are the tracking. A run of evenly spaced letters ("a b c d", a formula) is left as it is, and
    so is one of many other glyphs (the dot leaders of a table of contents, between which words are
    closer than the dots)."""
    ink = [g for g in run if not g.space]
    if len(ink) < 6 or sum(g.text.isalnum() for g in ink) < 0.8 * len(ink):  # dot leaders of a contents line
        return run
    em = max(ink[0].size, 1.0)
    gaps = [b.x0 - a.x1 for a, b in itertools.pairwise(ink)]
    if sum(gap > _WORD_GAP * em for gap in gaps) < 0.6 * len(gaps):
        return run
    tracking = statistics.median(gaps)
    words = [gap > tracking + 0.15 * em for gap in gaps]
    if not any(words) or sum(words) > len(gaps) / 4:  # words of four letters or more
        return run
    out: list[_Glyph] = []
    for glyph, gap, word in zip(ink, [*gaps, 0.0], [*words, False], strict=True):
        out.append(glyph)
        if word:
            out.append(_Glyph(" ", glyph.x1, glyph.x1 + gap, glyph.y, 0.0, False, True))
    return out


def line_spaces(glyphs: list[_Glyph]) -> dict[int, float]:
    """Return, by baseline (rounded to the point), the narrowest word space the producer or PDFium put
    between two glyphs of one size on a line that has at least two: the width a gap must have there
    to be a word space (``word_space``)."""
    seen: dict[int, list[float]] = {}
    for before, space, after in zip(glyphs, glyphs[1:], glyphs[2:], strict=False):
        if (space.space and not before.space and not after.space and abs(before.size - after.size) < 0.3
                and abs(before.y - after.y) < 0.05 * max(after.size, 1.0) and after.x0 - before.x1 > 0.05 * after.size):
            seen.setdefault(round(after.y), []).append(after.x0 - before.x1)
    return {y: min(gaps) for y, gaps in seen.items() if len(gaps) >= 2}


def word_space(before: _Glyph, after: _Glyph, narrowest: float | None) -> bool:
    """Return whether the gap between two glyphs on a line is a word space with no space drawn or
    inferred there: wider than a sixth of an em, or, between two letters or digits, at least 0.7 of the
    line's narrowest word space (``line_spaces``) and a twelfth of an em. A justified line stretches its
    spaces alike, and a tight one (a thesis set by R Markdown: 0.13 em) lost words' spaces
    ("billionfrom"); a ligature's or a kerned pair's gap is under a third of a space."""
    em = max(before.size, after.size, 1.0)
    gap = after.x0 - before.x1
    if gap > _WORD_GAP * em:
        return True
    return (narrowest is not None and before.text.isalnum() and after.text.isalnum()
            and gap >= max(0.7 * narrowest, em / 12))


def _runs(glyphs: list[_Glyph]) -> tuple[list[Run], list[Span]]:
    """Return the runs and spans of a page's glyphs (see the module docstring)."""
    narrowest = line_spaces(glyphs)
    runs: list[Run] = []
    spans: list[Span] = []
    current: list[_Glyph] = []

    def flush() -> None:
        ink = [g for g in current if not g.space]
        if ink:
            first = ink[0]
            run = _letter_spaced(current)
            text = "".join(g.text for g in run).translate(_LIGATURES)
            runs.append(Run(first.x0, first.y, first.size, first.bold, re.sub(r" {2,}", " ", text)))
            gap = next((g.x0 for g in run[run.index(first):] if g.space), None)
            word = None if gap is None else max((g.x1 for g in ink if g.x0 < gap), default=first.x1)
            drawn_space = current[-1].space and current[-1].size > 0  # inferred spaces have no size
            spans.append(Span(first.y, first.x0, word, max(g.x1 for g in ink), 0.25 * first.size, drawn_space))
        current.clear()

    for glyph in glyphs:
        last = next((g for g in reversed(current) if not g.space), None)
        if glyph.space:
            if current and not current[-1].space:
                current.append(glyph)
            continue
        if last is not None:
            em = max(last.size, glyph.size, 1.0)
            same_line = abs(glyph.y - last.y) < 0.05 * em and abs(glyph.size - last.size) < 0.3
            gap = glyph.x0 - last.x1
            spaced = word_space(last, glyph, narrowest.get(round(glyph.y))) and not current[-1].space
            if not same_line or glyph.bold != last.bold or gap < -0.5 * em or gap > 3 * em:
                if spaced and abs(glyph.y - last.y) < 0.7 * em and gap <= 3 * em:  # a new style or a raised marker
                    current.append(_Glyph(" ", last.x1, glyph.x0, last.y, 0.0, False, True))
                flush()
            elif spaced:
                current.append(_Glyph(" ", last.x1, glyph.x0, glyph.y, 0.0, False, True))
        current.append(glyph)
    flush()
    return runs, spans
