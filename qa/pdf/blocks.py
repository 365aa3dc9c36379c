"""PDF lines → blocks: running headers and page numbers dropped, footnote areas cut into
notes, body lines joined into paragraphs and headings; the blocks go to ``parse.assemble``.

Per page: running headers, footers and page numbers are dropped, the footnote area (smaller
lines at the bottom starting with a marker) is cut into one "note" block per footnote, and
the rest is joined into paragraphs (vertical gaps, indents and short last lines end one, as
``qa.pdf.layout`` decides; end-of-line hyphens are undone but URLs are glued back as they
were). ``assemble`` rejoins what page breaks cut mid-sentence; where the layout shows that a
paragraph goes on after a page that ended with a full sentence, its block says ``continues=True``.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

from qa.parse import ends_sentence
from qa.pdf.endnotes import Closing, cite_brackets, cite_glued, endnote_start, note_text
from qa.pdf.layout import Layout, Line, closes_sentence, heading_like, left_edges, measure_layout, right_edge, starts_paragraph
from qa.pdf.roman import roman_notes
from qa.records import Block

_FOLIO = re.compile(r"^(?:page\s+)?(?:\d{1,5}|[ivxlc]+)(?:\s*(?:/|of)\s*\d+)?$|^[-–—]\s*\d+\s*[-–—]$", re.IGNORECASE)
_RULE = re.compile(r"^[\s\-‐‑‒–—―_─━=*·.]{5,}$")
_HYPHEN_END = re.compile(r"(\w+)[-\u00ad]$")
_URL_TAIL = re.compile(r"(<?)((?:https?:/{0,2}|www\.)\S*)$")  # a URL may be cut right after "https:"
_NOTES_TITLE = re.compile(r"^\s*(?:end\s?notes|foot\s?notes|notes(?: and references)?|anmerkungen|notas)\s*$", re.IGNORECASE)
# An author line: names ending in the symbols of the authors' notes ("Jack Goldsmith* & Eugene Volokh**").
# TeX's \thanks marks them ∗ (U+2217), †, ‡, §, ¶, ‖, then doubled.
_BYLINE = re.compile(r"[^\W\d_]\.?[*∗†‡§¶‖]+$")
# "* Professor of Law", "** J.D. 2024", "†Associate", "∗Professor"
_STARRED = re.compile(r"^(?:[*∗]{1,3}|†{1,2}|‡{1,2}|§{1,2}|¶{1,2}|‖{1,2})\.?\s*[^\W\d_]")
# Word's notice under a note that goes on over the page: no text of the note
_CONTINUED = re.compile(r"^\((?:continued|cont'?d)\s*(?:\.{3}|…)?\)$", re.IGNORECASE)
_Tail = tuple[Line, float, "float | None"]  # a page's last body line, the page's left and right edges
# The last note so far, which may go on at the top of a page's (or column's) notes: the size its
# lines are set in, whether it stopped mid-sentence, the printed page it stopped on.
_Open = tuple[float, bool, int]
# ("ex" is none: "ex-" at a line's end is far more often hyphenation, "ex-ceptions", than "ex-wife")
_COMPOUND_PREFIXES = {"non", "self", "anti", "well", "long", "short", "like", "next", "cross", "cyber", "semi"}


def page_blocks(pages: list[list[Line]], body_size: float, numbers: list[int] | None = None,
                columns: list[int] | None = None) -> list[Block]:
    """Return the blocks of a document's pages of lines: headings, body runs, notes and page breaks.
    ``numbers`` gives each page's printed page and ``columns`` its column (a column of a two-column
    page is a page here)."""
    pages = roman_notes(_drop_furniture(pages, len(set(numbers)) if numbers else len(pages)))
    closing = endnote_start(pages)
    if closing is not None and closing.cited != "raised":
        pages = (cite_brackets if closing.bracketed else cite_glued)(pages, closing)
    vocab = _words(pages)
    plain = [[line for line in page if abs(line.size - body_size) < 0.3 and not line.bold] for page in pages]
    kinds = [(n % 2, c) for n, c in zip(numbers, columns or [0] * len(numbers), strict=False)] if numbers else None
    lefts = left_edges(plain, body_size, kinds)
    layout = measure_layout(plain, lefts, body_size)
    # Notes set as large as the body are no body lines: where there are some, measure again without them.
    last: int | None = None
    listed = False
    bodies: list[set[int]] = []
    open_note: _Open | None = None
    for index, lines in enumerate(pages):
        number = numbers[index] if numbers else index + 1
        goes_on = _closing_goes_on(closing, index, last)
        body, notes, listed, _ = _split_notes(lines, body_size, layout.pitch, last, listed or goes_on,
                                              still_open(open_note, number), _closing_line(closing, index, goes_on))
        bodies.append({id(line) for line in body})
        last = notes[-1][0] if notes else last
        open_note = note_left_open(lines, body, notes, number, open_note)
    if any(id(line) not in body for page, body in zip(plain, bodies, strict=True) for line in page):
        plain = [[line for line in page if id(line) in body] for page, body in zip(plain, bodies, strict=True)]
        lefts = left_edges(plain, body_size, kinds)
        layout = measure_layout(plain, lefts, body_size)
    blocks: list[Block] = []
    last_note: int | None = None
    open_note = None
    listed = False  # inside a list of notes under a "Notes" title that goes on over the page
    tail: _Tail | None = None  # the last body line so far, with its page's left and right edges
    held: list[Block] = []  # the authors' notes of the page before, to come after its paragraph goes on
    for index, lines in enumerate(pages):
        number = numbers[index] if numbers else index + 1
        if index:
            blocks.append(Block("pagebreak", "", number))
        goes_on = _closing_goes_on(closing, index, last_note)
        body, notes, listed, carried = _split_notes(lines, body_size, layout.pitch, last_note, listed or goes_on,
                                                    still_open(open_note, number), _closing_line(closing, index, goes_on))
        open_note = note_left_open(lines, body, notes, number, open_note)
        body = _glued_markers(line_numbers(body), [marker for marker, _ in notes])
        body, starred = _author_notes(body, body_size)
        start = len(blocks)
        found, tail, continued = _paragraphs(body, number, layout, lefts[index], vocab, tail)
        blocks += found
        if continued is not None and len(blocks) > start:  # what the layout shows about the page break
            blocks[start] = replace(blocks[start], continues=continued)
        at = _after_cut_paragraph(blocks, start) if held else None
        if at is not None:
            blocks[at:at] = held
            held = []
        held += [Block("body", _join(group, vocab), number) for group in starred]
        for k, (marker, note_lines) in enumerate(notes):
            earlier = next((i for i in range(len(blocks) - 1, -1, -1) if blocks[i].kind == "note"), None)
            if k == 0 and carried and earlier is not None and blocks[earlier].marker == marker:  # a note continued
                blocks[earlier] = Block("note", _join([blocks[earlier].text, *note_lines], vocab),
                                        blocks[earlier].page, marker)
            else:
                blocks.append(Block("note", _join(note_lines, vocab), number, marker))
            last_note = marker
    blocks = [replace(b, text=note_text(b.text)) if b.kind == "note" else b for b in blocks + held]
    return _settle(_rehyphenate(uncited_lists(blocks), vocab))


def _closing_goes_on(closing: Closing | None, index: int, last: int | None) -> bool:
    """Whether the document's closing list of notes goes on at the top of page ``index``: a page after the one it
    starts on, while its last number is still to come (``last``: the last note so far), however the page's
    first line is set (Word's notes on a web page wrap flush with the text's edge)."""
    return closing is not None and index > closing.page and (last or 0) < closing.last


def _closing_line(closing: Closing | None, index: int, goes_on: bool) -> int | None:
    """Return the line at which page ``index`` reads the closing list of notes: where it starts, 0 where it goes
    on (``goes_on``), None elsewhere."""
    if goes_on:
        return 0
    return closing.line if closing is not None and closing.page == index else None


def uncited_lists(blocks: list[Block]) -> list[Block]:
    """Return the blocks with each run of three or more notes in a row that the text never cites by a
    raised number made body text again: a numbered list set small at a page's foot (a bibliography
    "4. Adam Back …", a listing's numbered lines) is no notes; a note whose marker was missed is one."""
    cited = {n for b in blocks if b.kind != "note" for n in _cited_numbers(b.text)}
    notes = [i for i, b in enumerate(blocks) if b.kind == "note" and isinstance(b.marker, int)]
    uncited: set[int] = set()
    for is_cited, run in itertools.groupby(notes, key=lambda i: blocks[i].marker in cited):
        found = list(run)
        if not is_cited and len(found) >= 3:
            uncited.update(found)
    return [Block("body", f"{b.marker}. {b.text}", b.page) if i in uncited else b for i, b in enumerate(blocks)]


def _after_cut_paragraph(blocks: list[Block], start: int) -> int | None:
    """Return where the authors' notes held from the page before go in a page's blocks (from ``start``):
    before the page's first block unless that is body text, else after the first body block that ends a
    sentence (the paragraph the page break cut is then whole); None when none on the page does: they wait."""
    for i in range(start, len(blocks)):
        if blocks[i].kind != "body":
            return i
        if ends_sentence(blocks[i].text):
            return i + 1
    return None if len(blocks) > start else start


def _author_notes(body: list[Line], body_size: float) -> tuple[list[Line], list[list[str]]]:
    """Split off the notes on the authors at the foot of a page ("* Professor of Law, …", "** …"):
    smaller lines opening with a symbol, which numbered notes do not follow. Returns (the body
    without them, their lines per note). They stay text, but come after the paragraph that the
    page break cut, so that it is read whole."""
    start = len(body)
    while start > 0 and body[start - 1].size < 0.95 * body_size:
        start -= 1
    first = next((i for i in range(start, len(body)) if _STARRED.match(body[i].text)), None)
    if first is None:
        return body, []
    groups: list[list[str]] = []
    for line in body[first:]:
        if _STARRED.match(line.text) or not groups:
            groups.append([])
        groups[-1].append(line.text)
    return body[:first], groups


def _drop_furniture(pages: list[list[Line]], printed: int) -> list[list[Line]]:
    """Drop running headers/footers (same text and place on several of the ``printed`` pages) and page numbers."""
    def key(line: Line) -> tuple[int, str]:
        return round(line.y / 3), re.sub(r"\d+", "#", line.text)

    edges = [page[:2] + page[-2:] for page in pages]
    seen = Counter(k for edge in edges for k in {key(line) for line in edge})
    # On most pages, or on every other page (left and right pages of a book); not two pages by chance.
    repeated = {k for k, n in seen.items() if n >= max(2, round(0.4 * printed))} | _running_heads(pages, key)
    # where a running line stands, what it starts with: "Congressional Research Service #"
    openings = {(y, text.split("#")[0].strip()) for y, text in repeated if len(text.split("#")[0].strip()) >= 12}
    out = []
    for page, edge in zip(pages, edges, strict=False):
        drop = {id(line) for line in edge if key(line) in repeated or _is_folio(line, page)
                or _runs_on(key(line), openings)}
        # a rule typed as a row of dashes (the line over the notes) is no text
        out.append([line for line in page if id(line) not in drop and not _RULE.match(line.text)])
    return out


def _running_heads(pages: list[list[Line]], key: Callable[[Line], tuple[int, str]]) -> set[tuple[int, str]]:
    """Return the keys of running heads that carry the page number, as a thesis or book sets them per
    chapter or section ("CHAPTER 1. INTRODUCTION 4", "12 1.5. THESIS OUTLINE"): a page's first line that
    starts or ends with a number, with the same words at the same place on another page and another
    number. A chapter's head is on too few pages to count as the whole document's header, and as a
    heading it cut every paragraph running over its pages. A head with no page number in it ("2.
    Transformation of Microfinance: A Synthesis", the folio at the foot) counts where a page's first
    line, plain, of three words or more, stands the same at the same place on three pages; it was
    read into the paragraphs running over them."""
    texts: dict[tuple[int, str], set[str]] = {}
    same: Counter[tuple[int, str]] = Counter()
    for page in pages:
        if page and re.search(r"^\d+\s|\s\d+$", page[0].text):
            texts.setdefault(key(page[0]), set()).add(page[0].text)
        if page and not page[0].bold and len(page[0].text.split()) >= 3:
            same[key(page[0])] += 1
    return {k for k, seen in texts.items() if len(seen) >= 2} | {k for k, n in same.items() if n >= 3}


def _runs_on(key: tuple[int, str], openings: set[tuple[int, str]]) -> bool:
    """Whether a line at a page's edge, by its place and text, is a running line that says more on
    this page: set where one stands and opening as it does ("Congressional Research Service R48906 ·
    VERSION 2 · NEW 18" on the last page, under "Congressional Research Service 17")."""
    return any(abs(key[0] - y) <= 1 and key[1].startswith(text) for y, text in openings)


def _is_folio(line: Line, page: list[Line]) -> bool:
    """Whether a line at a page's top or foot is its page number. A four- or five-digit number (a
    journal volume's pages) must stand apart, so that the last digits of a note's URL are kept."""
    match = _FOLIO.match(line.text)
    if not match or not re.fullmatch(r"\d{4,5}", line.text.strip()):
        return bool(match)
    return all(abs(other.y - line.y) > 1.3 * line.size for other in page if other is not line)


def note_left_open(lines: list[Line], body: list[Line], notes: list[tuple[int, list[str]]], page: int,
                   before: _Open | None) -> _Open | None:
    """Return the last note so far after a page (a column) of lines, from its body lines, its notes,
    its printed page and the last note before it: the page's last note, with the size its notes are
    set in and whether it stopped mid-sentence; where the page has no notes, the one before."""
    if not notes:
        return before
    kept = {id(line) for line in body}
    sizes = [line.size for line in lines if id(line) not in kept]  # the notes' size: a line of small capitals is smaller
    if not sizes:
        return before
    return statistics.median(sizes), not ends_sentence(notes[-1][1][-1] if notes[-1][1] else ""), page


def still_open(note: _Open | None, page: int) -> _Open | None:
    """Return the last note where it may go on on a printed page: from the page before, or from a
    column before on the same page; a note goes on over one page break, not from a page further
    back (a listing or a figure's caption at the foot of a later page is no note)."""
    return note if note is not None and page - note[2] <= 1 else None


def _split_notes(lines: list[Line], body_size: float, pitch: float, last: int | None, listed: bool = False,
                 open_note: _Open | None = None, closing: int | None = None
                 ) -> tuple[list[Line], list[tuple[int, list[str]]], bool, bool]:
    """Split a page into body lines and its notes: (body, [(marker, lines)], whether a list of notes
    under a "Notes" title goes on to the next page, whether the first note goes on from the page
    before). Notes are the smaller lines at the foot of the page that start with a marker, or, at any
    size, the numbered lines under a "Notes" title or from line ``closing`` on (the document's closing
    list of notes, ``endnotes.endnote_start``)."""
    big = lambda line: line.bold or line.size >= 1.15 * body_size  # noqa: E731
    begin = closing if closing is not None else 0 if listed else next(
        (i + 1 for i, line in enumerate(lines[:-1]) if big(line) and _NOTES_TITLE.match(line.text) and lines[i + 1].lead),
        None)
    if listed and closing is None and lines and lines[0].lead is None:
        # Over the page, text goes on with the last note only where it is set like the notes (indented
        # under their numbers, or a numbered line first); flush text at the body's edge is not a note.
        leads = [line.x for line in lines if line.lead]
        if not leads or lines[0].x <= min(leads) + 1:
            begin = None
    if begin is not None:  # endnotes: the list runs to the next heading, a gap, or on over the page; in the
        end = begin        # closing list, a note's paragraphs are set apart: a gap ends it only where no note follows
        last_opening = max((i for i, line in enumerate(lines) if line.lead is not None), default=-1)
        while end < len(lines) and not (big(lines[end]) and lines[end].lead is None and _heads(lines, end, body_size)) \
                and not (end > begin and (closing is None or last_opening < end)
                         and lines[end - 1].y - lines[end].y > 2.5 * max(lines[end].size, lines[end - 1].size)):
            end += 1
        # Over the page, the lines before the first number go on with the last note.
        # A new list (a chapter's notes) may number from 1 again.
        found = _read_notes(lines[begin:end], set(), last if listed else None, pitch,
                            first_gap=math.inf if listed else None, open_note=open_note if listed else None)
        if found is not None and found[0] == 0:
            return lines[:begin] + found[3] + lines[end:], found[1], end == len(lines) and not found[3], found[2]
    start = len(lines)
    while start > 0 and lines[start - 1].size < 0.95 * body_size:
        start -= 1
    area = lines[start:]
    cited = _cited(lines[:start])
    gap = lines[start - 1].y - area[0].y if area and start else None
    found = _read_notes(area, cited, last, pitch, gap, min((line.x for line in lines[:start]), default=None), open_note)
    if found is None:
        same = _same_size_notes(lines, pitch, last)
        if same is not None:
            start, found = same, _read_notes(lines[same:], set(), last, pitch, lines[same - 1].y - lines[same].y,
                                             open_note=open_note)
    if found is None or affiliations(lines[:start + found[0]], lines[start + found[0]:]):
        return lines, [], False, False
    return lines[:start + found[0]] + found[3], found[1], False, found[2]


def _heads(lines: list[Line], i: int, body_size: float) -> bool:
    """Whether a bold or large line in a list of notes is a heading that ends it: set larger than the body,
    or apart from the line above; a note's line set bold (a title in a citation) follows at the notes' pitch."""
    return i == 0 or lines[i].size >= 1.15 * body_size or lines[i - 1].y - lines[i].y > 1.5 * lines[i].size


def affiliations(above: list[Line], area: list[Line]) -> bool:
    """Whether the numbered lines at the foot of a page (or of a title block) are the authors'
    affiliations, not notes: the lines right over them are an author line citing them, one number
    more than once ("Lyngs¹, Lukoff², Seymour¹"); a note is cited once."""
    byline: list[str] = []
    for line in reversed(above):
        if "⟦" not in line.text:
            break
        byline += re.findall(r"⟦(\d{1,9})⟧", line.text)
    return bool(area) and area[0].lead is not None and max(Counter(byline).values(), default=0) > 1 and (
        str(area[0].lead[0]) in byline)


def _same_size_notes(lines: list[Line], pitch: float, last: int | None) -> int | None:
    """Return where notes set as large as the body start on a page (a rule over them, which is no
    text here): at the line that opens the next note, cited above, when set well apart from the lines
    above; or over it, at the rest of the last page's note, when the gap over that is the page's
    widest; None when there is none."""
    expected = (last or 0) + 1
    cited = [i for i, line in enumerate(lines) if f"⟦{expected}⟧" in line.text]
    opener = next((i for i, line in enumerate(lines) if line.lead is not None and line.lead[0] == expected
                   and cited and cited[0] < i), None)
    if opener is None:
        return None
    gaps = [lines[i - 1].y - lines[i].y for i in range(1, len(lines))]  # gaps[i - 1]: over line i
    start = next((i for i in range(opener, cited[0], -1) if gaps[i - 1] > 1.5 * pitch), None)
    if start is None or start <= cited[0]:
        return None
    if any(line.size > 1.1 * lines[opener].size for line in lines[start:]):
        return None  # notes hold no heading: numbered lines under the title (authors' affiliations) are none
    if start < opener and (last is None or any(gap >= gaps[start - 1] - 1 for k, gap in enumerate(gaps) if k != start - 1)):
        return None
    return start


def _read_notes(area: list[Line], cited: set[int], last: int | None, pitch: float, first_gap: float | None,
                body_left: float | None = None, open_note: _Open | None = None
                ) -> tuple[int, list[tuple[int, list[str]]], bool, list[Line]] | None:
    """Return (how many first lines of the area are small body text, the notes as [(marker, lines)],
    whether the first, with marker ``last``, goes on from the page before, the lines under the last
    note that are none of its text); None: no notes here.
    ``first_gap`` is the space between the body above and the area (None: nothing above), ``body_left``
    where the body's lines start, ``open_note`` the last page's last note, which may go on here."""
    left = min((line.x for line in area), default=0.0)
    widest = max((len(str(line.lead[0])) for line in area if line.lead), default=1)
    numbered = [line for line in area if line.lead]
    # Where the notes of this area start: lines whose number follows the numbered line before.
    set_at = {(round(b.x), len(str(b.lead[0]))) for a, b in itertools.pairwise(numbered)
              if b.lead and a.lead and b.lead[0] == a.lead[0] + 1}

    def opens(line: Line, expected: int | None) -> bool:
        if line.lead is None:
            return False
        number, _, sup = line.lead
        if sup:
            return True
        # Numbers may be right-aligned (" 9." under "10."): a digit less, about half an em further
        # in; or indented over wrapped lines set flush left (Word, Prince): up to three ems in.
        slack = 2 + 0.6 * line.size * (widest - len(str(number))) + 3 * line.size
        # A number in brackets ("[7]. Id.") leads a line only in a closing list of notes (``endnotes``): it opens
        # a note however far it is indented, and one past the expected one too (that one was printed otherwise).
        bracketed = line.text.startswith("[")
        if line.x > left + slack and not bracketed:
            return False
        if number == expected or (bracketed and expected is not None and number == expected + 1):
            return True
        # Out of sequence (a note the reader missed): a number cited on the page, set where the
        # notes start; a wrapped line that starts "137 S. Ct." or "62)." is no note.
        digits = len(str(number))
        same = [x for x, n in set_at if n == digits] or [x for x, _ in set_at]
        near = not same or any(abs(line.x - x) <= 2 + (0 if digits in {n for _, n in set_at} else 0.6 * line.size)
                               for x in same)
        # Numbering that starts again (per page, per chapter): a note 1 that the page cites.
        return number in cited and (number > (last or 0) or number == 1) and near

    # the notes' line spacing: of lines set one under the other, not across a gap
    size = statistics.median(line.size for line in area) if area else 0.0
    steps = [a.y - b.y for a, b in itertools.pairwise(area) if a.y - b.y <= 2 * size]
    step = statistics.median(steps) if steps else pitch
    # the space over a note's first line, where notes are set apart from each other
    spacing = statistics.median([a.y - b.y for a, b in itertools.pairwise(area) if b.lead and a.y - b.y <= 2 * size]
                                or [step])

    def goes_on(before: list[Line], after: Line | None, gap: float | None) -> bool:
        """Whether the lines above the first new note go on with the note the last page left open: set
        well apart from the body, or (TeX and LibreOffice set their notes only a little apart) set apart,
        flush with the body's edge or with the notes' wrapped lines (a quotation set small is indented
        from both) and as close above the next note as notes are."""
        if last is None or not before or open_note is None or not continued_note(before, open_note):
            return False
        if gap is None:  # nothing above: a page of notes, which goes on with the last only mid-sentence
            return open_note[1]
        if gap == math.inf:  # a list of notes going on over the page, its first lines set as notes are
            return True  # (``_split_notes`` saw to that): the last note's rest, however far from the next
        # as close above the next note as notes are (a figure's source set small between is not); with
        # no next note on the page, only the rest of a note cut mid-sentence
        close = open_note[1] if after is None else before[-1].y - after.y < 1.3 * max(step, spacing)
        if gap > 1.5 * pitch:
            return close
        x = min(line.x for line in before)
        wrapped = [line.x for line in area[len(before):] if line.lead is None]
        flush = (body_left is not None and x <= body_left + 1) or any(abs(x - w) <= 1 for w in wrapped)
        return gap > 1.1 * pitch and flush and close

    first = next((i for i, line in enumerate(area) if opens(line, (last or 0) + 1)), None)
    # A quotation or a figure's source set small may stand between the body and the notes: where the
    # widest gap above the first new note is wider than the notes' own spacing, the lines over it are
    # body text, and the note area starts under it.
    end = len(area) if first is None else first
    cut = max(range(1, end), key=lambda i: area[i - 1].y - area[i].y, default=0)
    # (not over the page in a list of notes, ``first_gap`` infinite: there the lines above are the last note's rest)
    skip = (cut if cut and first_gap is not None and first_gap != math.inf
            and area[cut - 1].y - area[cut].y > 1.5 * max(step, spacing) else 0)
    gap = area[skip - 1].y - area[skip].y if skip else first_gap
    area = area[skip:]
    if first is None:
        if not goes_on(area, None, gap):
            return None
        first = len(area)
    else:
        first -= skip
        if first and not goes_on(area[:first], area[first], gap):
            skip, area, first = skip + first, area[first:], 0  # small body text above the notes
    # the area's first lines go on with the last note of the page before (first > 0 only then)
    notes: list[tuple[int, list[str]]] = [(last or 0, [line.text for line in area[:first]])] if first else []
    after: list[Line] = []
    for k in range(first, len(area)):
        line = area[k]
        expected = notes[-1][0] + 1 if notes else (last or 0) + 1
        if line.lead is not None and opens(line, expected):
            notes.append((line.lead[0], [line.lead[1]]))
            after = []
        elif after or (k > first and set_apart(area[k - 1], line, max(step, spacing))):
            after.append(line)  # no text of the note: a copyright block, a disclaimer under the notes
        elif not _CONTINUED.match(line.text):
            notes[-1][1].append(line.text)
    return skip, notes, first > 0, after


def set_apart(above: Line, line: Line, step: float) -> bool:
    """Whether a line that opens no note under a note's line ends the note, from the two lines and the
    notes' line spacing: set further below it than notes are set apart, and in another size (an ACM
    paper's copyright block under the first column's notes); a note's own lines are set close."""
    return above.y - line.y > 1.6 * step and abs(above.size - line.size) >= 0.3


def continued_note(lines: list[Line], open_note: _Open | None) -> bool:
    """Whether lines at the top of a page's notes can be the rest of the note the page before left
    open: there is one, and they are set in its size, some of them at least (a quotation in a note is
    set smaller; a figure's caption or a listing is all in another size)."""
    return open_note is not None and any(abs(line.size - open_note[0]) < 0.3 for line in lines)


def _cited(lines: list[Line]) -> set[int]:
    """Return the note numbers the lines cite with raised markers (``⟦12⟧``)."""
    return {n for line in lines for n in _cited_numbers(line.text)}


def _cited_numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"⟦(\d{1,9})⟧", text)}


def line_numbers(body: list[Line]) -> list[Line]:
    """Return the body lines with the raised numbers that open lines numbered in a row (n, n + 1 on
    the lines under each other) set back as text: a code listing's line numbers, no markers. One such
    number alone is a marker that the line break put first ("… of the file." / "¹. The function")."""
    leading = [int(m.group(1)) if (m := re.match(r"⟦(\d{1,9})⟧", line.text)) else None for line in body]
    numbered = {i for i in range(1, len(body)) if (a := leading[i - 1]) is not None and leading[i] == a + 1}
    numbered |= {i - 1 for i in numbered}
    return [replace(line, text=re.sub(r"^⟦(\d{1,9})⟧", r"\1", line.text)) if i in numbered else line
            for i, line in enumerate(body)]


def _glued_markers(body: list[Line], markers: list[int]) -> list[Line]:
    """Mark the numbers of the page's notes that its body cites with plain digits set against the
    word or punctuation before them ("Windsor1", "case law.23"): each note not cited otherwise,
    at its first such place on the page."""
    cited = _cited(body)
    out = list(body)
    for marker in markers:
        if marker in cited:
            continue
        glued = re.compile(rf"(?:(?<=[^\W\d_])|(?<=[^\W\d_][.,;:])|(?<=[)\]”’\"][.,;:])|(?<=\S[”’\")\]]))({marker})(?![\w⟦])")
        for i, line in enumerate(out):
            if glued.search(line.text):
                out[i] = replace(line, text=glued.sub(f"⟦{marker}⟧", line.text, count=1))
                break
    return out


def _paragraphs(lines: list[Line], page: int, layout: Layout, left: float, vocab: set[str],
                before: _Tail | None) -> tuple[list[Block], _Tail | None, bool | None]:
    """Join a page's body lines into heading and body blocks. Also returns the page's last body
    line (for the next page) and whether the first block continues the paragraph ``before`` it
    (None: the layout cannot tell)."""
    body_size = layout.body_size
    right = right_edge([line for line in lines if abs(line.size - body_size) < 0.3 and not line.bold], body_size)
    edges = _set_in(lines, left, body_size, right)
    groups: list[tuple[str, list[Line]]] = []
    prev: Line | None = None
    ran_on = False  # the line before is a bold lead-in of this line's paragraph
    for i, line in enumerate(lines):
        lead_in = _lead_in(line, lines[i + 1] if i + 1 < len(lines) else None, layout)
        heading = ((line.bold or line.size >= 1.15 * body_size) and len(line.text) <= 200 and "⟦" not in line.text
                   and not lead_in)
        kind = "heading" if heading else "body"
        same = prev is not None and groups and groups[-1][0] == kind and (
            prev.y - line.y < (1.6 * line.size if heading else layout.pitch + 0.25 * body_size))
        if same and prev is not None and kind == "body":
            prev_left, prev_right = edges.get(i - 1, (left, right))
            same = ran_on or not starts_paragraph(prev, line, prev_left, edges.get(i, (left, right))[0], layout, prev_right)
        ran_on = lead_in
        if same and prev is not None and kind == "heading":
            same = abs(prev.size - line.size) < 0.3 and prev.bold == line.bold
        if same:
            groups[-1][1].append(line)
        else:
            groups.append((kind, [line]))
        prev = line
    blocks = []
    for kind, group in groups:
        text = _join([line.text for line in group], vocab)
        single = kind == "body" and len(group) == 1 and len(text) < 0.5 * layout.chars and heading_like(text)
        # a short single line: a heading or front matter, decided by _settle
        blocks.append(Block("heading?" if single else kind, text, page))
    if not blocks:
        return blocks, before, None
    # Across a page break, with no vertical gap to go by: the next line has no indent where paragraphs
    # have them, or, where paragraphs touch, the last line was full and nothing else says it ended.
    # Where the layout shows a new paragraph (an indent, or the last line ended where the next word
    # would have fitted), the page break ended one, even mid-sentence ("© 2024 The Centre"). Where
    # paragraphs are set apart by space alone, a page opening mid-sentence goes on (``_goes_on``).
    continued: bool | None = None
    if before is not None and blocks[0].kind == "body":
        starts = starts_paragraph(before[0], groups[0][1][0], before[1], edges.get(0, (left, right))[0], layout, before[2])
        evidence = layout.indents or (not layout.gaps and layout.full is not None)
        continued = False if starts else (True if evidence or _goes_on(before[0].text, blocks[0].text) else None)
    tail = (groups[-1][1][-1], *edges.get(len(lines) - 1, (left, right))) if blocks[-1].kind == "body" else None
    return blocks, tail, continued


def _goes_on(last: str, text: str) -> bool:
    """Return whether a page's first body text goes on with the sentence the page before stopped in: that
    page's ``last`` line ends no sentence (a closing quotation mark alone ends none: "… the bargaining
    process”"), and the text opens with a lower-case word ("in the contractual world …")."""
    return not closes_sentence(last) and text[:1].islower()


def _set_in(lines: list[Line], left: float, body_size: float,
            right: float | None = None) -> dict[int, tuple[float, float | None]]:
    """Return the lines set in from the page's left edge as a block (a block quotation, a passage set to
    a narrower measure), by index, with that block's left and right edges: two or more lines in a row
    of one size that start at one place more than half an em in, and the line over them indented
    from that place. Against the page's edges each of their lines was a first-line indent, and a
    paragraph of its own where it ended a sentence. Lines set smaller than the body are such a block
    under a plain line of the body (a block quotation set smaller); under a bold title or a figure
    (a report's box, its "Source:" lines) they are left as they are."""
    out: dict[int, tuple[float, float | None]] = {}
    i = 0
    while i < len(lines):
        j = i
        while (j < len(lines) and abs(lines[j].x - lines[i].x) <= 1 and abs(lines[j].size - lines[i].size) < 0.3
               and lines[i].size < body_size + 0.3 and not lines[j].bold):
            j += 1
        quoted = abs(lines[i].size - body_size) < 0.3 or (i > 0 and abs(lines[i - 1].size - body_size) < 0.3
                                                           and not lines[i - 1].bold)
        if j - i >= 2 and quoted and lines[i].x - left > 0.5 * body_size and not _indents(lines, i, j, left, right, body_size):
            ends = [line.end for line in lines[i:j] if line.end is not None]
            block = (lines[i].x, max(ends) + 0.1 * body_size if ends else None)
            # the line over it, indented from it (up to three ems), opens its first paragraph
            opener = i > 0 and i - 1 not in out and 0 < lines[i - 1].x - lines[i].x <= 3 * body_size
            out.update(dict.fromkeys(range(i - opener, j), block))
        i = max(j, i + 1)
    return out


def _indents(lines: list[Line], i: int, j: int, left: float, right: float | None, body_size: float) -> bool:
    """True when lines i..j-1, set in at one place, are first lines of paragraphs rather than a passage set in:
    the last of them runs to the page's right edge and the text goes on at the page's left edge (one-line
    paragraphs opening with a first-line indent, an address or a list of credits, the last one wrapping)."""
    end = lines[j - 1].end if j < len(lines) else None
    if right is None or end is None:
        return False
    return end >= right - body_size and abs(lines[j].x - left) <= 1


def _lead_in(line: Line, after: Line | None, layout: Layout) -> bool:
    """Return whether a bold line of the body's size runs on into the plain line under it, so that it
    opens that paragraph and is no heading: a lead-in set bold ("• Promoting Resilient Operations for
    Transformative, Efficient, and Cost-" over "saving Transportation (PROTECT) funds can be used …"; the
    paragraph began mid-sentence). The next line follows at the body's line pitch and goes on with the
    sentence: a lower-case word, or this line ends with a hyphen."""
    body = layout.body_size
    return (line.bold and after is not None and not after.bold and abs(line.size - body) < 0.3
            and abs(after.size - body) < 0.3 and line.y - after.y < layout.pitch + 0.25 * body
            and (after.text[:1].islower() or line.text.endswith("-")))


def _join(lines: list[str], vocab: set[str]) -> str:
    """Join lines: undo end-of-line hyphenation, glue URLs cut across lines without a space."""
    text = ""
    for line in (line.strip() for line in lines):
        if not text or not line:
            text = text or line
            continue
        # Both searches look at a copy of the text's last word only (what they match has no space), so
        # that the text is searched and grown in place, not copied: at each line, a page of 20,000 lines
        # took minutes.
        last_word = text[text.rfind(" ") + 1:]
        url = _URL_TAIL.search(last_word)
        open_url = url is not None and not (">" in url.group(2) if url.group(1) else re.search(r"[,;)\]»>]$", url.group(2)))
        open_url = open_url and line[:1] not in "[<(“\"«"  # the next line opens something else: "[https://perma.cc/…]"
        if url is not None and open_url and url.group(2).endswith(".") and not url.group(1):
            open_url = line[:1].islower() or line[:1].isdigit() or line[:1] == "/"
        hyphen = _HYPHEN_END.search(last_word)
        if open_url:
            # A URL keeps a hyphen at the line's end (it breaks at its own hyphens) unless the two
            # halves make a word of the document and the hyphenated pair is none ("inter-" "nal_market").
            if hyphen and line[:1].islower() and text.endswith("-"):
                right = re.match(r"[^\W_]+", line)
                joined = (hyphen.group(1).rsplit("_", 1)[-1] + (right.group(0) if right else "")).lower()
                if joined in vocab and f"{hyphen.group(1)}-{right.group(0) if right else ''}".lower() not in vocab:
                    text = text[:-1]
            text += line
        elif text.endswith("\u00ad"):
            text = text[:-1] + line
        elif hyphen and line[:1].isalnum():
            text = text + line if not line[0].islower() or _real_hyphen(hyphen.group(1), line, vocab) else text[:-1] + line
        else:
            text += " " + line
    return text.replace("\u00ad", "")


def _words(pages: list[list[Line]]) -> set[str]:
    """Return the document's words as it prints them whole (lower case; compounds with their hyphens):
    the halves of a word broken at a line's end ("ex-" and "ceptions") are no words of it, but a
    compound's part ("notice-and-" "comment") is. It also holds, written "+making", the right halves of
    the closed compounds of two of its words that it prints ("rule" + "making" in "rulemaking")."""
    words: set[str] = set()
    for page in pages:
        broken = False  # the line before ended in a hyphen
        for line in page:
            found = re.findall(r"\w+(?:-\w+)*", line.text)
            ends = bool(found) and bool(_HYPHEN_END.search(line.text.rstrip()))
            halves = {0} if broken else set()
            halves |= {len(found) - 1} if ends else set()
            words.update(w.lower() for k, w in enumerate(found) if k not in halves or "-" in w)
            broken = ends
    closed = {f"+{word[k:]}" for word in words if len(word) >= 7 and "-" not in word
              for k in range(3, len(word) - 3) if word[:k] in words}
    return words | closed


def _real_hyphen(left: str, line: str, vocab: set[str]) -> bool:
    """Whether "left-" + "right…" at a line end is a compound's hyphen rather than hyphenation, by the
    document's own words: the compound is printed whole elsewhere and the joined word is not; or the
    joined word is not a word of it, and the left half is a prefix ("non-", "self-"), or both halves are
    words of it and the right one a participle that it does not close compounds with ("rights-" "oriented";
    "ex-" "ceptions" is hyphenation)."""
    match = re.match(r"\w+", line)
    right = match.group(0) if match else ""
    joined, compound = (left + right).lower(), f"{left}-{right}".lower()
    if compound in vocab and joined not in vocab:
        return True
    if joined in vocab:
        return False
    # a compound modifier ending in a participle, of two words of the document: "rights-" "oriented",
    # "packet-" "related" (where "every-" "where" and "guide-" "lines" are hyphenation), unless the
    # document closes such compounds ("rulemaking": "decision-" "making" is "decisionmaking")
    modifier = (len(left) >= 3 and left.lower() in vocab and right.lower() in vocab and right.endswith(("ed", "ing"))
                and f"+{right.lower()}" not in vocab)
    return modifier or left.lower() in _COMPOUND_PREFIXES


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
        out[i] = replace(block, text=words[0])
        out[j] = replace(out[j], text=joined)
    return out


def _settle(blocks: list[Block]) -> list[Block]:
    """A heading is a section heading when a real paragraph follows it, else front/back matter."""
    out = []
    for i, block in enumerate(blocks):
        if block.kind not in ("heading", "heading?"):
            out.append(block)
            continue
        following = next((b for b in blocks[i + 1:] if b.kind not in ("note", "pagebreak")), None)
        after = next((b for b in blocks[i + 1:] if b.kind != "pagebreak"), None)
        if after is not None and after.kind == "note" and (following is None or _NOTES_TITLE.match(block.text)):
            continue  # "Notes" over endnotes: the notes are read as notes, the title is no passage
        real = following is not None and following.kind == "body" and len(following.text) > 80
        # an author line reads like a heading but is front matter: the names go into the text, not a section
        real = real and not _BYLINE.search(block.text)
        out.append(Block("heading" if real else "matter", block.text, block.page))
    return out
