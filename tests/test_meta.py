"""meta: a document's title, authors and year — from the file's metadata where its front pages bear it out,
else the byline, else the first heading; never at the cost of the document."""

from __future__ import annotations

import datetime
import zipfile
from pathlib import Path

import pytest
from fpdf import FPDF
from test_docx import make_docx, para, run

from qa import meta
from qa.parse import parse_file


def _pdf(path: Path, lines: list[str], title: str, author: str, year: int = 2024) -> Path:
    pdf = FPDF()
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_creation_date(datetime.datetime(year, 3, 15, tzinfo=datetime.UTC))
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for line in lines:
        pdf.multi_cell(0, 6, line)
        pdf.ln(4)
    pdf.output(str(path))
    return path


BODY = ("The harbour of Vellmar was opened in 1911 by the river authority, and its trade has grown ever since "
        "with grain and timber for the whole valley, as the annual reports of 2024 show.")


def test_pdf_metadata_borne_out_by_the_first_page_is_used(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "h.pdf", ["Harbours of the Northern Valley", "Jane Roe", BODY],
                "Harbours of the Northern Valley", "Jane Roe")
    document = parse_file(path)
    assert (document.title, document.authors, document.year) == ("Harbours of the Northern Valley", ("Jane Roe",), 2024)


def test_a_producers_junk_title_and_a_typesetters_name_are_not_used(tmp_path: Path) -> None:
    path = _pdf(tmp_path / "h.pdf", ["Harbours of the Northern Valley", BODY],
                "Microsoft Word - harbours_final3.docx", "Meghan Typesetter", year=1999)
    document = parse_file(path)
    assert document.title == "Harbours of the Northern Valley"  # the first lines, not the file's junk
    assert document.authors == () and document.year is None  # neither is printed in the document


@pytest.mark.parametrize("front, title, authors", [
    (["Video Analytics and Fourth Amendment Vision — Andrew Guthrie Ferguson*", "What does it say?"],
     "Video Analytics and Fourth Amendment Vision", ("Andrew Guthrie Ferguson",)),
    (["COLUMBIA LAW REVIEW — VOL. 125 JUNE 2025 NO. 5 — FOREWORD — LAW OF PROTEST — Shaunak M. Puri *"],
     "LAW OF PROTEST", ("Shaunak M. Puri",)),
    (["Shared Rivers — Anna de Vries and B. K. Olsen†"], "Shared Rivers", ("Anna de Vries", "B. K. Olsen")),
    (["The court said so.* It did not."], None, ()),  # a sentence with a star is no byline
])
def test_byline(front: list[str], title: str | None, authors: tuple[str, ...]) -> None:
    assert meta.byline(front) == (title, authors)


def test_word_core_properties(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "w.docx", para(run("Shared Rivers of Europe")) + para(run("By Anna de Vries. " + BODY)))
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("docProps/core.xml",
                   '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
                   'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/">'
                   "<dc:title>Shared Rivers of Europe</dc:title><dc:creator>Anna de Vries; Somebody Else</dc:creator>"
                   "<dcterms:created>2024-01-02T00:00:00Z</dcterms:created></cp:coreProperties>")
    assert meta.describe(path, None, [p.text for p in parse_file(path).paragraphs]) == \
        ("Shared Rivers of Europe", ("Anna de Vries",), 2024)


def test_web_page_citation_tags(tmp_path: Path) -> None:
    path = tmp_path / "a.html"
    path.write_text('<html><head><title>Site | Rivers</title><meta name="citation_title" content="Shared &amp; Rivers">'
                    '<meta name="citation_author" content="Anna de Vries"><meta content="2023/05/01" '
                    'name="citation_publication_date"></head><body><h1>Shared &amp; Rivers</h1>'
                    f"<p>Anna de Vries</p><p>{BODY} Published 2023.</p></body></html>", encoding="utf-8")
    assert meta.describe(path, "x", ["Shared & Rivers", "Anna de Vries", BODY + " Published 2023."]) == \
        ("Shared & Rivers", ("Anna de Vries",), 2023)


def test_damaged_metadata_costs_nothing(tmp_path: Path) -> None:
    path = tmp_path / "broken.epub"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    assert meta.describe(path, "Heading", ["Heading"]) == ("Heading", (), None)


def test_year_and_title_rules() -> None:
    assert [meta.year_of(d) for d in ("D:20240315120000Z", "2023-05-01", "May 1999", "no date", None)] == \
        [2024, 2023, 1999, None, None]
    here = Path("report_final.pdf")
    assert [meta.plausible_title(t, here) for t in ("Microsoft Word - x.docx", "untitled", "report final", "abc",
                                                      "report_final.pdf", "Harbours of the North")] == \
        [False, False, False, False, False, True]
