"""PDF reader: a PDF file → blocks (headings, body text, footnotes, page breaks) for ``parse.assemble``.

The stages, one module each:
``chars`` (PDFium's glyphs → text runs with their ink; what ligature glyphs without Unicode stand
for is decided once per document, from its words), ``lines`` (runs → lines in reading
order, columns cut, note markers written ``⟦n⟧``), ``roman`` (i, ii, iii … endnote numbers → numbers,
where a list so labelled is cited by raised numbers), ``layout`` (the measures that say where a
paragraph ends), ``blocks`` (lines → headings, paragraphs and notes; furniture dropped), ``folios``
(each page's printed number: the PDF's page labels, else the folios the furniture prints).
Encrypted, corrupt and image-only files raise ``DocumentError``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

from qa.errors import DocumentError
from qa.pdf import chars, folios
from qa.pdf.blocks import page_blocks
from qa.pdf.layout import Line
from qa.pdf.lines import page_lines, regions
from qa.records import Block


def read_blocks(path: Path) -> list[Block]:
    """Return the blocks of a PDF: headings, body runs, footnotes and page breaks, with pages."""
    pages: list[list[Line]] = []
    numbers: list[int] = []
    columns: list[int] = []
    read = list(chars.pages(Path(path)))
    readings = str.maketrans(chars.ligature_readings([run.text for runs, _ in read for run in runs]))
    for number, (printed, spans) in enumerate(read, start=1):
        runs = [replace(run, text=text) for run in printed  # ligatures without Unicode; a glyph of none, a space
                if (text := run.text.translate(readings)).strip() or not run.text.strip()]
        for region_runs, region_spans, column in regions(runs, spans):  # a column reads like a page
            pages.append(page_lines(region_runs, region_spans))
            numbers.append(number)
            columns.append(column)
    sizes: Counter[float] = Counter()
    for line in (line for page in pages for line in page):
        sizes[line.size] += len(line.text)
    if not sizes:
        raise DocumentError(f"{path}: the PDF has no text layer (scanned images?); run OCR on it first, e.g. ocrmypdf")
    blocks = page_blocks(pages, body_size(sizes), numbers, columns)
    labels = folios.printed_pages(folios.pdf_labels(Path(path)), folios.folio_candidates(pages, numbers), len(read),
                                  folios.stated_first_pages(pages), folios.roman_candidates(pages, numbers))
    return blocks + [Block("pagelabel", label, number) for number, label in sorted(labels.items())]


def body_size(sizes: Counter[float]) -> float:
    """Return the body text's size: the largest size that sets a good share of the text. Notes can
    outweigh the body (law reviews), but they are smaller; headings are larger but short."""
    total = sum(sizes.values())
    near = {s: sum(n for t, n in sizes.items() if abs(t - s) < 0.3) for s in sizes}
    common = [s for s, n in near.items() if n >= 0.2 * total]
    return max(common) if common else max(near, key=near.__getitem__)
