"""PDF reading: the corpus typeset as PDF by three producers parses like the text file.

The PDFs are made here (tests/pdfmaker.py): fpdf2 with our own pagination, LibreOffice
from flat ODF with real footnotes, and pdfLaTeX from a LaTeX article with real footnotes
and URLs (both marked slow; skipped only when the program is absent outside CI). Small
hand-placed PDFs pin down single rules, and bad PDFs (encrypted, corrupt, truncated,
image-only) must raise DocumentError.
"""

from __future__ import annotations

import json
import os
import random
import re
import subprocess
from difflib import SequenceMatcher
from pathlib import Path

import pdfmaker
import pypdf
import pytest
from conftest import CORPUS, FakeEmbedder, use_fake_model
from fpdf import FPDF

from qa import cli
from qa.errors import DocumentError
from qa.parse import assemble, parse_file
from qa.pdf import read_blocks, roman
from qa.records import Document

BACK_REFERENCES = {10: 5, 14: 2, 16: 15, 17: 15, 19: 9, 20: 11, 21: 6}  # ibid./op. cit. → full reference (issue 4)


def _norm(text: str) -> str:
    """Markdown emphasis marks are typeset away; CJK glyphs are missing from the fonts (see pdfmaker)."""
    text = re.sub(r"[\u3000-\u9fff?]", "", text.replace("*", ""))
    return re.sub(r"\s+", " ", text).strip()


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, _norm(a), _norm(b), autojunk=False).ratio()


def compare(text_doc: Document, pdf_doc: Document) -> dict:
    """Match every text paragraph to its most similar PDF paragraph; return the figures."""
    matches = []
    for p in text_doc.paragraphs:
        shortlist = sorted(pdf_doc.paragraphs, key=lambda q: -SequenceMatcher(None, p.text, q.text).quick_ratio())[:3]
        best = max(shortlist, key=lambda q: _ratio(p.text, q.text))
        matches.append((p, best, _ratio(p.text, best.text)))
    notes = {n.marker: n for n in pdf_doc.footnotes}
    return {
        "matches": matches,
        "body": [m for m in matches if m[0].section is not None],
        "notes": notes,
        "note_ratios": {n.marker: _ratio(n.text, notes[n.marker].text) for n in text_doc.footnotes
                        if n.marker in notes},
    }


def check_same_as_text(text_doc: Document, pdf_doc: Document) -> dict:
    """The assertions both producers must pass; returns the comparison figures."""
    figures = compare(text_doc, pdf_doc)
    body = figures["body"]
    # Same paragraphs: every sectioned paragraph found, in order, nearly verbatim.
    assert min(r for _, _, r in body) >= 0.95, [(p.id, round(r, 3)) for p, _, r in body if r < 0.95]
    numbers = [q.number for _, q, _ in body]
    assert numbers == sorted(set(numbers)), "PDF paragraphs out of order or merged"
    assert [q.section for _, q, _ in body] == [p.section for p, _, _ in body]
    # Front matter: the title is read, the body count matches exactly.
    assert pdf_doc.title == text_doc.title
    assert sum(1 for q in pdf_doc.paragraphs if q.section) == len(body)
    # The same 28 footnotes, same texts and URLs, resolved to the same earlier notes.
    assert sorted(figures["notes"]) == list(range(1, 29))
    assert min(figures["note_ratios"].values()) >= 0.95, figures["note_ratios"]
    for note in text_doc.footnotes:
        got = figures["notes"][note.marker]
        assert got.urls == note.urls, note.marker
        assert got.resolved_marker == note.resolved_marker and got.unresolved == note.unresolved, note.marker
    # Each marker attached to the same paragraph, and no footnote text left in paragraphs.
    for p, q, _ in figures["matches"]:
        assert q.footnotes == p.footnotes, (p.id, q.id)
    for note in text_doc.footnotes:
        probe = _norm(note.text)[:60]
        assert not any(probe in q.text for q in pdf_doc.paragraphs), note.marker
    assert not any("http" in q.text for q in pdf_doc.paragraphs)
    # Running header and page numbers are gone; paragraphs cut by a page are whole again.
    assert not any("Policy Brief" in q.text for q in pdf_doc.paragraphs)
    split = [q for _, q, _ in body if q.page < q.page_end]
    assert len(split) >= 3
    assert all(q.page_end <= q.page + 2 for q in split)
    return figures


@pytest.fixture(scope="module")
def text_doc() -> Document:
    return parse_file(CORPUS)


@pytest.fixture(scope="module")
def fpdf_file(tmp_path_factory: pytest.TempPathFactory, text_doc: Document) -> Path:
    return pdfmaker.fpdf_pdf(text_doc, tmp_path_factory.mktemp("fpdf") / "corpus.pdf")


def test_fpdf_corpus_parses_like_the_text(fpdf_file: Path, text_doc: Document) -> None:
    raw = "\n".join(page.extract_text() for page in pypdf.PdfReader(fpdf_file).pages)
    url = next(u for n in text_doc.footnotes for u in n.urls if len(u) > 120)
    assert url not in raw  # the generator really wrapped the long URL across lines
    figures = check_same_as_text(text_doc, parse_file(fpdf_file))
    assert url in figures["notes"][7].urls


LIBREOFFICE_LAYOUTS = {
    "justified-indented": {},
    # Word-like: sans, 11/10 pt, space after paragraphs, note numbers set against the note text.
    "spaced-sans": {"font": "Liberation Sans", "body_pt": 11, "note_pt": 10, "align": "left", "indent": "0cm",
                        "space": "0.28cm", "line_height": "108%", "note_hang": "0cm"},
    # A5 pages: paragraphs over two or three pages, a footnote continued on the next page.
    "a5": {"page_width": "14.8cm", "page_height": "21cm", "body_pt": 10, "note_pt": 8},
    # Ragged right, no indent, no space between paragraphs: only line widths tell where one ends.
    "flush-left": {"align": "left", "indent": "0cm", "space": "0cm"},
    # Justified sans 10/9 pt: a page cut falls at the end of a sentence inside a paragraph.
    "dejavu-sans": {"font": "DejaVu Sans", "body_pt": 10, "note_pt": 9},
    # Word's defaults: superscript note numbers in the text and in the footnote area, space after.
    "word-super": {"font": "Liberation Sans", "body_pt": 11, "note_pt": 10, "note_super": True, "align": "left",
                       "indent": "0cm", "space": "0.28cm", "line_height": "108%", "note_hang": "0cm"},
    # US Letter, 10.5/8.5 pt, hyphenation on, superscript note numbers.
    "letter-hyphenated": {"page_width": "21.59cm", "page_height": "27.94cm", "body_pt": 10.5, "note_pt": 8.5,
                              "hyphenate": "true", "note_super": True},
    # Endnotes: every note on the last pages, after the body, none at the foot of a page.
    "endnotes": {"note_class": "endnote"},
    # The same numbered i, ii, iii … (LibreOffice's and Word's default for endnotes): raised roman
    # numbers in the text, plain labels in the list, some set against the note ("viiiShared").
    "endnotes-roman": {"note_class": "endnote", "endnote_format": "i"},
    # Two columns, 10/8 pt: each column read in turn, footnotes at the foot of each column.
    "two-columns": {"columns": 2, "column_gap": "0.8cm", "margin": "1.8cm", "body_pt": 10, "note_pt": 8},
}


def require(tool: str | None, name: str, packages: str) -> None:
    """Skip when a PDF producer is missing on a developer's machine; fail under CI, which installs it."""
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is missing on CI; .ci/run installs {packages}")
        pytest.skip(f"{name} is not installed")


@pytest.mark.slow
@pytest.mark.parametrize("layout", LIBREOFFICE_LAYOUTS)
def test_libreoffice_corpus_parses_like_the_text(tmp_path: Path, text_doc: Document, layout: str) -> None:
    require(pdfmaker.soffice(), "LibreOffice (soffice)", "libreoffice-writer-nogui")
    pdf = pdfmaker.soffice_pdf(text_doc, tmp_path, **LIBREOFFICE_LAYOUTS[layout])
    raw = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "Kyodo" in raw and "<text:note" not in raw  # LibreOffice typeset the footnotes itself
    check_same_as_text(text_doc, parse_file(pdf))



CHROMIUM_LAYOUTS = {"notes-9pt": {"notes_pt": 9}, "notes-11pt": {"notes_pt": 11},
                    "untitled-web": {"notes_pt": 11, "titled": False, "web": True},
                    "word-html": {"titled": False, "on_line": True}}


@pytest.mark.slow
@pytest.mark.parametrize("layout", CHROMIUM_LAYOUTS)
def test_chromium_web_page_with_endnotes_parses_like_the_text(tmp_path: Path, text_doc: Document, layout: str) -> None:
    """A web page printed by Chromium: <sup> numbers, the notes as a right-aligned numbered list
    under "Notes" at the end, smaller than the text or the same size; or, as a blog serves Word's notes,
    under no title, cited "[7]", each with a link back "↑" (that list was body text); or, as Word saves
    its notes as HTML, cited "[7]" on the line and listed as paragraphs "[7]. …" (was body text too)."""
    require(pdfmaker.chromium(), "Chromium", "chromium")
    pdf = pdfmaker.chromium_pdf(text_doc, tmp_path, **CHROMIUM_LAYOUTS[layout])
    raw = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "Kyodo" in raw and "<sup>" not in raw
    doc = parse_file(pdf)
    check_same_as_text(text_doc, doc)
    assert not any(p.text == "Notes" for p in doc.paragraphs)  # the list's title is no passage


TEX_LAYOUTS = pdfmaker.TEX_LAYOUTS  # the article class as it comes; A5 with space between paragraphs


@pytest.mark.slow
@pytest.mark.parametrize("layout", TEX_LAYOUTS)
def test_pdflatex_corpus_parses_like_the_text(tmp_path: Path, text_doc: Document, layout: str) -> None:
    """TeX's PDFs: ligatures, words hyphenated at line ends, no drawn spaces (word gaps are kerning
    offsets, shrunk in tight lines), raised note numbers, \\url cut after "https:" or a slash."""
    require(pdfmaker.pdflatex(), "pdflatex", "texlive-latex-base and lmodern")
    pdf = pdfmaker.latex_pdf(text_doc, tmp_path, **TEX_LAYOUTS[layout])
    raw = "\n".join(page.extract_text() for page in pypdf.PdfReader(pdf).pages)
    assert "Kyodo" in raw and "\\footnote" not in raw  # TeX typeset the footnotes itself
    assert re.search(r"\w-\n[a-z]", raw)  # and hyphenated words at line ends
    url = next(u for n in text_doc.footnotes for u in n.urls if len(u) > 120)
    assert url not in raw  # a long URL was cut across lines
    figures = check_same_as_text(text_doc, parse_file(pdf))
    assert url in figures["notes"][7].urls

def _hand_pdf(path: Path, lines: list[tuple[float, float, float, str]], bold_at: set[int] = frozenset()) -> Path:
    """A one-page PDF of (x mm, baseline mm, size pt, text) runs placed by hand."""
    return pdfmaker.hand_pdf(path, [lines], frozenset((0, i) for i in bold_at))


def test_markers_hyphens_and_unicode_superscripts(tmp_path: Path) -> None:
    head = "Harbour trade in the valley"
    lines = [
        (20, 30, 14, head),
        (20, 40, 11, "The river authority opened the harbour in 1911 and gave it wide"),
        (20, 45, 11, "powers."), (33.4, 43.8, 7, "3"), (35.5, 45, 11, " It handles grain for the EU-"),
        (20, 50, 11, "Japan trade and the whole secur-"),
        (20, 55, 11, "ity of the valley, with 2 cranes and 400 staff in the year 1953.¹"),
        (20, 280, 8, "³ Annual report, 1912, on <https://example.org/reports/annual-"),
        (20, 284, 8, "report-1911.pdf>."),
        (20, 288, 8, "¹ Doe, op. cit."),
    ]
    blocks = read_blocks(_hand_pdf(tmp_path / "hand.pdf", lines, bold_at={0}))
    assert [b.kind for b in blocks] == ["heading", "body", "note", "note"]
    body = blocks[1].text
    assert "powers.⟦3⟧ It handles" in body
    assert "EU-Japan" in body and "security of" in body and "secur- ity" not in body
    assert "with 2 cranes" in body and body.endswith("1953.⟦1⟧")
    assert blocks[2].marker == 3 and "<https://example.org/reports/annual-report-1911.pdf>." in blocks[2].text
    assert blocks[3].marker == 1 and blocks[3].text == "Doe, op. cit."



def test_line_end_hyphens_are_decided_with_the_documents_words(tmp_path: Path) -> None:
    """A hyphen at a line's end is kept where both halves are words the document prints whole and the
    joined word is not ("rights-oriented"; it came out "rightsoriented"), and dropped where a half is no
    word ("ex-ceptions": "ex" passed for a prefix, and the half "ceptions" for a word of the document)."""
    lines = [(20, 30 + 5 * i, 11, text) for i, text in enumerate([
        "The courts read the rights of tenants and the duties of owners, oriented by the statutes of the",
        "state and by a rights-",
        "oriented reading of the leases, with few ex-",
        "ceptions in the older cases; the harbour board kept its records of the leases for the long",
        "years of the trade and oriented its rules to the rights of the river towns and of the quays."])]
    text = " ".join(p.text for p in parse_file(_hand_pdf(tmp_path / "hyphens.pdf", lines)).paragraphs)
    assert "a rights-oriented reading" in text and "few exceptions in" in text


def test_a_bold_lead_in_running_on_into_its_paragraph_is_no_heading(tmp_path: Path) -> None:
    """A report sets a list item's lead-in bold, and it runs on into the plain text under it: it was read
    as a heading, and the paragraph began mid-sentence ("saving Transportation funds …")."""
    lines = [(20, 30, 14, "Bridge Programs"),
             (20, 40, 11, "Other programs can fund bridges, at some cost, and with some saving of time:"),
             (20, 45, 11, "Promoting Resilient Operations for Transformative, Efficient, and Cost-"),
             (20, 50, 11, "saving Transportation funds can be used for bridge-related resilience spending,"),
             (20, 55, 11, "at an annual average of 1.46 billion dollars in the years of the act."),
             (20, 65, 11, "Culvert Grants"),
             (20, 70, 11, "Culverts under roads are funded apart, by a program of grants that the office runs.")]
    document = parse_file(_hand_pdf(tmp_path / "lead.pdf", lines, bold_at={0, 2, 5}))
    assert [p.section for p in document.paragraphs] == ["Bridge Programs", "Culvert Grants"]
    assert ("time: Promoting Resilient Operations for Transformative, Efficient, and Cost-saving Transportation funds "
            "can be used") in document.paragraphs[0].text


def test_a_passage_set_in_reads_by_its_own_edge(tmp_path: Path) -> None:
    """A passage set to a narrower measure (a law review's opening page; a block quotation): against the
    page's edge each of its lines was a first-line indent, so it broke at every sentence that ended at a
    line's end ("… resulting Supreme Court opinion." | "The Court took …")."""
    full = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    block = [(32, 50, 11, "This Essay explores the implications of the decision in the case. Part"),
             (28, 55, 11, "I summarizes the litigation and the resulting Supreme Court opinion."),
             (28, 60, 11, "The Court took an unnecessarily maximalist approach in the"),
             (28, 65, 11, "case, undermining the value of the right to marry for all."),
             (28, 70, 11, "Part II argues that the Court did so through its moves.")]
    after = [(25, 80, 11, "The harbours were rebuilt after the war, and the towns kept them for a")]
    after += [(20, 85 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    paragraphs = [p.text for p in parse_file(_hand_pdf(tmp_path / "setin.pdf", full + block + after)).paragraphs]
    assert paragraphs[1].startswith("This Essay explores the implications of the decision in the case. Part I summarizes "
                                    "the litigation and the resulting Supreme Court opinion. The Court took")


def test_one_line_paragraphs_each_indented_are_no_passage_set_in(tmp_path: Path) -> None:
    """An address and credits as one-line paragraphs, each opening with a first-line indent, the last wrapping
    back to the page's edge: they start at one place like a passage set in, but are paragraphs of their own
    (LibreOffice's print of the shipped paper's last page ran them into one after 6121445)."""
    full = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    credits = [(25, 50, 11, "Harbour Society of Vellmar for the Study of Rivers, Rue du Port 20, Vellmar, VE 1000"),
               (25, 55, 11, "For more information, please visit the society."),
               (25, 60, 11, "Cover design: the Harbour Society's own printers, who set the whole book by hand, and"),
               (20, 65, 11, "printed in Vellmar.")]
    after = [(25, 75, 11, "The harbours were rebuilt after the war, and the towns kept them for a")]
    after += [(20, 80 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    paragraphs = [p.text for p in parse_file(_hand_pdf(tmp_path / "credits.pdf", full + credits + after)).paragraphs]
    assert "Harbour Society of Vellmar for the Study of Rivers, Rue du Port 20, Vellmar, VE 1000" in paragraphs
    assert "For more information, please visit the society." in paragraphs
    assert any(p.startswith("Cover design:") and p.endswith("printed in Vellmar.") for p in paragraphs)


def test_line_end_hyphens_in_compounds_the_document_prints(tmp_path: Path) -> None:
    """A compound broken at its own hyphen keeps it ("notice-and-" "comment": its part "notice-and" is no
    broken half of a word), and a participle the document closes compounds with is joined ("rulemaking"
    printed, so "decision-" "making" is "decisionmaking"); both came out wrong after 'rights-oriented'."""
    lines = [(20, 30 + 5 * i, 11, text) for i, text in enumerate([
        "Agencies follow notice-and-comment rulemaking, and the courts review each rule and decision as the",
        "statute sets it out for the agencies and for the public that reads the notice-and-",
        "comment record. The agencies' decision-",
        "making then rests on that record, as the courts have held in every case on notice-",
        "and-comment procedures since the act was passed and the agencies began to make rules."])]
    text = " ".join(p.text for p in parse_file(_hand_pdf(tmp_path / "compounds.pdf", lines)).paragraphs)
    assert "public that reads the notice-and-comment record. The agencies' decisionmaking then" in text
    assert "every case on notice-and-comment procedures" in text


def test_a_list_items_two_lines_under_its_label_read_as_one(tmp_path: Path) -> None:
    """A list item's lines set under its text, not its label (a hanging indent), are one paragraph also where
    there are only two of them and the last starts with a capital ("… the use of" | "KYC)."): each was a
    first-line indent against the page's edge, and the item was cut in two."""
    full = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    items = [(20, 50, 11, "1. Interoperability: credentials are shown to every verifier in the same way, and"),
             (25, 55, 11, "companies let us open accounts without checking our data (one exception is the"),
             (25, 60, 11, "KYC rules of the banks, which check them once)."),
             (20, 65, 11, "2. Privacy: we must sometimes show all our data to the police who stop us.")]
    after = [(20, 75 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    paragraphs = [p.text for p in parse_file(_hand_pdf(tmp_path / "items.pdf", full + items + after)).paragraphs]
    assert any(p.endswith("(one exception is the KYC rules of the banks, which check them once).") for p in paragraphs)


def test_an_author_line_is_front_matter_with_the_title_not_a_section(tmp_path: Path) -> None:
    body = "The river authority opened the harbour in 1911 and gave it wide powers over the trade in grain."
    lines = [(20, 30, 14, "Harbour Trade in the Valley"), (20, 40, 12, "Jane Roe* & John Doe**"),
             (20, 50, 11, body), (20, 60, 14, "Introduction"), (20, 70, 11, body)]
    document = assemble("hand.pdf", read_blocks(_hand_pdf(tmp_path / "hand.pdf", lines, bold_at={0, 1, 3})))
    assert document.title == "Harbour Trade in the Valley"
    first, second, third = document.paragraphs
    assert first.text == "Harbour Trade in the Valley — Jane Roe* & John Doe**" and first.section is None
    assert second.section is None and third.section == "Introduction"


def test_url_cut_after_its_scheme_is_rejoined(tmp_path: Path) -> None:
    """LaTeX's \\url may break a URL right after "https:"; the two halves join without a space."""
    lines = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)] + [
        (20, 45, 11, "The harbour report is online.¹"),
        (20, 280, 8, "¹ Annual report, on <https:"), (20, 284, 8, "//example.org/reports/1911.pdf>.")]
    blocks = read_blocks(_hand_pdf(tmp_path / "url.pdf", lines))
    assert blocks[-1].kind == "note" and blocks[-1].text == "Annual report, on <https://example.org/reports/1911.pdf>."


def test_accents_drawn_apart_are_composed(tmp_path: Path) -> None:
    """pdfTeX with its default OT1 fonts draws "ö" as "¨" over "o" and "ç" as "c" over "¸"."""
    lines = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)] + [
        (20, 45, 11, "As Marie S¨oderberg and Lluc¸ Vidal L´opez wrote, the harbour grew.")]
    blocks = read_blocks(_hand_pdf(tmp_path / "accents.pdf", lines))
    assert "Marie Söderberg and Lluç Vidal López wrote" in blocks[-1].text

@pytest.mark.parametrize("font", ["DejaVu", "helvetica"])
def test_flush_paragraphs_end_where_the_next_word_would_have_fitted(tmp_path: Path, font: str) -> None:
    """Ragged right, no indent, no gap: each paragraph's last line is full but for the next one's first word.
    Helvetica is one of the 14 standard fonts, which PDFs may use without any widths in the file."""
    pdf = FPDF(format="A4", unit="mm")
    if font == "DejaVu":
        pdf.add_font("DejaVu", "", str(pdfmaker.FONT))
    pdf.add_page()
    pdf.set_font(font, "", 11)
    column, words = 150.0, " ".join(FILLER).replace(",", "").split()
    paragraphs, lines, n = [], [], 0

    def wrap(text: str) -> list[str]:
        out = [""]
        for word in text.split():
            trial = f"{out[-1]} {word}".strip()
            out[-1:] = [trial] if pdf.get_string_width(trial) <= column else [out[-1], word]
        return out

    for _ in range(3):
        text = "It"
        room = column - pdf.get_string_width(" It")
        while n < 10_000:  # grow the paragraph until its last line is full but for room for "It" after it
            text, n = f"{text} {words[n % len(words)]}", n + 1
            wrapped = wrap(text + ".")
            if len(wrapped) >= 4 and room - 4 < pdf.get_string_width(wrapped[-1]) < room - 0.5:
                break
        paragraphs.append(text + ".")
        lines += wrapped
    for i, line in enumerate(lines):
        pdf.text(20, 20 + 5 * i, line)
    blocks = read_blocks(_hand_pdf_output(pdf, tmp_path / "flush.pdf"))
    assert [b.text for b in blocks] == paragraphs


def _hand_pdf_output(pdf: FPDF, path: Path) -> Path:
    pdf.output(str(path))
    return path


def test_two_columns_are_read_one_after_the_other(tmp_path: Path) -> None:
    """Lines side by side in two columns are not one line: the left column is read, then the right
    one, a sentence cut by the column break is rejoined, and a title across both comes first."""
    left = ["The harbour of Vellmar was opened in 1911 by", "the river authority, which paid for the quays",
            "and the first two cranes out of its own funds.", "",
            "After the great flood of 1953 the docks were", "rebuilt with money from the regional council,",
            "and the fish market moved to the new quay on", "the northern bank, where it still stands and"]
    right = ["opens every morning at five for the trawlers", "that come in from the estuary before dawn.", "",
             "Grain and timber made up most of the trade in", "the years before the war, when barges came",
             "down from the upper valley every week or so.", "",
             "Today the harbour handles mostly leisure boats."]
    lines = [(20, 20, 16, "Harbour Trade in the Vellmar Valley: a Short History of the River Port")]
    lines += [(20, 35 + 5 * i, 9, text) for i, text in enumerate(left) if text]
    lines += [(110, 35.5 + 5 * i, 9, text) for i, text in enumerate(right) if text]
    blocks = read_blocks(_hand_pdf(tmp_path / "columns.pdf", lines, bold_at={0}))
    text = " ".join(b.text for b in blocks if b.kind in ("body", "heading", "matter"))
    assert text.startswith("Harbour Trade in the Vellmar Valley")
    assert "opened in 1911 by the river authority, which paid for the quays and the first two cranes" in text
    assert "where it still stands and opens every morning at five for the trawlers" in text  # across the break
    assert text.index("own funds.") < text.index("great flood") < text.index("Grain and timber") < text.index("leisure")
    assert not any("by opens" in b.text or "funds. down" in b.text for b in blocks)


def _column_page(overflow: int | None = None, title: bool = False) -> tuple[list, list]:
    """Runs and inked spans of a two-column page (20 lines a side), in PDF units."""
    from qa.pdf.chars import Run, Span

    runs, spans = [], []
    if title:  # a title across the page, and an author line with raised affiliation numbers
        runs += [Run(150, 760, 17, True, "A Title Across The Page"), Run(200, 740, 10, False, "Alice Smith"),
                 Run(255, 744, 7, False, "1"), Run(270, 740, 10, False, ", Bob Jones"), Run(380, 744, 7, False, "2")]
        spans += [Span(760, 150, None, 470, 2.5, False), Span(740, 200, None, 255, 2.5, False),
                  Span(744, 255, None, 259, 2.5, False), Span(740, 270, None, 380, 2.5, False),
                  Span(744, 380, None, 384, 2.5, False)]
    for k in range(20):
        y = 700 - 12 * k
        runs += [Run(72, y, 10, False, f"L{k}"), Run(320, y, 10, False, f"R{k}")]
        spans += [Span(y, 72, None, 330 if k == overflow else 300, 2.5, False), Span(y, 320, None, 548, 2.5, False)]
    return runs, spans


def _read(runs: list, spans: list) -> list[list[str]]:
    from qa.pdf.lines import page_lines, regions

    return [[line.text for line in page_lines(r, s)] for r, s, _ in regions(runs, spans)]


def test_a_line_overflowing_into_the_gutter_stays_in_its_column() -> None:
    """A long URL that runs into the gutter is not a line across the page."""
    left, right = _read(*_column_page(overflow=10))
    assert left == [f"L{k}" for k in range(20)] and right == [f"R{k}" for k in range(20)]


def test_raised_numbers_stay_on_a_line_across_the_columns() -> None:
    regions = _read(*_column_page(title=True))
    assert regions[0][:3] == ["A Title Across The Page", "Alice Smith⟦1⟧, Bob Jones⟦2⟧", "L0"]
    assert len(regions) == 2 and regions[1][0] == "R0"


def test_two_columns_over_notes_set_across_the_page() -> None:
    """LaTeX's multicol: two columns 10 pt apart (one em) over notes set across the whole page, which
    outweigh the text, and a page number under them. The columns are read in turn and the notes
    after the last one (they were read as lines across the page, "L0R0")."""
    from qa.pdf.chars import Run, Span

    runs, spans = [], []
    for k in range(20):
        y = 700 - 12 * k
        runs += [Run(72, y, 10, False, f"L{k}"), Run(310, y, 10, False, f"R{k}")]
        spans += [Span(y, 72, None, 300, 2.5, False), Span(y, 310, None, 538, 2.5, False)]
    for k in range(30):
        y = 440 - 9.5 * k
        runs.append(Run(72, y, 8, False, f"{k + 1} See note {k + 1}." if k % 3 == 0 else f"N{k}"))
        spans.append(Span(y, 72, None, 538 if k % 3 != 2 else 300, 2, False))
    runs.append(Run(300, 60, 10, False, "3"))
    spans.append(Span(60, 300, None, 305, 2.5, False))
    left, right = _read(runs, spans)
    assert left == [f"L{k}" for k in range(20)]
    assert right[:20] == [f"R{k}" for k in range(20)] and right[20] == "1 See note 1." and right[-1] == "3"


def test_a_column_set_ragged_is_still_a_column() -> None:
    """A reference list set ragged-right beside justified prose (the last page of an ACM paper; also prose
    beside an algorithm): most of its lines stop short of the column's edge but fill most of its width.
    The page was read as one column, each left line glued to the right one ("techniquecoverage")."""
    from qa.pdf.chars import Run, Span
    from qa.pdf.lines import regions

    runs, spans = [], []
    for k in range(20):
        y = 700 - 12 * k
        end = 548 if k % 4 == 0 else 528 - (k * 7) % 40  # ragged: 5 lines in 20 reach the edge, all fill 3/4
        runs += [Run(72, y, 10, False, f"Prose line {k}"), Run(320, y, 10, False, f"[{k}] A. Author. A title {k}.")]
        spans += [Span(y, 72, None, 300, 2.5, False), Span(y, 320, None, end, 2.5, False)]
    read = regions(runs, spans)
    assert [(len(r), column) for r, _, column in read] == [(20, 0), (20, 1)]
    assert read[1][0][0].text.startswith("[0]")


def test_a_glossary_or_table_is_not_taken_for_two_columns() -> None:
    """Terms at the left and definitions at a tab stop leave a gap like a gutter, but ragged cells."""
    from qa.pdf.chars import Run, Span
    from qa.pdf.lines import regions

    runs, spans, y = [], [], 700.0
    for k in range(10):
        runs += [Run(72, y, 10, True, f"Term{k}"), Run(200, y, 10, False, f"definition {k} first line")]
        spans += [Span(y, 72, None, 112 + 5 * k, 2.5, False), Span(y, 200, None, 520, 2.5, False)]
        y -= 12
        runs.append(Run(200, y, 10, False, f"definition {k} second line."))
        spans.append(Span(y, 200, None, 400, 2.5, False))
        y -= 12
    assert len(regions(runs, spans)) == 1


def test_left_edges_are_counted_per_printed_page_parity_and_column() -> None:
    from qa.pdf.layout import Line, left_edges

    def page(x: float, n: int = 10) -> list[Line]:
        return [Line(x, 700 - 12 * i, 10.0, False, "text of a line", None) for i in range(n)]

    # mirrored margins (odd pages 90, even 72); printed page 2 is read as two regions
    pages = [page(90), page(72, 5), page(72, 5), page(90), page(72), page(90), page(72)]
    kinds = [(n % 2, 0) for n in (1, 2, 2, 3, 4, 5, 6)]
    assert left_edges(pages, 10.0, kinds) == [90.0, 72.0, 72.0, 90.0, 72.0, 90.0, 72.0]


def test_text_after_a_list_of_endnotes_over_the_page_is_not_a_note() -> None:
    """A "Notes" list that ends at the foot of a page: flush text on the next page is body again."""
    from qa.pdf.blocks import page_blocks
    from qa.pdf.layout import Line

    def line(y: float, text: str, size: float = 10.0, bold: bool = False) -> Line:
        m = re.match(r"^(\d+)\.\s+(.*)", text)
        return Line(72.0, y, size, bold, text, (int(m.group(1)), m.group(2), False) if m else None)

    first = [line(700, "This is a body line of ordinary prose that goes on for a while and ends here."),
             line(688, "Notes", 14, True), line(670, "1. Endnote one, a source."),
             line(658, "2. Endnote two, another source.")]
    second = [line(700, "Appendix text that is a normal paragraph of the document body and is long enough."),
              line(688, "It goes on for another line and then ends with a full stop here for sure.")]
    blocks = page_blocks([first, second], 10.0)
    notes = {b.marker: b.text for b in blocks if b.kind == "note"}
    assert notes == {1: "Endnote one, a source.", 2: "Endnote two, another source."}
    assert any(b.kind == "body" and b.text.startswith("Appendix text") for b in blocks)
    assert not any(b.text == "Notes" for b in blocks)


def test_a_closing_list_of_notes_under_no_title_is_read_as_notes() -> None:
    """Notes a web page prints as a numbered list after its text, under no "Notes" title, in the body's
    size, over the page (a note's second paragraph set apart from the next note), with a title in a note
    set bold and links back ("↑"): notes (they were body text; the list stopped at the set-apart paragraph).
    A short numbered list closing a document whose footnotes run far higher is no list of notes."""
    from qa.pdf.blocks import page_blocks
    from qa.pdf.endnotes import endnote_start
    from qa.pdf.layout import Line

    def line(y: float, text: str, bold: bool = False, x: float = 72.0) -> Line:
        m = re.match(r"^(\d+)\.\s+(.*)", text)
        return Line(x, y, 10.0, bold, text, (int(m.group(1)), m.group(2), False) if m else None)

    body = [line(700 - 12 * i, f"Harbour trade grew in the valley towns, as the record shows.⟦{n}⟧ It went on.")
            for i, n in enumerate(range(1, 5))]
    first = [*body, line(640, "1. . Hull harbour report, 1912. ↑"), line(628, "2. . Flood inquiry, 1954, on the"),
             line(616, "Flooded Quays of the North", bold=True, x=84), line(604, "and their rebuilding.", x=84)]
    # over the page, note 2's second paragraph, set well apart from the next note
    second = [line(700, "See also the inquiry's maps. ↑", x=84), line(677, "3. . Market board minutes, 1961. ↑"),
              line(665, "4. . Id. ↑")]
    notes = {b.marker: b.text for b in page_blocks([first, second], 10.0) if b.kind == "note"}
    assert notes == {1: "Hull harbour report, 1912.", 3: "Market board minutes, 1961.", 4: "Id.",
                     2: "Flood inquiry, 1954, on the Flooded Quays of the North and their rebuilding. "
                        "See also the inquiry's maps."}
    cited = [line(700, "A footnoted page cites its note.⟦40⟧ The text goes on to the end of its line."),
             line(640, "1. The first step of the method, done by hand."), line(628, "2. The second step."),
             line(616, "3. The third step, checked against the first.")]
    assert not any(b.kind == "note" and b.marker in (1, 2, 3) for b in page_blocks([cited], 10.0))
    # a thesis's footnotes, numbered from 1 in each chapter: no closing list (the next chapter cites them again)
    def chapter(raised: bool) -> list[Line]:
        notes = [Line(72.0, 100 - 10 * n, 8.0, False, f"{f'⟦{n}⟧' if raised else f'{n}. '}A source, {n}.",
                      (n, f"A source, {n}.", raised)) for n in (1, 2, 3)]
        return [*body[:3], *notes]
    assert endnote_start([chapter(False), chapter(True)]) is None


def test_a_closing_list_of_bracketed_notes_cited_on_the_line_is_read_as_notes() -> None:
    """Word's notes saved as a web page and printed: the text cites "[1]" on the line, not raised; the notes
    are paragraphs "[1]. …" indented a half inch, wrapped flush with the text's edge, over the page, one of
    them printed with another number ("9." for 3). Notes, each cited where the text cites it (they were
    body text). A list "[1] …" under "References" that the text cites so is a bibliography, no notes."""
    from qa.pdf.blocks import page_blocks
    from qa.pdf.layout import Line

    def line(y: float, text: str, x: float = 72.0) -> Line:  # "9. Market": a lead, as lines reads it; "[1]." none
        m = re.match(r"^(\d+)\.\s+(.*)", text)
        return Line(x, y, 10.0, False, text, (int(m.group(1)), m.group(2), False) if m else None)

    body = [line(700 - 12 * i, f"Harbour trade grew in the valley towns, as the record shows.[{n}] It went on.")
            for i, n in enumerate(range(1, 6))]
    first = [*body, line(630, "[1]. Hull harbour report, 1912.", 108), line(610, "[2]. Flood inquiry, 1954, on the", 108),
             line(598, "flooded quays."), line(578, "9. Market board minutes, 1961, and", 108)]
    second = [line(700, "its maps."), line(680, "[4]. Leith harbour report, 1921, and", 108),
              line(668, "the inquiry."), line(648, "[5]. Id.", 108)]
    blocks = page_blocks([first, second], 10.0)
    notes = {b.marker: b.text for b in blocks if b.kind == "note"}
    assert notes == {1: "Hull harbour report, 1912.", 4: "Leith harbour report, 1921, and the inquiry.", 5: "Id.",
                     2: "Flood inquiry, 1954, on the flooded quays. 9. Market board minutes, 1961, and its maps."}
    assert "⟦1⟧" in blocks[0].text and "[1]" not in blocks[0].text
    references = [*body, line(640, "7. References", 108),
                  *[line(620 - 12 * n, f"[{n}] Author {n}, A book, 2001.") for n in range(1, 6)]]
    assert not any(b.kind == "note" for b in page_blocks([references], 10.0))


def test_a_closing_list_cited_by_digits_against_words_is_read_as_notes() -> None:
    """A web page whose raised numbers a print lost (LibreOffice on Harvard's page): the text cites "owner.1",
    "title.’”2", "Co.,4" on the line, the notes follow under "Footnotes", each "1. ^ …" with "Return to citation ^"
    under it. Notes, each cited where the text cites it; the text's other digits ("H2O", "5.1", "in 1990")
    stay text."""
    from qa.pdf.blocks import page_blocks
    from qa.pdf.layout import Line

    def line(y: float, text: str, x: float = 72.0) -> Line:
        m = re.match(r"^(\d+)\.\s+(.*)", text)
        return Line(x, y, 10.0, False, text, (int(m.group(1)), m.group(2), False) if m else None)

    body = [line(700, "The government must compensate the owner.1 One exception, from 1990, is old."),
            line(688, "It asserts a “pre-existing limitation upon the title.’”2 Water, H2O, is in section 5.1 too."),
            line(676, "The concept is simple: one cannot lose what was never his.3 So held Ruckelshaus v. Monsanto"),
            line(664, "Co.,4 the end.")]
    notes = [line(640, "Footnotes", 90), line(620, "1. ^ U.S. Const. amend. V."), line(608, "Return to citation ^", 84),
             line(596, "2. ^ Cedar Point Nursery v. Hassid, 141 S. Ct. 2063."), line(584, "Return to citation ^", 84),
             line(572, "3. ^ Id."), line(560, "Return to citation ^", 84),
             line(548, "4. ^ 467 U.S. 986 (1984)."), line(536, "Return to citation ^", 84)]
    blocks = page_blocks([body + notes], 10.0)
    assert {b.marker: b.text for b in blocks if b.kind == "note"} == {
        1: "U.S. Const. amend. V.", 2: "Cedar Point Nursery v. Hassid, 141 S. Ct. 2063.", 3: "Id.", 4: "467 U.S. 986 (1984)."}
    text = " ".join(b.text for b in blocks if b.kind != "note")
    assert "owner.⟦1⟧" in text and "title.’”⟦2⟧" in text and "his.⟦3⟧" in text and "Co.,⟦4⟧" in text
    assert "1990" in text and "H2O" in text and "5.1" in text


FILLER = ["Harbours along the river were built in the nineteenth century by the towns themselves,",
          "and most of them were rebuilt after the floods with money from the regional council,",
          "while the smaller landings upstream were left to the fishermen and their cooperatives."]


def test_a_note_number_raised_onto_a_baseline_of_its_own_opens_its_note(tmp_path: Path) -> None:
    """ACM's column notes raise a 6 pt number 3.8 pt over the 7 pt note, further than half a size: the
    number was a line of its own, and the note was read into the note before it, after its URL
    ("…sql_form.htm6See McMinn")."""
    lines = [*[(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)],
             (20, 45, 11, "The schema comes from the conformance suite.^5 Its functions are listed elsewhere.^6"),
             (20, 262, 7, "^5http://www.example.org/suite/sql_form.htm"),
             (20.4, 270.7, 6, "6"), (21.7, 272, 7, "See Smith et al. for a full list of the functions for the"),
             (20, 276, 7, "constraints that we study in this paper.")]
    document = parse_file(_hand_pdf(tmp_path / "raised.pdf", lines))
    assert [(n.marker, n.text) for n in document.footnotes] == [
        (5, "http://www.example.org/suite/sql_form.htm"),
        (6, "See Smith et al. for a full list of the functions for the constraints that we study in this paper.")]


def test_a_chapters_running_head_with_the_page_number_is_furniture(tmp_path: Path) -> None:
    """A thesis heads each page with its chapter and the page number ("CHAPTER 1. INTRODUCTION 2"), on too
    few pages to count as the document's header: the head was read as a section heading, and cut every
    paragraph running over its pages."""
    chapters = ["INTRODUCTION"] * 3 + ["METHODS"] * 3 + ["RESULTS"] * 4
    pages = []
    for k, chapter in enumerate(chapters, start=1):
        c = 1 + (k > 3) + (k > 6)
        head = [(20, 15, 9, f"CHAPTER {c}. {chapter} {k}")] if k > 1 else []
        town = ["Arles", "Bonn", "Como", "Delft", "Evora", "Fano", "Gent", "Hull", "Ivrea", "Jena"][k - 1]
        body = [(20, 30 + 5 * i, 11, f"In {town}, {FILLER[i % 3].lower()}") for i in range(9)]
        tail = [(20, 75, 11, f"The page goes on in {town}, and the harbour boards of the river towns and") if k % 2 else
                (20, 75, 11, f"The harbours of {town} are well known to every one of the travellers.")]
        first = [(20, 25, 11, f"their cooperatives kept the quays of {town}, as the reports show.")] if k % 2 == 0 else []
        pages.append(head + first + body + tail)
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "heads.pdf", pages))
    assert not any(p.section and "CHAPTER" in p.section for p in document.paragraphs)
    assert "the river towns and their cooperatives kept the quays" in " ".join(p.text for p in document.paragraphs)
    assert not any("CHAPTER" in p.text for p in document.paragraphs)


def test_a_paragraph_cut_by_the_authors_note_at_the_page_foot_is_read_whole(tmp_path: Path) -> None:
    lines = [(20, 30 + 6 * i, 11, text) for i, text in enumerate(FILLER * 3)]
    page1 = [*lines, (20, 90, 11, "The first dock opened in 1911 and the second one"),
             (20, 270, 8, "* Professor of Law, Vellmar University. Thanks to the harbour archive."),
             (20, 274, 8, "** Student, Vellmar Law School.")]
    page2 = [(20, 30, 11, "in 1953,^1 when the trade in grain had doubled."), *lines[3:],
             (20, 280, 8, "1 Annual report of the harbour authority, 1953.")]
    document = assemble("hand.pdf", read_blocks(pdfmaker.hand_pdf(tmp_path / "hand.pdf", [page1, page2])))
    texts = [p.text for p in document.paragraphs]
    cut = next(p for p in document.paragraphs if "The first dock" in p.text)
    assert "the second one in 1953, when the trade" in cut.text and cut.footnotes == (1,)
    assert (cut.page, cut.page_end) == (1, 2)
    stars = [t for t in texts if t.startswith("*")]
    assert stars == ["* Professor of Law, Vellmar University. Thanks to the harbour archive.",
                     "** Student, Vellmar Law School."]
    assert texts.index(stars[0]) == texts.index(cut.text) + 1  # after the paragraph, not inside it


def test_footnote_continued_on_next_page_is_one_note(tmp_path: Path) -> None:
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("DejaVu", "", str(pdfmaker.FONT))
    pages = (
        ("A paragraph that cites a long note and ends here.", ["Smith, The long history of harbours, a study in",
                                                               "several volumes, volume one"]),
        ("The next page starts a new paragraph without notes.", ["two and three, London, 1990."]),
    )
    for number, (body, notes) in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("DejaVu", "", 11)
        for i, filler in enumerate(FILLER[number - 1:number + 1]):  # body text outweighs notes, as usual
            pdf.text(20, 20 + 5 * i, filler)
        pdf.text(20, 30, body)
        pdf.set_font("DejaVu", "", 8)
        for i, line in enumerate(notes):
            pdf.text(24, 270 + 4 * i, line)
        if number == 1:
            pdf.set_font("DejaVu", "", 11)
            end = 20 + pdf.get_string_width(body)
            pdf.set_font("DejaVu", "", 6)
            pdf.text(end, 28.7, "1")
            pdf.text(20, 268.8, "1")
    path = tmp_path / "two.pdf"
    pdf.output(str(path))
    document = parse_file(path)
    assert [n.marker for n in document.footnotes] == [1]
    assert document.footnotes[0].text == ("Smith, The long history of harbours, a study in several volumes, "
                                          "volume one two and three, London, 1990.")
    assert [p.footnotes for p in document.paragraphs] == [(1,), ()]
    assert document.paragraphs[0].text.startswith("Harbours along") and document.paragraphs[0].page == 1
    assert not any("London" in p.text or "Smith" in p.text for p in document.paragraphs)


@pytest.mark.parametrize("number_x, wrap_x, gap", [(24, 20, 7.0), (20, 25, 6.3)], ids=["tex", "libreoffice"])
def test_a_note_carried_over_the_page_goes_on_with_its_first_half(tmp_path: Path, number_x: float, wrap_x: float,
                                                                     gap: float) -> None:
    """TeX and LibreOffice set the note area only a little apart from the body (TeX: 19.8 pt under
    13.5 pt lines; LibreOffice: 17.1 pt under 12.8 pt lines, less than one and a half lines). The lines
    over the next page's first note, set where the notes' wrapped lines start (TeX: flush with the body;
    LibreOffice: hanging under the number), are the rest of the open note, not small body text."""
    def body(y: float, cite: int) -> list[pdfmaker.Run]:
        texts = [*FILLER, *FILLER[:2], FILLER[2][:-1] + f" at last.^{cite}"]
        return [(20, y + 4.76 * i, 11, text) for i, text in enumerate(texts)]

    foot = 30 + 4.76 * 5 + gap
    page1 = [*body(30, 1), (number_x, foot, 9, "1 See Smith, The long history of harbours, a study in several"),
             (wrap_x, foot + 3.9, 9, "volumes, volume one, chapters on the river towns and their")]
    page2 = [*body(30, 2), (wrap_x, foot, 9, "cooperatives, and volume two, on the floods, London, 1990."),
             (number_x, foot + 3.9, 9, "2 Id. at 641; see also Jones, The harbour towns and their"),
             (wrap_x, foot + 7.8, 9, "councils (1985).")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "carried.pdf", [page1, page2]))
    notes = {n.marker: n.text for n in document.footnotes}
    assert notes[1].endswith("chapters on the river towns and their cooperatives, and volume two, on the floods, "
                             "London, 1990."), notes
    assert notes[2] == "Id. at 641; see also Jones, The harbour towns and their councils (1985)."
    assert not any("London" in p.text for p in document.paragraphs)
    assert [p.footnotes for p in document.paragraphs] == [(1,), (2,)]


@pytest.mark.slow
@pytest.mark.parametrize("columns", [1, 2])
def test_pdflatex_note_split_over_pages_is_one_note(tmp_path: Path, columns: int) -> None:
    """A note too long for its page, which TeX splits and carries over, and a note of two paragraphs;
    in one column, and in two (multicol: columns 10 pt apart, the notes across the page under both)."""
    require(pdfmaker.pdflatex(), "pdflatex", "texlive-latex-base and lmodern")
    words = "court agency statute rule procedure public comment review doctrine history congress record".split()
    rng = random.Random(7)
    sentences = [" ".join(rng.choice(words) for _ in range(12)).capitalize() + "." for _ in range(60)]
    long_note = " ".join(f"See Case {i} v. State, {100 + i} U.S. {200 + 3 * i} ({1950 + i}) ({sentences[i][:-1].lower()})."
                         for i in range(30))
    two = (sentences[40], sentences[41])
    paragraphs = [" ".join(sentences[i:i + 8]) for i in range(0, 48, 8)]
    tex = paragraphs[:]
    tex[2] += f"\\footnote{{{long_note}}}"
    tex[3] += f"\\footnote{{{two[0]}\n\n{two[1]}}}"
    body = "\n\n".join(tex)
    if columns == 2:
        body = f"\\begin{{multicols}}{{2}}\n{body}\n\\end{{multicols}}"
    (tmp_path / "split.tex").write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
                                        "\\usepackage{multicol}\n\\begin{document}\n" + body + "\n\\end{document}\n")
    subprocess.run([pdfmaker.pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "split.tex"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)
    pdf = tmp_path / "split.pdf"
    pages = [page.extract_text() for page in pypdf.PdfReader(pdf).pages]
    start = next(i for i, page in enumerate(pages) if "See Case 0 v." in page)
    assert "See Case 29 v." not in pages[start]  # TeX did carry the note over
    document = parse_file(pdf)
    notes = {n.marker: n.text for n in document.footnotes}
    assert notes == {1: long_note, 2: " ".join(two)}
    assert [p.text for p in document.paragraphs] == paragraphs
    assert [p.footnotes for p in document.paragraphs] == [(), (), (1,), (2,), (), ()]


@pytest.mark.slow
def test_pdflatex_report_notes_numbered_per_chapter_beside_a_numbered_listing(tmp_path: Path) -> None:
    """A thesis (LaTeX report): notes 1, 2 in each chapter, and a listing whose line numbers are set small
    at the lines' start (read as raised numbers). Each chapter's notes are kept apart and cited by its
    own text; the line numbers are no markers (they had the text restart more often than the notes,
    and every chapter's note 1 became one)."""
    require(pdfmaker.pdflatex(), "pdflatex", "texlive-latex-base and lmodern")
    words = "harbour river town landing flood council quay timber boat fisher market tide".split()
    rng = random.Random(3)
    sentences = [" ".join(rng.choice(words) for _ in range(12)).capitalize() + "." for _ in range(40)]
    notes = [f"See Smith, chapter {c}, note {n}, on {sentences[30 + 2 * c + n][:-1].lower()}." for c in (1, 2) for n in (1, 2)]
    listing = "\\par\\noindent\\begin{tabular}{@{}l}" + "\\\\\n".join(
        f"{{\\tiny {i}}}\\ \\texttt{{{code}}}" for i, code in enumerate(
            ["int landings = 0;", "for (int i = 0; i < n; i++)", "landings += boats[i];", "return landings;"], 1)
    ) + "\\end{tabular}\\par\n"
    chapters = []
    for c in (1, 2):
        text = [" ".join(sentences[10 * c + 3 * k:10 * c + 3 * k + 3]) for k in range(3)]
        text[0] += f"\\footnote{{{notes[2 * c - 2]}}}"
        text[1] += f"\\footnote{{{notes[2 * c - 1]}}}"
        chapters.append(f"\\chapter{{Chapter {c}}}\n" + "\n\n".join(text) + ("\n\n" + listing if c == 1 else ""))
    (tmp_path / "thesis.tex").write_text("\\documentclass{report}\n\\usepackage[T1]{fontenc}\n\\usepackage{lmodern}\n"
                                         "\\begin{document}\n" + "\n".join(chapters) + "\n\\end{document}\n")
    subprocess.run([pdfmaker.pdflatex(), "-interaction=nonstopmode", "-halt-on-error", "thesis.tex"],
                   cwd=tmp_path, check=True, capture_output=True, timeout=120)
    document = parse_file(tmp_path / "thesis.pdf")
    assert {n.marker: n.text for n in document.footnotes} == dict(zip([1, 2, "2:1", "2:2"], notes, strict=True))
    cited = [p.footnotes for p in document.paragraphs if p.footnotes]
    assert cited == [(1,), (2,), ("2:1",), ("2:2",)]
    assert any("landings += boats[i];" in p.text for p in document.paragraphs)


def _image_only(path: Path) -> Path:
    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


def _encrypted(path: Path, source: Path) -> Path:
    writer = pypdf.PdfWriter(clone_from=source)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    with path.open("wb") as fh:
        writer.write(fh)
    return path


@pytest.mark.parametrize("kind, words", [
    ("encrypted", "password"), ("corrupt", "corrupt"), ("truncated", "truncated"), ("image", "OCR"),
])
def test_bad_pdfs_raise_document_error(tmp_path: Path, fpdf_file: Path, kind: str, words: str) -> None:
    path = tmp_path / f"{kind}.pdf"
    if kind == "encrypted":
        _encrypted(path, fpdf_file)
    elif kind == "corrupt":
        path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    elif kind == "truncated":
        path.write_bytes(fpdf_file.read_bytes()[: fpdf_file.stat().st_size // 2])
    else:
        _image_only(path)
    with pytest.raises(DocumentError) as info:
        parse_file(path)
    message = str(info.value)
    assert str(path) in message and words in message and "\n" not in message


def test_build_skips_a_bad_pdf_and_indexes_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf\n")
    (docs / "harbour.txt").write_text("Harbours\n\nThe harbour of Vellmar was opened in 1911 by the river "
                                      "authority and handles grain and timber for the valley.\n", encoding="utf-8")
    use_fake_model(monkeypatch, lambda name=None, **options: FakeEmbedder())
    code = cli.main(["build", "--docs", str(docs), "--index", str(tmp_path / "index")])
    out, err = capsys.readouterr()
    assert code == 0
    assert "indexed 1 document (" in out and "1 skipped" in out
    assert "broken.pdf" in err and "corrupt" in err
    manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
    assert list(manifest["documents"]) == ["harbour.txt"] and "broken.pdf" in manifest["skipped"]


def test_cli_parse_pdf_json_and_readable(fpdf_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["parse", str(fpdf_file), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["doc"] == "corpus.pdf"
    assert {"id", "section", "page", "page_end", "text", "footnotes"} <= set(data["paragraphs"][0])
    assert {"marker", "text", "urls", "resolved"} <= set(data["footnotes"][0])
    assert len(data["footnotes"]) == 28
    assert any(p["page"] < p["page_end"] for p in data["paragraphs"])
    resolved = {n["marker"]: n["resolved_marker"] for n in data["footnotes"]}
    assert {m: resolved[m] for m in BACK_REFERENCES} == BACK_REFERENCES
    assert cli.main(["parse", str(fpdf_file)]) == 0
    text = capsys.readouterr().out
    assert "28 footnotes" in text and re.search(r"pp?\. \d+[–-]\d+", text)


def test_numbers_too_long_for_a_note_marker_are_text(tmp_path: Path) -> None:
    # int() refuses over 4,300 digits: a run of 5,000 superscripts, or a literal "⟦777…⟧" opening a
    # line, was "could not be read (ValueError …)", or "internal error" with the budget off
    lines = [(20, 30, 11, "The harbour of Vellmar opened in 1911 and grew.⁴" + "²" * 5000 + " More text."),
             (20, 40, 11, "⟦" + "7" * 5000 + "⟧ a line that opens with a literal marker of many digits."),
             (20, 280, 8, "⁴ A note.")]
    document = parse_file(_hand_pdf(tmp_path / "digits.pdf", lines))
    assert [(n.marker, n.text) for n in document.footnotes] == [(4, "A note.")]
    assert document.paragraphs[0].text.startswith("The harbour of Vellmar opened in 1911 and grew.")


def test_note_numbers_that_start_again_on_each_page(tmp_path: Path) -> None:
    """Numbering per page (or per chapter) with plain numbers in the note area ("1 See …", as Word and
    LibreOffice set them): each page's note 1 is a note of its own, keyed by series, cited from its page."""
    def page(k: int, notes: int) -> list[pdfmaker.Run]:
        cites = "".join(f" and the {w} one^{n + 1}" for n, w in enumerate(["first", "second"][:notes]))
        runs = [(20, 30 + 6 * i, 11, text) for i, text in enumerate(FILLER[k % 3:] + FILLER[:k % 3])]
        runs.append((20, 48, 11, ["Hull", "Bristol and Leith", "Dover"][k - 1] + f" had its harbour built{cites}."))
        places = ["Hull", "Bristol", "Dover", "Leith"]
        runs += [(20, 262 + 4 * n, 8, f"{n + 1} {places[k + n - 1]} harbour report, {1950 + 10 * k + n}.")
                 for n in range(notes)]
        return runs

    document = parse_file(pdfmaker.hand_pdf(tmp_path / "perpage.pdf", [page(1, 1), page(2, 1), page(3, 2)]))
    notes = {n.marker: n.text for n in document.footnotes}
    assert notes == {1: "Hull harbour report, 1960.", "2:1": "Bristol harbour report, 1970.",
                     "3:1": "Dover harbour report, 1980.", "3:2": "Leith harbour report, 1981."}
    cited = [p.footnotes for p in document.paragraphs if p.footnotes]
    assert cited == [(1,), ("2:1",), ("3:1", "3:2")]


def test_endnotes_after_each_chapter_numbered_from_one(tmp_path: Path) -> None:
    """A book's notes under a "Notes" title at the end of each chapter, each list from 1 again (the
    second list was read as the rest of the first one's last note)."""
    page1 = [(20, 20, 14, "Chapter One"), *[(20, 30 + 6 * i, 11, text) for i, text in enumerate(FILLER)],
             (20, 48, 11, "The quays were built in 1911^1 and rebuilt in 1953.^2"),
             (20, 60, 14, "Notes"), (20, 68, 9, "1 Hull harbour report, 1912."), (20, 73, 9, "2 Flood inquiry, 1954.")]
    page2 = [(20, 20, 14, "Chapter Two"), *[(20, 30 + 6 * i, 11, text) for i, text in enumerate(FILLER[::-1])],
             (20, 48, 11, "The fish market moved to the northern bank in 1960.^1"),
             (20, 60, 14, "Notes"), (20, 68, 9, "1 Market board minutes, 1961.")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "chapters.pdf", [page1, page2],
                                            frozenset({(0, 0), (0, 5), (1, 0), (1, 5)})))
    assert {n.marker: n.text for n in document.footnotes} == {
        1: "Hull harbour report, 1912.", 2: "Flood inquiry, 1954.", "2:1": "Market board minutes, 1961."}
    assert [p.footnotes for p in document.paragraphs if p.footnotes] == [(1, 2), ("2:1",)]


def test_notes_set_as_large_as_the_body_under_a_gap(tmp_path: Path) -> None:
    """Notes in the body's size under a rule (drawn, so no text) and a gap: the numbered line that
    opens the page's next cited note, and those under it, are notes (they were body text); over the
    page, the rest of a note carried over goes on with it (every note after it was lost)."""
    def page(k: int, first: int, carried: str = "") -> list[pdfmaker.Run]:
        body = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER[k:] + FILLER[:k])]
        body.append((20, 45, 11, f"The first quay was built in {1900 + k}^{first} and the second in {1950 + k}.^{first + 1}"))
        volume, other = ["one", "two"][k], ["Hull", "Leith"][k]
        notes = [(20, 60, 11, f"{first} See the harbour board's minutes for {1900 + k},"), (25, 65, 11, f"volume {volume}."),
                 (20, 70, 11, f"{first + 1} The {other} records")]
        return body + ([(25, 55, 11, carried)] if carried else []) + notes

    document = parse_file(pdfmaker.hand_pdf(tmp_path / "same.pdf", [page(0, 1), page(1, 3, "agree with them.")]))
    assert {n.marker: n.text for n in document.footnotes} == {
        1: "See the harbour board's minutes for 1900, volume one.", 2: "The Hull records agree with them.",
        3: "See the harbour board's minutes for 1901, volume two.", 4: "The Leith records"}
    assert [p.footnotes for p in document.paragraphs if p.footnotes] == [(1, 2), (3, 4)]
    assert not any("minutes" in p.text or "agree" in p.text for p in document.paragraphs)


def test_a_glyph_drawn_far_off_the_page_costs_no_more_than_the_page(tmp_path: Path) -> None:
    # a byte-flipped law review drew glyphs at x = 5e8 pt (its TJ kerns had turned to -2519182): the
    # column finder stepped across that a point at a time (half a billion steps, past the 300 s
    # budget: the file was skipped); now at most 4,000 steps
    body = b"".join(b"BT /F1 11 Tf 72 %d Td (Line %d of the harbour report, set in one column of plain prose.) Tj ET\n"
                    % (700 - 14 * i, i, ) for i in range(14))
    body += b"BT /F1 11 Tf 72 400 Td [" + b"(x) -20000000 " * 2400 + b"] TJ ET"
    document = parse_file(_one_page_pdf(tmp_path / "far.pdf", body))
    assert "Line 13 of the harbour report" in " ".join(p.text for p in document.paragraphs)


def _one_page_pdf(path: Path, content: bytes, font: bytes = b"", extra: tuple[bytes, ...] = ()) -> Path:
    """Write a one-page US-letter PDF drawing ``content`` (Helvetica as /F1; ``font``, the entries of a
    second font dictionary, as /F2, which may refer to ``extra`` objects from 7 0 R on) to ``path``."""
    fonts = b"/F1 5 0 R /F2 6 0 R" if font else b"/F1 5 0 R"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << %s >> >> "
               b"/Contents 4 0 R >>" % fonts, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    if font:
        objects += [b"<< /Type /Font /Subtype /Type1 %s >>" % font, *extra]
    path.write_bytes(_raw_pdf(objects))
    return path


def test_characters_beyond_the_bmp_are_joined_and_lone_halves_dropped(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Word sets a formula's letters in math italic (𝐴, U+1D434), which PDFium gives as two UTF-16 halves;
    a damaged ToUnicode map can give one half alone. `qa parse --json` ended in UnicodeEncodeError."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /T def /CMapType 2 def\n"
            b"1 begincodespacerange <00> <FF> endcodespacerange\n"
            b"3 beginbfchar <41> <D835DC34> <42> <D835> <43> <DC34> endbfchar\n"
            b"endcmap CMapName currentdict /CIDInit /ProcSet findresource pop end end")
    content = (b"BT /F1 11 Tf 72 700 Td (The variable ) Tj /F2 11 Tf (A) Tj /F1 11 Tf ( is set, a lone half ) Tj "
               b"/F2 11 Tf (B) Tj /F1 11 Tf ( and another ) Tj /F2 11 Tf (C) Tj /F1 11 Tf ( are not.) Tj ET")
    path = _one_page_pdf(tmp_path / "math.pdf", content, b"/BaseFont /Helvetica-Oblique /ToUnicode 7 0 R",
                         (b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap),))
    document = parse_file(path)
    assert [p.text for p in document.paragraphs] == ["The variable \U0001d434 is set, a lone half and another are not."]
    assert cli.main(["parse", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    out.encode("utf-8")  # raised UnicodeEncodeError (surrogates not allowed)
    assert json.loads(out)["paragraphs"][0]["text"].startswith("The variable 𝐴 is set")


def test_ligatures_without_unicode_are_read_with_the_documents_words(tmp_path: Path) -> None:
    """A ligature glyph whose name PDFium does not know comes as its font code, a control character
    ("Mission dri\\x1c occurs"): it is read as the letters that make the words the document prints
    elsewhere in plain letters (the ft of "drift", "shift", "after"; "Mission dri occurs" before). A
    code no reading explains (\\x1b here) is a space, as before."""
    lines = [b"Drift, shift and after are printed here in plain letters, as in a heading.",
             b"Mission dri\x1c occurs a\x1cer a shi\x1c in funding, and dri\x1c follows.",
             b"An odd glyph\x1bstands alone."]
    content = b"BT /F2 11 Tf 72 700 Td 14 TL " + b" ".join(b"(%s) Tj T*" % line for line in lines) + b" ET"
    path = _one_page_pdf(tmp_path / "ligatures.pdf", content,
                         b"/BaseFont /Helvetica /Encoding << /Differences [27 /odd 28 /f_t] >>")
    text = " ".join(p.text for p in parse_file(path).paragraphs)
    assert "Mission drift occurs after a shift in funding, and drift follows." in text
    assert "An odd glyph stands alone." in text


def test_a_letter_spaced_title_is_read_as_words(tmp_path: Path) -> None:
    """A title set letter-spaced, by character spacing (Tc) or by kerning each glyph apart (TJ), was read a
    letter at a time ("U N I T E D S T A T E S"); evenly spaced letters (a list of variables) stay apart."""
    content = (b"BT /F1 14 Tf 72 700 Td 4 Tc (UNITED STATES COPYRIGHT OFFICE) Tj ET "
               b"BT /F1 14 Tf 72 670 Td 0 Tc [(R) -300 (E) -300 (P) -300 (O) -300 (R) -300 (T) -900 (O) -300 (N) -900 "
               b"(F) -300 (E) -300 (E) -300 (S)] TJ ET "
               b"BT /F1 11 Tf 72 640 Td (The office keeps the register of claims to copyright, with the variables) Tj ET "
               b"BT /F1 11 Tf 72 626 Td [(a) -400 (b) -400 (c) -400 (d) -400 (e) -400 (f) -400 (g)] TJ ( in its tables.) Tj ET")
    text = " ".join(p.text for p in parse_file(_one_page_pdf(tmp_path / "spaced.pdf", content)).paragraphs)
    assert "UNITED STATES COPYRIGHT OFFICE REPORT ON FEES" in text
    assert "with the variables a b c d e f g in its tables." in text


def test_a_slanted_italic_word_in_a_heading_is_kept(tmp_path: Path) -> None:
    """Word slants the upright font where a font has no italic: the text matrix is skewed, its baseline
    level. Such glyphs were taken for rotated text and dropped: the heading read "I. as Methodology" on
    every passage of its section. A watermark turned 45 degrees is still left out."""
    body = b" ".join(b"BT /F1 11 Tf 72 %d Td (Line %d of the text on the method of the courts, which reads the history "
                     b"and its ways.) Tj ET" % (660 - 14 * i, i) for i in range(8))
    content = (b"BT /F2 14 Tf 72 700 Td (I. ) Tj ET BT /F2 14 Tf 1 0 0.2126 1 88 700 Tm (Rahimi) Tj ET "
               b"BT /F2 14 Tf 138 700 Td ( as Methodology) Tj ET BT /F1 40 Tf 0.7071 0.7071 -0.7071 0.7071 150 300 Tm "
               b"(DRAFT COPY) Tj ET " + body)
    document = parse_file(_one_page_pdf(tmp_path / "slanted.pdf", content, b"/BaseFont /Helvetica-Bold"))
    assert [p.section for p in document.paragraphs] == ["I. Rahimi as Methodology"]
    assert "DRAFT" not in document.paragraphs[0].text


def _raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (numbered from 1, the first the catalog) with a correct cross-reference table."""
    data, offsets = b"%PDF-1.7\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(data))
        data += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(data)
    data += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    data += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return data + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def test_a_page_of_nothing_but_the_rest_of_a_note(tmp_path: Path) -> None:
    """The text ends, and its last note, cut mid-sentence, takes a page of its own (TeX at a document's
    end; law reviews whose notes outrun the text): that page goes on with the note (it was body text)."""
    page1 = [*[(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)], (20, 45, 11, "The quays were rebuilt.^1"),
             (20, 262, 8, "1 See Smith, The long history of harbours, a study in several volumes, volume one,"),
             (20, 266, 8, "chapters on the river towns and their")]
    page2 = [(20, 30, 8, "cooperatives, and volume two, on the floods, London, 1990."), (20, 34, 8, "See also Jones (1985).")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "last.pdf", [page1, page2]))
    assert [n.text for n in document.footnotes] == [
        "See Smith, The long history of harbours, a study in several volumes, volume one, chapters on the river "
        "towns and their cooperatives, and volume two, on the floods, London, 1990. See also Jones (1985)."]
    assert not any("London" in p.text for p in document.paragraphs)


def test_a_note_goes_on_only_over_one_page_break_and_in_its_own_size(tmp_path: Path) -> None:
    """Theses: a listing set small at the foot of the next page (10 pt under 8 pt notes), and lines in the
    notes' size at the foot of a page two pages on (a table's lettered notes), were glued to the last note
    cut mid-sentence ("… and their for (int i …"). Only lines set like the notes, right after the page
    that left the note open, go on with it."""
    def body(k: int) -> list[pdfmaker.Run]:
        return [(20, 30 + 5 * i, 11, f"Page {k}: {text}") for i, text in enumerate(FILLER)]

    page1 = [*body(1), (20, 45, 11, "The quays were rebuilt.^1"),
             (20, 262, 8, "1 See Smith, The long history of harbours, a study in several volumes, volume one,"),
             (20, 266, 8, "chapters on the river towns and their")]
    page2 = [*body(2), (20, 240, 10, "for (int i = 0; i < harbours; i++)"), (26, 245, 10, "total += landings[i];")]
    page3 = body(3)
    page4 = [*body(4), (20, 262, 8, "a Measured at low tide on the first day of the survey."),
             (20, 266, 8, "b Measured again after the floods of the following spring.")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "listing.pdf", [page1, page2, page3, page4]))
    assert [n.text for n in document.footnotes] == [
        "See Smith, The long history of harbours, a study in several volumes, volume one, chapters on the river "
        "towns and their"]
    text = " ".join(p.text for p in document.paragraphs)
    assert "total += landings[i];" in text and "Measured again after the floods" in text


def test_a_figure_source_over_the_notes_is_no_rest_of_a_note(tmp_path: Path) -> None:
    """CRS reports (Word): a figure's "Source:" lines, set as small as the notes, stand over the rest of
    a note marked "(continued...)", or over the notes of a page after a note that ended: they were glued
    to the note. The rest of a note is set as close over the next note as notes are; Word's notice is
    no text of the note."""
    def body(k: int, cite: int) -> list[pdfmaker.Run]:
        return [(20, 30 + 5 * i, 11, f"Page {k}: {text}") for i, text in enumerate(FILLER)] + [
            (20, 45, 11, f"The quays were rebuilt in the end.^{cite}")]

    page1 = [*body(1, 1), (20, 250, 9, "1 Smith, The long history of harbours (1990)."),
             (20, 254.5, 9, "2 According to the council, the landings were rebuilt with money sent, via"),
             (20, 258, 9, "(continued...)")]
    page2 = [*body(2, 3), (30, 200, 9, "Source: Harbour board, annual report for the year 1990, table 4."),
             (20, 240, 9, "the regional fund, to the towns themselves."), (20, 245, 9, "3 Jones, Timber (1985).")]
    page3 = [*body(3, 4), (30, 200, 9, "Sources: Harbour board, annual reports for the years 1990 to 1995."),
             (20, 245, 9, "4 Brown, Rivers (2010).")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "source.pdf", [page1, page2, page3]))
    notes = {n.marker: n.text for n in document.footnotes}
    assert notes == {1: "Smith, The long history of harbours (1990).",
                     2: "According to the council, the landings were rebuilt with money sent, via the regional "
                        "fund, to the towns themselves.", 3: "Jones, Timber (1985).", 4: "Brown, Rivers (2010)."}
    text = " ".join(p.text for p in document.paragraphs)
    assert "table 4." in text and "1990 to 1995." in text


def test_a_running_footer_that_says_more_on_the_last_page_is_no_text_of_a_note(tmp_path: Path) -> None:
    """CRS reports: the footer "Congressional Research Service 17" reads "… R48906 · VERSION 2 · NEW 18"
    on the last page, under the last note, and was glued to it."""
    authors = ["Smith, Harbours.", "Jones, Timber.", "Brown, Rivers.", "Green, Tides."]

    def page(k: int, footer: str) -> list[pdfmaker.Run]:
        return [*[(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER[k % 3:] + FILLER[:k % 3])],
                (20, 45, 11, f"The quays were rebuilt in the end.^{k}"), (20, 262, 8, f"{k} {authors[k - 1]}"),
                (20, 285, 8, footer)]
    pages = [page(k, f"Harbour Research Service {k}") for k in (1, 2, 3)]
    pages.append(page(4, "Harbour Research Service R48906 · VERSION 2 · NEW 4"))
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "footer.pdf", pages))
    assert [n.text for n in document.footnotes] == authors
    assert not any("VERSION" in p.text for p in document.paragraphs)


def test_a_copyright_block_under_the_notes_ends_the_last_note(tmp_path: Path) -> None:
    """ACM papers: under the first column's notes, set apart and smaller, the copyright block
    ("Permission to make digital or hard copies …") was glued to the last note."""
    permission = ["Permission to make digital or hard copies of all or part of this work for personal or",
                  "classroom use is granted without fee provided that copies are not made or distributed."]
    page = [*[(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)],
            (20, 45, 11, "The quays were rebuilt^1 in the end.^2"),
            (20, 240, 8, "1 https://www.harbours.example/history"), (20, 244, 8, "2 http://goo.gl/F3Tiax"),
            (20, 253, 7, permission[0]), (20, 256.5, 7, permission[1])]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "acm.pdf", [page]))
    assert {n.marker: n.text for n in document.footnotes} == {1: "https://www.harbours.example/history",
                                                                  2: "http://goo.gl/F3Tiax"}
    assert " ".join(permission) in " ".join(p.text for p in document.paragraphs)


def test_a_numbered_bibliography_set_small_at_the_foot_is_no_notes(tmp_path: Path) -> None:
    """Springer LNCS: the references, numbered "1. …" and set smaller than the text at the foot of the
    last pages, went on the notes from the next number (notes 4-38, none cited by a raised number)."""
    def body(k: int) -> list[pdfmaker.Run]:
        return [(20, 30 + 5 * i, 11, f"Page {k}: {text}") for i, text in enumerate(FILLER)]

    page1 = [*body(1), (20, 45, 11, "The quays were rebuilt^1 and the landings sold [3].^2"),
             (20, 262, 8, "1 Smith, The long history of harbours (1990)."), (20, 266, 8, "2 Jones, Timber (1985).")]
    references = ["Acquisti, A.: On the economics of harbours. Harbour Press (2003)", "The Anonymizer. Landings (2001)",
                  "Back, A.: Freedom systems 2.1. White paper (2001)", "Back, A., Möller, U.: Traffic of boats (2001)",
                  "Berthold, O.: Web mixes. Designing landings (2000)", "Danezis, G.: Restricted routes (2003)"]
    page2 = [*body(2), (20, 60, 13, "References"),
             *[(20, 200 + 5 * i, 9, f"{i + 1}. {text}") for i, text in enumerate(references)]]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "references.pdf", [page1, page2]))
    assert {n.marker: n.text for n in document.footnotes} == {1: "Smith, The long history of harbours (1990).",
                                                                  2: "Jones, Timber (1985)."}
    text = " ".join(p.text for p in document.paragraphs)
    assert all(reference in text for reference in references[3:])


@pytest.mark.parametrize("affiliation_pt", [9, 10.8], ids=["title-page", "body-size"])
def test_numbered_affiliations_under_the_authors_are_no_notes(tmp_path: Path, affiliation_pt: float) -> None:
    """A paper's title block: authors numbered by affiliation ("Roe¹, Doe¹, Poe²"), the affiliations
    right under them, were read as notes 1 and 2 (a thesis printing a paper's title page; an LNCS paper,
    affiliations as large as the text, over a heading and text: all of it became note 2), and the
    paper's own note 1 then started a series of its own."""
    page1 = [(20, 30, 16, "Harbours and Their Landings"), (20, 40, 11, "Jane Roe^1, John Doe^1, Ann Poe^2"),
             (20, 48, affiliation_pt, "1 Vellmar University, Department of Rivers"),
             (20, 53, affiliation_pt, "2 Harbour Institute, London")]
    if affiliation_pt > 10:
        page1 += [(20, 65, 13, "1 Introduction"), *[(20, 75 + 5 * i, 11, text) for i, text in enumerate(FILLER)]]
    page2 = [*[(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER[::-1])],
             (20, 45, 11, "The quays were rebuilt in the end.^1"), (20, 266, 8, "1 Smith, The long history of harbours (1990).")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "authors.pdf", [page1, page2], bold_at=frozenset({(0, 4)})))
    assert {n.marker: n.text for n in document.footnotes} == {1: "Smith, The long history of harbours (1990)."}
    assert "Vellmar University" in " ".join(p.text for p in document.paragraphs)


def test_a_page_of_many_lines_is_joined_in_one_pass() -> None:
    # each line searched the whole text so far for a URL and a hyphen at its end, and the match kept
    # the text from growing in place: 20,000 lines (a hostile page) did not finish in 120 s; now 0.1 s
    from qa.pdf.blocks import _join

    line = "harbour words in a line https://example.org/a-"
    assert _join([line] * 20_000, set()) == line * 20_000  # a URL cut at a hyphen goes on without a space


ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv"]


def test_endnotes_numbered_in_roman_under_a_notes_title(tmp_path: Path) -> None:
    """Word's default endnotes: raised i, ii, iii … in the text, the list under "Notes" labelled the
    same, raised. The notes are read as numbers 1-14; "i" and "vi" as words and a raised "c" in a
    formula stay text (the raised numbers were left in the text and the notes were paragraphs)."""
    cites = [f"Harbour {k + 1} was rebuilt after the flood^{r} by the town." for k, r in enumerate(ROMAN)]
    page1 = [(20, 20, 14, "The Harbours"), *[(20, 30 + 6 * i, 11, text) for i, text in enumerate(FILLER)],
             *[(20, 54 + 6 * i, 11, text) for i, text in enumerate(cites[:7])],
             (20, 102, 11, "Costs grew as n^c for a constant c, see part i and part vi of the plan.")]
    page2 = [*[(20, 20 + 6 * i, 11, text) for i, text in enumerate(cites[7:])],
             (20, 70, 14, "Notes"),
             *[(20, 80 + 5 * k, 9, f"^{r} Harbour board minutes, meeting {k + 1}.") for k, r in enumerate(ROMAN)]]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "roman.pdf", [page1, page2],
                                            frozenset({(0, 0), (1, 7)})))
    assert {n.marker: n.text for n in document.footnotes} == {
        k + 1: f"Harbour board minutes, meeting {k + 1}." for k in range(len(ROMAN))}
    cited = {p.footnotes: p.text for p in document.paragraphs if p.footnotes}
    assert sorted(m for markers in cited for m in markers) == list(range(1, 15))
    for markers, text in cited.items():  # each note on the sentence citing it, no numeral left
        assert all(f"Harbour {m} was rebuilt after the flood by the town." in text for m in markers)
    text = " ".join(p.text for p in document.paragraphs)
    assert "grew as nc for a constant c, see part i and part vi of the plan." in text
    assert "meeting" not in text and "Notes" not in text


def test_a_list_numbered_i_ii_iii_in_the_text_is_no_notes(tmp_path: Path) -> None:
    """Body lines that open with i, ii, iii, with no raised roman number citing them, stay body text."""
    page = [(20, 20, 14, "The Harbours"), *[(20, 30 + 6 * i, 11, text) for i, text in enumerate(FILLER)],
            (20, 54, 11, "The council set three aims:"), (20, 60, 11, "i Rebuild the quays before the winter."),
            (20, 66, 11, "ii Dredge the channel every spring."), (20, 72, 11, "iii Keep the fish market open.")]
    document = parse_file(pdfmaker.hand_pdf(tmp_path / "list.pdf", [page], frozenset({(0, 0)})))
    assert document.footnotes == ()
    assert "ii Dredge the channel every spring." in " ".join(p.text for p in document.paragraphs)


def test_roman_numerals_are_read_strictly() -> None:
    assert [roman.value(r) for r in ROMAN] == list(range(1, 15))
    assert (roman.value("xl"), roman.value("xcix"), roman.value("cccl")) == (40, 99, 350)
    assert [roman.value(w) for w in ("iiii", "il", "vx", "civil", "ic", "")] == [None] * 6


def test_a_page_of_twenty_thousand_lines_is_read_in_one_pass(tmp_path: Path) -> None:
    # every run was compared with every line so far, and every span with every line: 5,000 lines
    # took 13 s, 20,000 did not finish in 120 s (a hostile page: the budget skipped the file); now 1.5 s
    body = b"BT /F1 6 Tf 10 780 Td " + b"(ab) Tj 0 -7 Td " * 20_000 + b"ET"
    document = parse_file(_one_page_pdf(tmp_path / "rows.pdf", body))
    assert " ".join(p.text for p in document.paragraphs).split().count("ab") == 20_000


def _spaced_paragraphs(y: float, paragraphs: list[list[str]], x: float = 20) -> tuple[list, float]:
    """Runs of paragraphs set apart by space (a 4 mm gap), lines 5 mm apart; returns them and the next y."""
    runs = []
    for lines in paragraphs:
        for line in lines:
            runs.append((x, y, 11, line))
            y += 5
        y += 4
    return runs, y


def test_a_line_break_inside_a_paragraph_set_apart_by_space_ends_no_paragraph(tmp_path: Path) -> None:
    """A thesis sets its paragraphs apart by space and its lists in from the edge; its author broke lines by
    hand ("… the whole solution was not." | "The main objective was …", no space between). The list's
    lines counted as first-line indents, so a short line under which the next word would have fitted
    ended a paragraph: only a line set in over one back at the edge is a first-line indent."""
    runs, y = _spaced_paragraphs(30, [FILLER, FILLER])
    items = [["1. Holder: the holder is the person in the scenario, although it can be a company."],
             ["2. Issuer: the issuer is the institution, be it a company or a government body that",
              "   has been awarded a level of trust to provide information."],
             ["3. Verifier: the verifier is whoever must check the information and its truth."]]
    more, y = _spaced_paragraphs(y, items, x=26)
    runs += more
    broken = ["It is fair to say that, at least at first, the objectives were not clear. The whole",
              "concept of the internship was well defined, but the path to the solution was not.",
              "The main objective was to develop software that lets the user hold credentials of",
              "his own, and to show them to whoever asks for them, in the town and elsewhere."]
    more, y = _spaced_paragraphs(y, [broken, FILLER])
    paragraphs = [p.text for p in parse_file(_hand_pdf(tmp_path / "parskip.pdf", runs + more)).paragraphs]
    assert " ".join(broken) in paragraphs
    assert any(p.startswith("2. Issuer:") for p in paragraphs)


def test_a_page_opening_mid_sentence_goes_on_with_the_paragraph_before(tmp_path: Path) -> None:
    """Paragraphs set apart by space: at a page break the layout cannot tell whether one ended, and a page
    ending in a closing quotation mark ("… the bargaining process”") was taken for a sentence's end, though
    the next page opens with a lower-case word ("in the contractual world …")."""
    first, y = _spaced_paragraphs(30, [FILLER, FILLER])
    tail = ["The court stressed its role in arbitrating “coercion in the bargaining process”"]
    more, _ = _spaced_paragraphs(y, [FILLER[:2] + tail])
    head = ["in the contractual world of the Spending Clause, and it went on to find standing."]
    second, _ = _spaced_paragraphs(30, [head + FILLER, FILLER])
    pdf = pdfmaker.hand_pdf(tmp_path / "pages.pdf", [first + more, second])
    paragraphs = [p.text for p in parse_file(pdf).paragraphs]
    assert any("the bargaining process” in the contractual world" in p for p in paragraphs)
    assert not any(p.startswith("in the contractual") for p in paragraphs)


def test_a_gap_as_wide_as_the_lines_word_spaces_is_one(tmp_path: Path) -> None:
    """A thesis set tight (R Markdown's LaTeX: word spaces of 0.13 em) has a few words with no space drawn
    between them, apart by the line's own word space: under a sixth of an em, they ran together
    ("$58.9 billionfrom 98.4 million"). A ligature's or a kerned pair's gap is much narrower than the
    line's spaces, and stays inside its word."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("DejaVu", "", str(pdfmaker.FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    gap = 0.13 * 11 * 25.4 / 72  # 0.13 em, in mm
    words = "MFIs availed 92.4 billion to 116.6 million borrowers and accepted 58.9 billion from 98.4 million".split()
    for row in range(3):
        x, y = 20.0, 30 + 5 * row
        for i, word in enumerate(words):
            spaced = i + 1 < len(words) and not (row == 1 and word == "billion")
            pdf.text(x, y, word + " " * spaced)  # a space drawn, and the next word set over it, a tight space on
            x += pdf.get_string_width(word) + gap
        pdf.text(x - gap + 0.02, y, "k")  # a glyph set against the last, a hundredth of an em off
    text = " ".join(p.text for p in parse_file(_hand_pdf_output(pdf, tmp_path / "tight.pdf")).paragraphs)
    assert "58.9 billion from 98.4" in text and "billionfrom" not in text
    assert text.count("millionk") == 3


def test_a_column_of_authors_beside_the_summary_is_read_apart(tmp_path: Path) -> None:
    """A report's summary page sets its number, date and authors in a narrow box right of the summary's
    first lines, on their baselines: they were read into the summary's lines ("… on public roads. About
    Specialist in 48% of these bridges …", the Highway Bridges CRS report). A table's column of figures
    beside its cells stays in its rows."""
    summary = ["The United States has about 624,000 bridges on its roads, and",
               "48% of these bridges are owned by the state governments and",
               "50% by local governments; the number of bridges rated poor",
               "has declined for many years, but 42,000 remain today, and",
               "the act of 2021 set up federal programs to fund bridges for",
               "the first time since 2012 and raised the funding for repair."]
    runs = [(20, 40 + 5 * i, 11, text) for i, text in enumerate(summary)]
    runs += [(166, 40, 11, "R47194"), (166, 45, 9, "William J. Mallett"), (166, 50, 9, "Specialist in"),
             (166, 55, 9, "Transportation Policy")]
    table = [("Bridge Formula Program, authorized in 2021", "5,500"), ("Bridge Investment Program", "3,153"),
             ("Other programs of the act, for each state", "2,500"), ("All programs", "11,153")]
    for i, (cell, figure) in enumerate(table):
        runs += [(20, 90 + 5 * i, 11, cell), (160, 90 + 5 * i, 11, figure)]
    paragraphs = [p.text for p in parse_file(_hand_pdf(tmp_path / "summary.pdf", runs)).paragraphs]
    assert " ".join(summary) in paragraphs
    assert any(p.startswith("R47194") and "Transportation Policy" in p for p in paragraphs)
    assert any("Bridge Investment Program 3,153" in p for p in paragraphs)


def test_an_exponent_and_a_note_number_raised_in_one_run_are_two(tmp_path: Path) -> None:
    """pdfTeX set "c ≈ 3 · 10¹⁰ ¹" with the exponent and the note's number in one raised run, "10 1": it was
    no marker, and note 1 (a thesis's chapter 2) was on no paragraph. Raised numbers with a space between
    are several; the one with no note on the page goes back to being text."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("DejaVu", "", str(pdfmaker.FONT))
    pdf.add_page()
    pdf.set_font("DejaVu", "", 11)
    for i, line in enumerate(FILLER):
        pdf.text(20, 30 + 5 * i, line)
    before = "Light crosses the chip at c = 3 · 10"
    pdf.text(20, 45, before)
    x = 20 + pdf.get_string_width(before)
    pdf.set_font("DejaVu", "", 7)
    pdf.text(x + 0.3, 43.7, "10 1")
    x += 0.3 + pdf.get_string_width("10 1")
    pdf.set_font("DejaVu", "", 11)
    pdf.text(x + 0.3, 45, ". The chip could be crossed thirty billion times a second by the light.")
    pdf.set_font("DejaVu", "", 8)
    pdf.text(20, 280, "1 The speed of light in centimetres a second, as the physicists give it.")
    document = parse_file(_hand_pdf_output(pdf, tmp_path / "exponent.pdf"))
    cited = next(p for p in document.paragraphs if "Light crosses" in p.text)
    assert cited.footnotes == (1,) and "10¹⁰." in cited.text
    assert [n.text for n in document.footnotes] == ["The speed of light in centimetres a second, as the physicists give it."]


def test_a_block_quotation_set_smaller_reads_by_its_own_edge(tmp_path: Path) -> None:
    """Law reviews set a block quotation smaller and in from the edge, under a plain line of the text:
    against the page's edge each of its lines was a first-line indent, and every line that ended a
    sentence ended a paragraph ("… the authority of the court." | "The statute …")."""
    quote = ["The courts have held that the harbour board must answer to the council for its tolls.",
             "The statute gives the board no power to raise them without the council's consent.",
             "A toll so raised is void, and the money must be paid back to the shippers at once."]
    runs = [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    runs += [(20, 45, 11, "As the court put it in the leading case on the harbour tolls of the river towns:")]
    runs += [(30, 51 + 4 * i, 9, text) for i, text in enumerate(quote)]
    runs += [(20, 68 + 5 * i, 11, text) for i, text in enumerate(FILLER)]
    paragraphs = [p.text for p in parse_file(_hand_pdf(tmp_path / "quote.pdf", runs)).paragraphs]
    assert " ".join(quote) in paragraphs


def test_a_chapters_running_head_with_no_page_number_is_furniture(tmp_path: Path) -> None:
    """A thesis heads each page of a chapter with its title ("2. Transformation of Microfinance: A
    Synthesis") and prints the folio at the foot: on a fifth of the pages, no document-wide header, and
    with no number in it no running head either, so it was read into every paragraph running over
    its pages ("… the parties 2. Transformation of Microfinance: A Synthesis")."""
    head = "2. Transformation of Microfinance: A Synthesis"
    pages = []
    for n in range(4):
        runs = [(20, 15, 11, head)]
        runs += [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER * 3)]
        runs += [(20, 75, 11, "and the boards met the towns' councils each year, at some cost to the parties")]
        runs += [(100, 285, 11, str(40 + n))]
        pages.append(runs)
    pages += [[(20, 15, 11, "Introduction to the whole of the study of the river towns and their harbours")]
              + [(20, 30 + 5 * i, 11, text) for i, text in enumerate(FILLER)] for _ in range(8)]
    paragraphs = [p.text for p in parse_file(pdfmaker.hand_pdf(tmp_path / "heads.pdf", pages)).paragraphs]
    assert not any(head in p for p in paragraphs)
