"""Printed page numbers: a PDF's page labels where it has them, else the folios printed on its pages (each
article's own run where a PDF holds several).

A law review prints its volume's pages ("998 CALIFORNIA LAW REVIEW [Vol. 113:997", "2025] LOVING'S
BORDERS 1081", a lone "1079" at the foot of an article's first page); ``blocks`` drops these lines as
furniture, so the folios are read here, from the same lines, before that. ``read_blocks`` hands the
result to ``parse.assemble`` as "pagelabel" blocks; a passage then carries its printed pages next to
its PDF positions.
"""

from __future__ import annotations

import re
from pathlib import Path

from qa.pdf.layout import Line
from qa.pdf.roman import numeral, value

_EDGE = 2  # lines at a page's top and foot where a folio is looked for
# a front matter's folio: alone ("iii", "XII"), or at a running head's outer end in lower case ("viii CONTENTS",
# "CONTENTS ix"; "PART II" is a heading)
_ROMAN_ALONE = re.compile(r"^(?:page\s+)?([ivxlc]{1,9}|[IVXLC]{1,9})$|^([ivxlc]{1,9})\s+[A-Z]|[A-Za-z]\s+([ivxlc]{1,9})$")
_ALONE = re.compile(r"^(?:page\s+)?(\d{1,5})(?:\s*(?:/|of)\s*\d+)?$|^[-–—]\s*(\d{1,5})\s*[-–—]$", re.IGNORECASE)
_HEAD_START = re.compile(r"^(\d{1,5})\s+[A-Z“\"]")  # "998 CALIFORNIA LAW REVIEW [Vol. 113:997"
_HEAD_END = re.compile(r"[A-Za-z”\"’.\]]\s+(\d{1,5})$")  # "2025] LOVING’S BORDERS 1081"
_LEADERS = re.compile(r"\.{4,}|(?:\.\s){3,}")  # dot leaders of a table of contents
_FIRST_PAGE = re.compile(r"\bVol\.\s*\d{1,4}\s*:\s*(\d{1,5})\b", re.IGNORECASE)  # "[Vol. 101:1233": the article's first page


def pdf_labels(path: Path) -> list[str]:
    """Return the PDF's page labels, one per page ("" where it has none), or [] when it cannot say."""
    import pypdfium2 as pdfium  # imported here: only PDFs need it

    try:
        document = pdfium.PdfDocument(str(path))
    except pdfium.PdfiumError:
        return []
    try:
        return [document.get_page_label(i) or "" for i in range(len(document))]
    except pdfium.PdfiumError:
        return []
    finally:
        document.close()


def folio_candidates(pages: list[list[Line]], numbers: list[int]) -> dict[int, set[int]]:
    """Return, for each PDF page (``numbers`` gives each list of lines its page), the numbers printed alone
    or at either end of a line among its first and last lines: where a folio is printed."""
    found: dict[int, set[int]] = {}
    for lines, number in zip(pages, numbers, strict=False):
        for line in lines[:_EDGE] + lines[-_EDGE:]:
            text = line.text.strip()
            if _LEADERS.search(text):
                continue  # a contents line ("Author Information ........ 20") gives a page elsewhere
            for m in (_ALONE.match(text), _HEAD_START.match(text), _HEAD_END.search(text)):
                if m:
                    found.setdefault(number, set()).add(int(next(g for g in m.groups() if g)))
    return found


def roman_candidates(pages: list[list[Line]], numbers: list[int]) -> dict[int, set[int]]:
    """Return, for each PDF page, the values of the roman numerals printed alone or at a running head's end among
    its first and last lines (a thesis's or a book's front matter: "iii", "viii CONTENTS"), as
    ``folio_candidates`` does for figures."""
    found: dict[int, set[int]] = {}
    for lines, number in zip(pages, numbers, strict=False):
        for line in lines[:_EDGE] + lines[-_EDGE:]:
            match = _ROMAN_ALONE.search(line.text.strip())
            n = value(next(g for g in match.groups() if g).lower()) if match else None
            if n is not None:
                found.setdefault(number, set()).add(n)
    return found


def stated_first_pages(pages: list[list[Line]]) -> set[int]:
    """Return the first pages a running head states ("[Vol. 101:1233"): an article's first page prints
    no folio in some journals."""
    return {int(m.group(1)) for lines in pages for line in lines[:_EDGE] + lines[-_EDGE:]
            if (m := _FIRST_PAGE.search(line.text))}


def printed_pages(labels: list[str], folios: dict[int, set[int]], count: int, first_pages: set[int] | None = None,
                  romans: dict[int, set[int]] | None = None) -> dict[int, str]:
    """Return each PDF page's printed page number: its page label where the PDF has labels other than
    its positions (1, 2, 3 …); else the folio of each run of pages that prints one offset from the PDF
    positions (``folio_runs``: several articles in one PDF are several runs), the pages before a run taking
    its offset back to a first page the running heads state; else nothing (the PDF position stands). Front
    matter numbered in roman numerals (``romans``, ``roman_candidates``) is read the same way, in runs of its
    own, the pages the figures' runs leave."""
    if any(label and label != str(i) for i, label in enumerate(labels, start=1)):
        return {i: label for i, label in enumerate(labels, start=1) if label}
    out: dict[int, str] = {}
    before = 0  # the last page of the run before: a stated first page is looked for after it
    for offset, first, last in folio_runs(folios):
        stated = [page for page in range(before + 1, first) if page + offset in (first_pages or set())]
        out |= {page: str(page + offset) for page in range(min(stated, default=first), last + 1) if page + offset >= 1}
        before = last
    front = {page: numeral(page + offset) for offset, first, last in folio_runs(romans or {})
             for page in range(first, last + 1) if 1 <= page + offset <= 399}
    return front | out


def folio_runs(folios: dict[int, set[int]]) -> list[tuple[int, int, int]]:
    """Return the runs of pages whose folios stand one offset from their PDF positions, as (offset, first page,
    last page) in page order: an offset printed on at least two pages and on half the pages with a folio
    between its first and last (a page without one there, a blank or a figure, takes it too). Where two
    offsets' runs overlap, the one printed on more pages holds; a run from a repeated number that is no
    folio (a year at a line's end) then gives way."""
    pages_of: dict[int, list[int]] = {}
    for page, seen in folios.items():
        for folio in seen:
            pages_of.setdefault(folio - page, []).append(page)
    runs: list[tuple[int, int, int]] = []
    for offset, pages in sorted(pages_of.items(), key=lambda item: (-len(item[1]), item[0])):
        first, last = min(pages), max(pages)
        with_folio = [page for page in folios if first <= page <= last]
        if len(pages) < 2 or len(pages) < 0.5 * len(with_folio):
            continue
        if all(last < other_first or first > other_last for _, other_first, other_last in runs):
            runs.append((offset, first, last))
    return sorted(runs, key=lambda run: run[1])
