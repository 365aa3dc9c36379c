"""PDF lines: a page's glyph runs → its lines in reading order, for ``qa.pdf.blocks``.

Two-column pages are cut at their gutter and read column by column (notes set across the page
under both columns are read after the last). Runs are grouped into
lines; a digit run that is smaller or raised relative to its line is a footnote marker
(written ``⟦n⟧``), and a line that starts with a note number carries it as its ``lead``.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import replace

from qa.pdf.chars import Run, Span
from qa.pdf.layout import Line

_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUP_DIGITS = str.maketrans(_SUPERSCRIPTS, "0123456789")
# TeX's OT1 fonts have no accented letters: an accent glyph is drawn over the letter after it
# (the cedilla under the letter before it), and is read as a spacing accent: "S¨oderberg", "c¸".
_ACCENTS = {"¨": "\u0308", "´": "\u0301", "ˆ": "\u0302", "˜": "\u0303", "ˇ": "\u030c", "˘": "\u0306",
            "˚": "\u030a", "¯": "\u0304", "˙": "\u0307"}
_ACCENT_BEFORE = re.compile(f"([{''.join(_ACCENTS)}]) ?([A-Za-z])")
_CEDILLA_AFTER = re.compile(r"([cCsStT]) ?¸")
_GUTTER_STEPS = 4000
# a raised number, or numbers, as a note marker; in brackets too ("[5]": a web page's <sup>, Word's HTML).
# Numbers raised one after another with a space between are several: an exponent, then a note's number
# ("3 · 10¹⁰ ¹": the raised "10 1" cited no note, and note 1 was left on no paragraph).
_MARKER_RUN = re.compile(r"^\d{1,3}(?:(?:\s*,\s*|\s+)\d{1,3})*$|^\[\d{1,3}\]$")
_ROMAN_RUN = re.compile(r"[ivxlc]{1,9}\s*")  # a raised roman note number (Word's endnotes); ``roman`` decides
# A line's leading note number: raised, superscript, set apart, or printed flush against the note's
# first word ("4Marie Söderberg", "7https://…") but not an ordinal or a decade ("2d Cir.", "1990s").
_LEAD = re.compile(rf"^(?:⟦(\d{{1,9}})⟧|([{_SUPERSCRIPTS}]{{1,9}})|(\d{{1,3}})(?=[\s.)])"
                   r"|(\d{1,3})(?=[«“\"‘(\[<]|(?!(?:st|nd|rd|th|d|s)\b)[^\W\d_]))\s*[.)]?\s*")


Region = tuple[list[Run], list[Span], int]  # runs, spans, column (0: left or whole width, 1: right)


def regions(runs: list[Run], spans: list[Span]) -> list[Region]:
    """Return a page's runs and spans in reading order: the whole page when it has one column; with
    two, each stretch of two-column lines as its left column then its right, and lines that cross the
    gutter (a title, a running header) as stretches of their own, the top one joined to the first
    column and the bottom one to the last. A lone line across the gutter between column lines has
    overflowed its column (a long URL): it is read in the column where it starts. A side column beside
    the text (``side_column``) is read after the rest of the page."""
    key = _line_key(runs)
    side = side_column(runs, spans, key)
    if side is not None:
        edge, lowest, highest = side

        def beside(x: float, y: float) -> bool:
            return x >= edge and lowest <= key(y) <= highest
        return [*regions([r for r in runs if not beside(r.x, r.y)], [sp for sp in spans if not beside(sp.x0, sp.y)]),
                ([r for r in runs if beside(r.x, r.y)], [sp for sp in spans if beside(sp.x0, sp.y)], 1)]
    gutter = _gutter(runs, spans, key)
    foot: set[int] = set()
    if gutter is None:  # two columns over notes set across the page: the columns without the notes
        foot = _foot(runs, key)
        if foot:
            gutter = _gutter([r for r in runs if key(r.y) not in foot], [sp for sp in spans if key(sp.y) not in foot], key)
    if gutter is None:
        return [(runs, spans, 0)]
    measured = {key(sp.y) for sp in spans}  # lines with real glyph widths; the others are guessed
    crossing = foot | {key(sp.y) for sp in spans if sp.x0 < gutter < sp.x1}
    crossing |= {key(r.y) for r in runs if r.text.strip() and key(r.y) not in measured
                 and r.x < gutter < r.x + _guess_width(r)}
    order = sorted({key(r.y) for r in runs if r.text.strip()}, reverse=True)
    kinds = ["wide" if k in crossing else "columns" for k in order]
    for i in range(1, len(kinds) - 1):
        if kinds[i] == "wide" and kinds[i - 1] == kinds[i + 1] == "columns":
            kinds[i] = "columns"
    stretches: list[tuple[str, set[int]]] = []  # top to bottom
    for k, kind in zip(order, kinds, strict=False):
        if stretches and stretches[-1][0] == kind:
            stretches[-1][1].add(k)
        else:
            stretches.append((kind, {k}))
    read: list[Region] = []
    top: Region | None = None  # lines across the top, read with the first column
    for i, (kind, keys) in enumerate(stretches):
        def take(left: bool | None, keys: set[int] = keys) -> Region:
            return ([r for r in runs if key(r.y) in keys and (left is None or (r.x < gutter) == left)],
                    [sp for sp in spans if key(sp.y) in keys and (left is None or (sp.x0 < gutter) == left)],
                    0 if left in (None, True) else 1)
        parts = [take(None)] if kind == "wide" else [take(True), take(False)]
        if kind == "wide" and i == 0 and len(stretches) > 1:
            top = parts[0]
            continue
        if kind == "wide" and i == len(stretches) - 1 and read:  # a footer: with the last column
            parts = [_joined(read.pop(), parts[0])]
        if top is not None:
            parts[0], top = _joined(top, parts[0]), None
        read += parts
    return [region for region in read if any(r.text.strip() for r in region[0])]


def side_column(runs: list[Run], spans: list[Span], key: Callable[[float], int]) -> tuple[float, int, int] | None:
    """Return where a narrow column set beside the text on the right starts, and its lowest and highest
    line keys; None where there is none. A report's summary page sets its number, date and authors in a
    box right of the summary's first lines, on their baselines, and they were read into them ("… public
    roads. About Specialist in 48% of these bridges …"). Such a column: three or more lines start at one
    place in the right two-fifths of the page, no wider than two-fifths of it, most of them words (not
    a table's figures); over their height all other text ends an em short of that place, and beside it
    at least two lines are prose (one run 20 ems wide, not a table's cells)."""
    ink = [(key(sp.y), sp.x0, sp.x1) for sp in spans if math.isfinite(sp.x0) and math.isfinite(sp.x1)]
    if len(ink) < 12:
        return None
    left, right = min(x0 for _, x0, _ in ink), max(x1 for _, _, x1 in ink)
    sizes = [r.size for r in runs if r.text.strip()]
    em = statistics.median(sizes) if sizes else 10.0
    lines: dict[int, list[tuple[float, float]]] = {}
    for k, x0, x1 in ink:
        lines.setdefault(k, []).append((x0, x1))
    starts = Counter(round(x0) for extents in lines.values() for x0, _ in set(extents) if x0 > left + 0.6 * (right - left))
    for start, n in starts.most_common():
        if n < 3:
            break
        edge = start - 1.0
        keys = [k for k, extents in lines.items() if any(abs(x0 - start) <= 1 for x0, _ in extents)]
        if len(keys) < 3 or max(x1 for k in keys for x0, x1 in lines[k] if x0 >= edge) - edge > 0.4 * (right - left):
            continue
        bottom, top = min(keys), max(keys)
        texts = ["".join(r.text for r in runs if r.x >= edge and key(r.y) == k) for k in keys]
        if 2 * sum(bool(re.search(r"[^\W\d_]{3}", text)) for text in texts) < len(texts):
            continue  # figures: a table's column
        others = [[(x0, x1) for x0, x1 in lines[k] if x0 < edge] for k in lines if bottom <= k <= top]
        if any(x1 > edge - em for extents in others for _, x1 in extents):
            continue
        if sum(any(x1 - x0 >= 20 * em for x0, x1 in e) for e in others) >= 2:  # one run of prose, not cells
            return edge, bottom, top
    return None


def _foot(runs: list[Run], key: Callable[[float], int]) -> set[int]:
    """Return the keys of the lines at a page's foot set smaller than its main text (the notes), with
    the page number under or over them."""
    chars: Counter[float] = Counter()
    sizes: dict[int, float] = {}
    texts: dict[int, str] = {}
    for run in runs:
        if run.text.strip():
            chars[run.size] += len(run.text.strip())
            sizes[key(run.y)] = max(sizes.get(key(run.y), 0.0), run.size)
            texts[key(run.y)] = texts.get(key(run.y), "") + run.text.strip()
    if not chars:
        return set()
    main = max(size for size, n in chars.items() if n >= 0.1 * chars.total())  # notes may outweigh the text
    foot: set[int] = set()
    for k in sorted(sizes):  # bottom up
        if sizes[k] >= 0.95 * main and not re.fullmatch(r"[-–—\s]*\d{1,5}[-–—\s]*", texts[k]):
            break
        foot.add(k)
    return foot if any(sizes[k] < 0.95 * main for k in foot) else set()


def _joined(a: Region, b: Region) -> Region:
    return a[0] + b[0], a[1] + b[1], a[2]


def _group(runs: list[Run], newest: bool, spaces_join_last: bool = False) -> list[list[Run]]:
    """Return the runs in groups: a run joins the oldest group (``newest``: the latest) whose first run's
    baseline is less than half the larger of their sizes away, else starts one; a space run joins the
    last group when ``spaces_join_last``. Groups are found by bands of baselines: comparing each run
    with every group took minutes on a page of 20,000 lines."""
    def near(group: list[Run], run: Run) -> bool:
        return abs(group[0].y - run.y) < 0.5 * max(group[0].size, run.size)

    band = 0.5 * max((r.size for r in runs), default=0.0)  # no two runs further apart than this are near
    banded = band > 0 and math.isfinite(band)
    groups: list[list[Run]] = []
    bands: dict[int, list[int]] = {}
    for run in runs:
        if spaces_join_last and run.text == " " and groups:
            groups[-1].append(run)
            continue
        key = math.floor(run.y / band) if banded and math.isfinite(run.y) else None
        if key is None:
            candidates: Iterable[int] = range(len(groups)) if not banded else ()
        else:
            candidates = (i for k in (key - 1, key, key + 1) for i in bands.get(k, ()))
        matching = [i for i in candidates if near(groups[i], run)]
        if matching:
            groups[max(matching) if newest else min(matching)].append(run)
            continue
        if key is not None:
            bands.setdefault(key, []).append(len(groups))
        groups.append([run])
    return groups


def _line_key(runs: list[Run]) -> Callable[[float], int]:
    """Return a function from a baseline to its printed line's key (a raised marker joins the line
    it is on, as in ``_lines``): the rounded baseline of the line's largest text."""
    groups = _group(sorted((r for r in runs if r.text.strip()), key=lambda r: (-r.size, -r.y)), newest=False)
    line_of = {_baseline(r.y): _baseline(g[0].y) for g in groups for r in g}
    return lambda y: line_of.get(_baseline(y), _baseline(y))


def _gutter(runs: list[Run], spans: list[Span], key: Callable[[float], int]) -> float | None:
    """Return the x of the gap between two columns of text, or None for a page in one column.

    A gutter is a band at least three quarters of an em wide (TeX's is one em), in the middle
    three-fifths of the text, that at most a fifth of the lines cross, with at least 6 lines and a fifth
    of them wholly on each side of it. In one column few lines lie wholly right of the middle, and word
    spaces are narrower than that.
    Both sides must read as prose (``_prose_side``)."""
    boxes = [(key(sp.y), sp.x0, sp.x1) for sp in spans]
    if not boxes:
        boxes = [(key(r.y), r.x, r.x + _guess_width(r)) for r in runs if r.text.strip()]
    if len(boxes) < 12:
        return None
    left, right = min(b[1] for b in boxes), max(b[2] for b in boxes)
    sizes = [r.size for r in runs if r.text.strip()]
    em = statistics.median(sizes) if sizes else 10.0
    if not right - left >= 20 * em:  # (also when a damaged file's coordinates are inf or NaN)
        return None
    by_line: dict[int, list[tuple[float, float]]] = {}
    for base, x0, x1 in boxes:
        by_line.setdefault(base, []).append((x0, x1))
    n_lines = len(by_line)
    good: list[float] = []
    # at most _GUTTER_STEPS positions: a damaged file drew glyphs at x = 5e8, and stepping across that
    # half a point at a time never ended (a printed page is a few hundred steps wide)
    step = max(0.5, em / 10, 0.6 * (right - left) / _GUTTER_STEPS)
    x = left + 0.2 * (right - left)
    while x <= left + 0.8 * (right - left):
        cross = before = after = 0
        for extents in by_line.values():
            if any(x0 < x < x1 for x0, x1 in extents):
                cross += 1
            else:
                before += any(x1 <= x for _, x1 in extents)
                after += any(x0 >= x for x0, _ in extents)
        if cross <= 0.2 * n_lines and min(before, after) >= max(6, n_lines / 5):
            good.append(x)
        x += step
    best: list[float] = []
    run: list[float] = []
    for x in good:  # the widest band of consecutive good positions
        run = [*run, x] if run and x - run[-1] <= step * 1.01 else [x]
        if len(run) > len(best):
            best = run
    if not best or best[-1] - best[0] < 0.75 * em:
        return None
    gutter = (best[0] + best[-1]) / 2
    for side in (lambda x0, x1: x1 <= gutter, lambda x0, x1: x0 >= gutter):
        sides = [(min(x0 for x0, x1 in extents if side(x0, x1)), max(x1 for x0, x1 in extents if side(x0, x1)))
                 for extents in by_line.values()
                 if any(side(x0, x1) for x0, x1 in extents) and not any(x0 < gutter < x1 for x0, x1 in extents)]
        if not _prose_side(sides, em):
            return None
    return gutter


def _prose_side(lines: list[tuple[float, float]], em: float) -> bool:
    """Return whether one side of a gap reads as a column of prose, from where each of its lines starts
    and ends: at least 15 em wide, with half its lines reaching its right edge (justified), or three in
    five filling two thirds of its width (set ragged: a reference list; prose beside a listing or an
    algorithm). A table, a glossary or a table of contents leaves a gap too, but its cells are ragged
    and short."""
    if not lines:
        return False
    left, edge = min(x0 for x0, _ in lines), max(x1 for _, x1 in lines)
    if edge - left < 15 * em:
        return False
    reach = sum(x1 >= edge - 1.5 * em for _, x1 in lines)
    full = sum(x1 - x0 >= 2 / 3 * (edge - left) for x0, x1 in lines)
    return reach >= 0.5 * len(lines) or full >= 0.6 * len(lines)


def _baseline(y: float) -> int:
    return round(y)


def _guess_width(run: Run) -> float:
    """Return a run's width when its font's metrics are unknown: half an em a character."""
    return 0.5 * run.size * len(run.text)


def page_lines(runs: list[Run], spans: list[Span]) -> list[Line]:
    """Group runs into lines (a raised marker joins the line it belongs to), top to bottom,
    each with where its ink ends and where its first word ends, when the glyph widths are known."""
    groups = _raised_numbers(_group(runs, newest=True, spaces_join_last=True))
    lines = sorted((line for line in (_line(sorted(g, key=lambda run: round(run.x, 1))) for g in groups)
                    if line.text), key=lambda line: -line.y)
    inked: dict[int, list[Span]] = {}
    down = [-line.y for line in lines]  # ascending
    ordered = not any(math.isnan(v) for v in down)
    for span in spans:
        near = (_nearest(down, span.y) if ordered and not math.isnan(span.y) else  # unordered: look at every line
                min(range(len(lines)), key=lambda i: abs(lines[i].y - span.y), default=None))
        if near is not None and abs(lines[near].y - span.y) < 0.6 * lines[near].size:
            inked.setdefault(near, []).append(span)
    return [_measured(line, sorted(inked[i], key=lambda s: s.x0)) if i in inked else line
            for i, line in enumerate(lines)]


def _raised_numbers(groups: list[list[Run]]) -> list[list[Run]]:
    """Return the groups of runs with a note number raised so high that it stood on a baseline of its own
    joined to the line it numbers (ACM's column notes: a 6 pt "6" 3.8 pt over the 7 pt "See McMinn …";
    the number was a line of its own, and the note was read into the note before): a group of one small
    number, less than a size over the line under it, set against that line's start."""
    def only_number(group: list[Run]) -> Run | None:
        printed = [r for r in group if r.text.strip()]
        return printed[0] if len(printed) == 1 and re.fullmatch(r"\d{1,3}", printed[0].text.strip()) else None

    order = sorted(range(len(groups)), key=lambda i: -groups[i][0].y if math.isfinite(groups[i][0].y) else math.inf)
    into: dict[int, int] = {}
    for at, i in enumerate(order):
        number = only_number(groups[i])
        if number is None:
            continue
        for j in order[at + 1:at + 9]:  # the few lines just under it
            printed = [r for r in groups[j] if r.text.strip()]
            if not printed or j in into:
                continue
            size, x = max(r.size for r in printed), min(r.x for r in printed)
            if not 0 < number.y - printed[0].y < size:
                break
            if number.size < size and 0 <= x - number.x <= 1.5 * size:
                into[i] = j
                break
    if not into:
        return groups
    joined = [list(group) for group in groups]
    for i, j in into.items():
        joined[j] += joined[i]
    return [group for k, group in enumerate(joined) if k not in into]


def _nearest(down: list[float], y: float) -> int | None:
    """Return the index of the first line (top to bottom, ``down`` their baselines negated) whose baseline
    is nearest ``y``, by bisection: looking at every line for every span took minutes on a page of
    20,000 lines."""
    at = bisect.bisect_left(down, -y)  # lines[at:] lie at or under y, lines[:at] over it
    over = -down[at - 1] if at > 0 else None  # the lowest line over y
    under = -down[at] if at < len(down) else None  # the highest line at or under y
    if over is not None and (under is None or abs(over - y) <= abs(under - y)):
        return bisect.bisect_left(down, -over)  # the first line of that baseline
    return None if under is None else bisect.bisect_left(down, -under)


def _measured(line: Line, spans: list[Span]) -> Line:
    word_end = spans[0].x1
    for span, after in zip(spans, [*spans[1:], None], strict=False):
        if span.word is not None:
            word_end = span.word
            break
        word_end = span.x1
        if after is None or after.x0 - span.x1 > 0.5:  # the next span is not glued to this word
            break
    return replace(line, end=max(s.x1 for s in spans), word_end=word_end,
                   space=statistics.median(s.space for s in spans), trail=max(spans, key=lambda s: s.x0).trail)


def _line(runs: list[Run]) -> Line:
    weights: Counter[float] = Counter()
    for run in runs:
        weights[run.size] += len(run.text.strip())
    size = weights.most_common(1)[0][0]
    main = [r for r in runs if r.size == size and r.text.strip()]
    base = statistics.median(r.y for r in main)
    bold = sum(len(r.text) for r in main if r.bold) >= 0.9 * sum(len(r.text) for r in main)
    text = ""
    for run in runs:
        raised, smaller = run.y - base, run.size < 0.85 * size
        lifted = (smaller and raised > -0.05 * size) or raised > 0.25 * size  # set as a note number is
        sup = lifted and _MARKER_RUN.match(run.text.strip())
        if sup and re.search(r"\d⟧$", text) and not run.text[0].isspace() and not re.search(r"[,\s]", run.text.strip()):
            text = text[:-1] + run.text.strip() + "⟧"  # one number drawn as several runs: "1", "9"
        elif lifted and _ROMAN_RUN.fullmatch(run.text):
            text += f"⟦{run.text.rstrip()}⟧" + run.text[len(run.text.rstrip()):]  # as printed, once ⟦⟧ go
        elif sup:
            text += "".join(f"⟦{n}⟧" for n in re.findall(r"\d+", run.text)) + (" " if run.text[-1:].isspace() else "")
        else:
            text += run.text
    text = re.sub(r"\s+", " ", text).strip()
    text = _compose_accents(text)
    text = re.sub(f"[{_SUPERSCRIPTS}]+", lambda m: f"⟦{m.group(0).translate(_SUP_DIGITS)}⟧", text)
    x = min((r.x for r in runs if r.text.strip()), default=0.0)
    lead = _LEAD.match(text)
    marker = None
    printed = [r.text.strip() for r in runs if r.text.strip()]
    # a number set apart: "1" + "Kyodo, …"
    if len(printed) > 1 and re.fullmatch(r"\d{1,3}", printed[0]) and not text.startswith("⟦"):
        marker = (int(printed[0]), text[len(printed[0]):].lstrip(" .)"), False)
    elif lead and lead.end() < len(text):
        digits = lead.group(1) or (lead.group(2) or "").translate(_SUP_DIGITS) or lead.group(3) or lead.group(4)
        marker = (int(digits), text[lead.end():], bool(lead.group(1) or lead.group(2)))
    return Line(round(x, 1), base, size, bold, text, marker)



def _compose_accents(text: str) -> str:
    """Join spacing accents drawn over or under a letter (TeX's OT1 fonts) into the accented letter."""
    if not any(ch in text for ch in "¸" + "".join(_ACCENTS)):
        return text
    text = _ACCENT_BEFORE.sub(lambda m: m.group(2) + _ACCENTS[m.group(1)], text)
    return unicodedata.normalize("NFC", _CEDILLA_AFTER.sub(lambda m: m.group(1) + "\u0327", text))
