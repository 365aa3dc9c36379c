"""pdf/folios: printed page numbers from page labels or folios, and the passages that carry them."""

from __future__ import annotations

from pathlib import Path

import pdfmaker
import pytest

from qa.output import printed_pages
from qa.parse import parse_file
from qa.pdf import read_blocks
from qa.pdf.folios import printed_pages as decide

BODY = ["Notice and comment has grown well beyond the text of the statute, creating a procedure",
        "that is often cumbersome for agencies and for the public that it was meant to serve.",
        "Rather than enabling agencies to engage with the public as intended, the procedure lets",
        "well-resourced actors play an outsized role in the rulemaking process while draining."]


def page(head: str | None, foot: str | None, words: str) -> list[pdfmaker.Run]:
    runs = [(20, 20, 9, head)] if head else []
    runs += [(20, 40 + 6 * i, 11, f"{words} {line}") for i, line in enumerate(BODY)]
    return runs + ([(100, 280, 9, foot)] if foot else [])


def journal(path: Path) -> Path:
    """A law review's article as printed: its first page (171) with the folio at the foot, then running
    heads with the folio at their outer end, a cover page before it that prints none."""
    return pdfmaker.hand_pdf(path, [
        page(None, None, "Repository cover."),
        page(None, "171", "First page."),
        page("172 THE SUPREME COURT REVIEW [Vol. 2024:171", None, "Second page."),
        page("2024] REVIEWING THE COURT 173", None, "Third page."),
        page("174 THE SUPREME COURT REVIEW [Vol. 2024:171", None, "Fourth page."),
    ])


def test_a_passage_carries_the_page_printed_on_its_sheet_and_its_pdf_position(tmp_path: Path) -> None:
    doc = parse_file(journal(tmp_path / "article.pdf"))
    by_page = {p.page: p for p in doc.paragraphs}
    assert (by_page[2].page_label, by_page[4].page_label, by_page[5].page_label) == ("171", "173", "174")
    assert by_page[1].page_label is None  # the cover prints no page number
    assert "172 THE SUPREME" not in " ".join(p.text for p in doc.paragraphs)  # the head is still furniture
    crossing = next(p for p in doc.paragraphs if p.page != p.page_end)
    assert crossing.page_label_end == str(crossing.page_end + 169)


def test_the_pdfs_page_labels_come_first(tmp_path: Path) -> None:
    pypdf = pytest.importorskip("pypdf")
    made = journal(tmp_path / "plain.pdf")
    writer = pypdf.PdfWriter(clone_from=str(made))
    writer.set_page_label(0, 0, "/r", start=1)  # the cover: i
    writer.set_page_label(1, 4, "/D", start=501)
    writer.write(str(tmp_path / "labelled.pdf"))
    by_page = {p.page: p for p in parse_file(tmp_path / "labelled.pdf").paragraphs}
    assert (by_page[1].page_label, by_page[2].page_label, by_page[5].page_label) == ("i", "501", "504")


def test_without_labels_or_folios_the_pdf_position_stands(tmp_path: Path) -> None:
    made = pdfmaker.hand_pdf(tmp_path / "bare.pdf", [page(None, None, "One."), page(None, None, "Two.")])
    assert {p.page_label for p in parse_file(made).paragraphs} == {None}


def test_folios_are_trusted_only_where_one_offset_holds() -> None:
    assert decide(["1", "2", "3"], {1: {171}, 2: {172}}, 3) == {1: "171", 2: "172"}  # labels = positions: no news
    assert decide(["", "", ""], {1: {5}, 2: {12}, 3: {3}}, 3) == {}  # no offset printed twice
    assert decide([], {2: {11, 2024}, 3: {12, 2024}, 4: {13, 6}}, 5) == {2: "11", 3: "12", 4: "13"}
    assert decide([], {2: {1234}, 3: {1235}}, 3, first_pages={1233}) == {1: "1233", 2: "1234", 3: "1235"}
    assert decide(["", "ii", "1"], {}, 3) == {2: "ii", 3: "1"}


def test_a_pdf_of_several_articles_prints_each_article_s_own_pages(tmp_path: Path) -> None:
    made = pdfmaker.hand_pdf(tmp_path / "issue.pdf", [
        page("Contents", "Reviewing the Court ........................................ 171", "Contents."),
        page(None, "171", "First article."),
        page("172 THE SUPREME COURT REVIEW [Vol. 2024:171", None, "Its second page."),
        page("2024] REVIEWING THE COURT 173", None, "Its third page."),
        page(None, "245", "Second article."),
        page("246 THE SUPREME COURT REVIEW [Vol. 2024:245", None, "Its second page."),
        page("2024] A SECOND LOOK 247", None, "Its third page."),
    ])
    paragraphs = parse_file(made).paragraphs
    labels = {p.page: p.page_label for p in paragraphs} | {p.page_end: p.page_label_end for p in paragraphs}
    assert labels == {1: None, 2: "171", 3: "172", 4: "173", 5: "245", 6: "246", 7: "247"}
    # a contents line's page is no folio; the decision itself, from the folios read
    assert decide([], {2: {101}, 3: {102}, 5: {501}, 6: {502}, 7: {503}}, 7) == {
        2: "101", 3: "102", 5: "501", 6: "502", 7: "503"}
    assert decide([], {1: {19}, 2: {20}, 3: {1}, 4: {2}, 5: {3}, 6: {4}, 7: {5}}, 7, first_pages={3}) == {
        i: str(i - 2) for i in range(3, 8)} | {1: "19", 2: "20"}  # two pages agreeing are a run of their own


def test_front_matter_numbered_in_roman_numerals_prints_its_own_pages(tmp_path: Path) -> None:
    """A thesis without page labels: a title page, front matter with "ii", "iii" at the foot and "iv" in a running head, then the
    chapters from "1" (the roman folios were read as no page at all)."""
    made = pdfmaker.hand_pdf(tmp_path / "thesis.pdf", [
        page(None, None, "Title page."), page(None, "ii", "Abstract."), page(None, "iii", "Contents."),
        page("iv PREFACE", None, "Preface."), page(None, "1", "Introduction."), page(None, "2", "Method."),
    ])
    labels = {b.page: b.text for b in read_blocks(made) if b.kind == "pagelabel"}
    assert labels == {2: "ii", 3: "iii", 4: "iv", 5: "1", 6: "2"}  # the title page prints none
    # the decision: a roman numeral on one page alone, or out of step with its page, is no run
    assert decide([], {}, 4, romans={2: {2}, 3: {3}, 4: {9}}) == {2: "ii", 3: "iii"}
    assert decide([], {}, 4, romans={3: {5}}) == {}
    assert decide([], {3: {1}, 4: {2}}, 4, romans={1: {1}, 2: {2}}) == {1: "i", 2: "ii", 3: "1", 4: "2"}


@pytest.mark.parametrize("first, last, shown", [
    ("171", None, "p. 171"), ("171", "171", "p. 171"), ("171", "172", "pp. 171–72"), ("1495", "1497", "pp. 1495–97"),
    ("998", "1001", "pp. 998–1001"), ("1499", "1500", "pp. 1499–1500"), ("xii", "xiv", "pp. xii–xiv"), ("8", "9", "pp. 8–9"),
])
def test_printed_pages_are_shown_as_a_citation_writes_them(first: str, last: str | None, shown: str) -> None:
    assert printed_pages(first, last, 3, 4) == shown


def test_without_a_printed_page_the_position_is_shown() -> None:
    assert printed_pages(None, None, 3, 4) == "pp. 3–4"


DEV = Path(__file__).resolve().parents[2] / "shared" / "realpdf" / "dev" / "pdfs"


@pytest.mark.parametrize("name, offset, unprinted", [
    ("california_law_review_loving-borders.pdf", 1078, set()),  # folios in running heads and one at a foot
    ("texas_law_review_battered-woman-syndrome.pdf", 1232, set()),  # no folio on p. 1: the heads state 1233
    ("michigan_law_review_spending_clause_standing.pdf", 1517, {1}),  # a repository's cover page first
])
def test_law_reviews_print_their_volumes_pages(name: str, offset: int, unprinted: set[int]) -> None:
    if not (DEV / name).is_file():
        pytest.skip(f"{DEV} is not beside the repository (it comes with the project's shared folder)")
    for p in parse_file(DEV / name).paragraphs:
        assert p.page_label == (None if p.page in unprinted else str(p.page + offset)), p.id
        assert p.page_label_end == (None if p.page_end in unprinted else str(p.page_end + offset)), p.id
