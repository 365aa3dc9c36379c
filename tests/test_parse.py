"""parse: documents → paragraphs and footnotes, on tiny texts written here and on the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import CORPUS

from qa.errors import DocumentError
from qa.parse import assemble, extract_urls, parse_file, text_blocks
from qa.records import Block


def parse_text(text: str, markdown: bool = False):
    return assemble("t.md" if markdown else "t.txt", text_blocks(text, markdown=markdown))


def paragraph_with(document, needle: str):
    found = [p for p in document.paragraphs if needle in p.text]
    assert len(found) == 1, f"{needle!r} is in {len(found)} paragraphs"
    return found[0]


LONG = "and this sentence is long enough to make the line above it a heading of its section"


# --- markers and footnotes -------------------------------------------------------------

def test_unicode_superscripts_including_multi_digit_markers() -> None:
    doc = parse_text(
        "The council met twice in 2020.¹² It then met again in 2021.²⁸\n\n"
        "¹² Council minutes, 2020.\n\n²⁸ Council minutes, 2021.\n"
    )
    (p,) = doc.paragraphs
    assert p.footnotes == (12, 28)
    assert [n.marker for n in doc.footnotes] == [12, 28]
    assert doc.footnotes[0].text == "Council minutes, 2020."


def test_markers_stay_out_of_text_and_show_as_brackets_in_display() -> None:
    doc = parse_text("Grain prices rose sharply.³ Timber followed.\n\n³ Market report.\n")
    (p,) = doc.paragraphs
    assert p.text == "Grain prices rose sharply. Timber followed."
    assert p.display == "Grain prices rose sharply.[3] Timber followed."
    assert "³" not in p.text and "⟦" not in p.text and "⟦" not in p.display


def test_markdown_footnotes_with_indented_continuation() -> None:
    doc = parse_text(
        "# Orchards\n\nApple trees bloom in April in the northern orchards of the valley.[^1] "
        "Pears follow in May.[^note]\n\n"
        "[^1]: Orchard survey, first part\n    continued on an indented line.\n"
        "[^note]: A named note, <https://example.org/pears>.\n",
        markdown=True,
    )
    (p,) = doc.paragraphs
    assert p.footnotes == (1, "note")
    assert p.display.endswith("orchards of the valley.[1] Pears follow in May.[note]")
    notes = {n.marker: n for n in doc.footnotes}
    assert notes[1].text == "Orchard survey, first part continued on an indented line."
    assert notes["note"].urls == ("https://example.org/pears",)
    assert "[^" not in p.text and "Orchard survey" not in p.text


def test_footnote_block_is_removed_from_the_text_flow_and_kept() -> None:
    doc = parse_text(
        "The harbour opened in 1911.¹\n\n"
        "¹ River Authority, « Annual report », on <https://example.org/a.pdf>, see also "
        "https://example.org/b. and (https://example.org/c),\n\n"
        "The fish market opens at six and closes at noon.\n"
    )
    assert [p.text for p in doc.paragraphs] == [
        "The harbour opened in 1911.", "The fish market opens at six and closes at noon."]
    (note,) = doc.footnotes
    assert note.marker == 1
    assert note.text.startswith("River Authority, « Annual report »")
    assert note.urls == ("https://example.org/a.pdf", "https://example.org/b", "https://example.org/c")


def test_extract_urls_strips_trailing_punctuation_and_deduplicates() -> None:
    text = "on <https://x.org/p?a=1&b=2>, https://x.org/q; https://x.org/r: https://x.org/p?a=1&b=2 https://x.org/s’"
    assert extract_urls(text) == ("https://x.org/p?a=1&b=2", "https://x.org/q", "https://x.org/r", "https://x.org/s")


def test_superscript_without_a_footnote_stays_text() -> None:
    doc = parse_text("The lake covers 50 km² of the valley floor.¹\n\n¹ Survey, 2020.\n")
    (p,) = doc.paragraphs
    assert "50 km²" in p.text and "50 km²" in p.display
    assert p.footnotes == (1,)


# --- paragraphs cut by page breaks and footnote areas -----------------------------------

def test_paragraph_cut_by_footnote_block_lowercase_is_rejoined() -> None:
    doc = parse_text(
        "The docks were rebuilt after the flood with money from the\n\n"
        "¹ A footnote in between.\n\n"
        "regional council.¹ Today the harbour employs 400 people.\n"
    )
    (p,) = doc.paragraphs
    assert p.text == ("The docks were rebuilt after the flood with money from the regional council. "
                      "Today the harbour employs 400 people.")
    assert p.footnotes == (1,)


def test_short_line_cut_by_footnote_block_is_rejoined_not_taken_for_a_heading() -> None:
    doc = parse_text("The docks were rebuilt with money from the\n\n¹ A note.\n\n"
                     "regional council.¹ Today the harbour employs 400 people.\n")
    (p,) = doc.paragraphs
    assert p.text == "The docks were rebuilt with money from the regional council. Today the harbour employs 400 people."
    assert p.footnotes == (1,)


def test_paragraph_cut_by_form_feed_is_rejoined_with_page_range() -> None:
    doc = parse_text("Page one talks about the docks and the money that came from the\f"
                     "regional council in the end.\n\nA second paragraph on page two.\n")
    first, second = doc.paragraphs
    assert first.text == "Page one talks about the docks and the money that came from the regional council in the end."
    assert (first.page, first.page_end) == (1, 2)
    assert (second.page, second.page_end) == (2, 2)


def test_uppercase_after_footnote_block_joins_when_first_half_stops_mid_sentence() -> None:
    doc = parse_text(
        "Japan published its first National Security Strategy in 2013. As an essential element of "
        "this development, in 2014 Shinzo Abe's cabinet\n\n"
        "²⁵ Akutsu, op. cit.\n\n"
        "Approved an interpretation of the constitution.\n"
    )
    (p,) = doc.paragraphs
    assert "Shinzo Abe's cabinet Approved an interpretation" in p.text


def test_sentence_end_then_footnote_block_then_capital_is_not_joined() -> None:
    doc = parse_text(
        "The first paragraph ends with a full stop.¹\n\n"
        "¹ A footnote in between.\n\n"
        "The second paragraph starts with a capital letter.\n"
    )
    assert [p.text for p in doc.paragraphs] == [
        "The first paragraph ends with a full stop.", "The second paragraph starts with a capital letter."]


def test_a_reader_can_say_whether_a_block_continues_the_paragraph_before_it() -> None:
    def blocks(continues: bool | None) -> list[Block]:
        return [Block("body", "The first page ends with a full stop.", 1), Block("pagebreak", "", 2),
                Block("body", "the second page goes on", 2, continues=continues)]

    assert [p.text for p in assemble("t.pdf", blocks(None)).paragraphs] == [
        "The first page ends with a full stop.", "the second page goes on"]
    (joined,) = assemble("t.pdf", blocks(True)).paragraphs
    assert (joined.text, joined.page, joined.page_end) == (
        "The first page ends with a full stop. the second page goes on", 1, 2)
    cut = [Block("body", "The first page stops in the", 1), Block("pagebreak", "", 2),
           Block("body", "middle of a sentence.", 2, continues=False)]
    assert len(assemble("t.pdf", cut).paragraphs) == 2
    assert len(assemble("t.pdf", [*cut[:2], Block("body", "middle of a sentence.", 2)]).paragraphs) == 1


def test_headings_become_sections() -> None:
    doc = parse_text(
        "Introduction\n\nThe harbour of Vellmar was opened in 1911 " + LONG + ".\n\n"
        "Fishing\n\nFishing boats leave at dawn " + LONG + ".\n"
    )
    assert [p.section for p in doc.paragraphs] == ["Introduction", "Fishing"]
    assert all(p.text not in ("Introduction", "Fishing") for p in doc.paragraphs)
    md = parse_text("# Orchards\n\nApples.\n\n## Pears\n\nPears ripen later.\n", markdown=True)
    assert [(p.section, p.text) for p in md.paragraphs] == [("Orchards", "Apples."), ("Pears", "Pears ripen later.")]


def test_paragraph_ids_are_doc_and_number() -> None:
    doc = parse_text("First paragraph.\n\nSecond paragraph.\n")
    assert [(p.id, p.number) for p in doc.paragraphs] == [("t.txt#p1", 1), ("t.txt#p2", 2)]


# --- files ---------------------------------------------------------------------------------

def test_binary_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "scan.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(DocumentError, match=r"scan\.txt.*binary"):
        parse_file(path)


def test_empty_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "empty.md"
    path.write_text("\n  \n", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"empty\.md"):
        parse_file(path)


def test_unsupported_extension_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "report.rtf"
    path.write_text("Some text.", encoding="utf-8")
    with pytest.raises(DocumentError, match=r"report\.rtf.*unsupported"):
        parse_file(path)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match=r"nowhere\.txt"):
        parse_file(tmp_path / "nowhere.txt")


def test_a_folder_or_a_pipe_named_like_a_document_is_refused_for_what_it_is(tmp_path: Path) -> None:
    import os

    (tmp_path / "folder.pdf").mkdir()
    os.mkfifo(tmp_path / "pipe.txt")
    for name in ("folder.pdf", "pipe.txt"):  # both were "file not found"
        with pytest.raises(DocumentError, match=rf"{name}: is a folder, a pipe or a device, not a document file"):
            parse_file(tmp_path / name)


def test_latin1_file_decodes(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Le café de la gare a ouvert en été.".encode("latin-1"))
    document = parse_file(path)
    assert document.doc == "latin.txt"
    assert document.paragraphs[0].text == "Le café de la gare a ouvert en été."


def test_utf8_bom_and_crlf_are_handled(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes("\ufeffFirst line of a paragraph\r\nthat goes on.\r\n\r\nSecond one.\r\n".encode("utf-8"))
    assert [p.text for p in parse_file(path).paragraphs] == ["First line of a paragraph that goes on.", "Second one."]


# --- the real corpus (no model needed) ---------------------------------------------------

@pytest.fixture(scope="module")
def corpus():
    return parse_file(CORPUS)


def test_corpus_has_all_28_footnotes_each_attached_to_exactly_one_paragraph(corpus) -> None:
    assert [n.marker for n in corpus.footnotes] == list(range(1, 29))
    cited = [m for p in corpus.paragraphs for m in p.footnotes]
    assert sorted(cited) == list(range(1, 29))


@pytest.mark.parametrize("first, second", [
    ("1979, but for a long time", 'particularly "hard security" issues'),
    ("Shinzo Abe's cabinet", "approved an interpretation"),
    ("mentioning the issue of the", "Senkaku Islands, under constant pressure"),
    ("Japan has also re-exported", "Patriot missiles"),
    ("with the return of Shinzo Abe's as prime minister in 2012, Japan", "has also thought to align itself"),
    ("In terms of principles, both parties", "reaffirm their commitment"),
])
def test_corpus_page_split_paragraphs_are_rejoined(corpus, first: str, second: str) -> None:
    p = paragraph_with(corpus, first)
    assert second in p.text
    assert p.text.index(first) < p.text.index(second)


def test_corpus_footnote_1_is_on_the_july_13_2023_summit_paragraph(corpus) -> None:
    p = paragraph_with(corpus, "EU-Japan summit on July 13, 2023")
    assert 1 in p.footnotes
    note = next(n for n in corpus.footnotes if n.marker == 1)
    assert note.text.startswith("Kyodo")
    assert any("japantimes.co.jp" in url for url in note.urls)


def test_corpus_footnote_text_is_not_in_the_body(corpus) -> None:
    body = " ".join(p.text for p in corpus.paragraphs)
    assert "Kyodo" not in body
    assert "Routledge" not in body
    assert "⟦" not in body and "¹" not in body


def test_corpus_sections_and_title(corpus) -> None:
    assert corpus.title == "Ambitions and Limits: The Deepening Security Dialogue Between Japan and the European Union"
    sections = {p.section for p in corpus.paragraphs}
    assert {"Introduction", "An Ever-Closer Strategic Partnership", "The EU-Japan Summit 2023",
            "A necessary step: new capabilities"} <= sections


def test_numbering_that_starts_again_is_keyed_by_series() -> None:
    """Chapter 2's notes start again at 1: they are keyed "2:1", "2:2", shown as [1], [2]."""
    blocks = [Block("heading", "One"), Block("body", "Alpha cites⟦1⟧ and then⟦2⟧.", 1),
              Block("note", "Smith, Harbours (2001).", 1, 1), Block("note", "Jones, Timber (2003).", 1, 2),
              Block("heading", "Two"), Block("body", "Beta cites⟦1⟧ again⟦2⟧.", 2),
              Block("note", "Brown, Rivers (2010).", 2, 1), Block("note", "Id. at 4.", 2, 2)]
    doc = assemble("d.pdf", blocks)
    notes = {n.marker: n for n in doc.footnotes}
    assert set(notes) == {1, 2, "2:1", "2:2"}
    assert notes[1].text.startswith("Smith") and notes["2:1"].text.startswith("Brown")
    assert [p.footnotes for p in doc.paragraphs] == [(1, 2), ("2:1", "2:2")]
    assert doc.paragraphs[1].display == "Beta cites[1] again[2]."
    assert notes["2:2"].resolved_marker == "2:1"  # Id. is the note before, in its own series


def test_numbering_is_left_alone_when_text_and_notes_disagree_on_restarts() -> None:
    blocks = [Block("body", "Alpha⟦1⟧ beta⟦2⟧ gamma⟦3⟧.", 1), Block("note", "One.", 1, 1),
              Block("note", "Three.", 1, 3), Block("note", "Two.", 1, 2)]  # a stray order, not a restart in the text
    doc = assemble("d.pdf", blocks)
    assert sorted(str(n.marker) for n in doc.footnotes) == ["1", "2", "3"]
    assert doc.paragraphs[0].footnotes == (1, 2, 3)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_read(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Introduction\n\nThe harbour of Vellmar opened in 1911, said Ørsted.¹\n\n¹ Annual report.\n"
                     .encode(encoding))
    document = parse_file(path)
    assert "The harbour of Vellmar opened in 1911, said Ørsted." in [p.text for p in document.paragraphs]
    assert [n.text for n in document.footnotes] == ["Annual report."]


# --- hostile texts: work that grows with the file, never with its square ----------------------
# The reader copied the text so far at every line, block or note definition, and looked for the
# next block in a copy of the rest at every heading-like line. Before (seconds, old code, niced on
# a busy machine): lines 20.8, note lines 41.1, form feeds > 120, note definitions 50.8,
# heading-like lines > 120; now about 1 s each. A 10 MB file of 5,000,000 lines or 1,000,000 form
# feeds went past the 300 s budget, so qa build skipped it; now 5 s and 10 s.

def _words(document) -> list[str]:
    return " ".join([p.text for p in document.paragraphs] + [n.text for n in document.footnotes]).split()


@pytest.mark.parametrize("text, expected", [
    ("some words\n" * 300_000, ["some", "words"] * 300_000),  # no blank line: one paragraph
    ("text\f" * 100_000, ["text"] * 100_000),  # one paragraph over 100,000 pages
    ("Body text¹ here.\n\n" + "¹ again\n\n" * 100_000, ["Body", "text", "here."] + ["again"] * 100_000),
    ("Body text¹ here.\n\n¹ A note\n" + "goes on\n" * 300_000, ["Body", "text", "here.", "A", "note"]
     + ["goes", "on"] * 300_000),
    ("Heading Line\n\n" * 100_000, ["Heading", "Line", "—"] * 99_999 + ["Heading", "Line"]),  # front matter
], ids=["lines", "form feeds", "note definitions", "note lines", "heading-like lines"])
def test_a_hostile_text_is_read_in_one_pass(text: str, expected: list[str]) -> None:
    assert _words(parse_text(text)) == expected


def test_a_markdown_heading_padded_with_spaces_is_read_at_once() -> None:
    # the heading regex backtracked over the spaces, with the cube of their number: 800 took 0.7 s
    document = parse_text("# Harbours" + " " * 5000 + "x ##\n\n" + LONG + "\n", markdown=True)
    assert document.paragraphs[0].section == "Harbours" + " " * 5000 + "x"


def test_markers_int_cannot_read_are_kept_as_names() -> None:
    # "²" is a digit but not a decimal, and int() refuses numbers of over 4,300 digits: both were
    # "could not be read (ValueError …)", or "internal error" with the budget off
    document = parse_text("Text[^²] here, see the note.\n\n[^²]: A note.\n", markdown=True)
    assert [n.text for n in document.footnotes] == ["A note."]
    document = parse_text("Text¹ here.\n\n¹ Smith, supra note " + "1" * 5000 + ".\n")
    assert document.footnotes[0].unresolved
    document = parse_text("Text" + "¹" * 10**5 + " here.\n\n¹ A note.\n")
    assert document.paragraphs[0].text.startswith("Text")


def test_a_note_citing_by_reporter_alone_is_named_by_the_sentence_at_its_marker() -> None:
    doc = parse_text(
        "In Fulton v. City of Philadelphia,[^1] the Court ruled for the agency. It said so twice.[^2]\n\n"
        "[^1]: 141 S. Ct. 1868 (2021).\n[^2]: Fulton, 141 S. Ct. at 1181.\n", markdown=True)
    notes = {n.marker: n for n in doc.footnotes}
    assert notes[2].resolved == "141 S. Ct. 1868, 1181 (2021)" and notes[2].resolved_marker == 1


def test_a_line_longer_than_any_paragraph_keeps_is_cut_as_it_is_read(tmp_path: Path) -> None:
    # a 200 MB one-line text file was read whole through every stage (3.9 GB) before the paragraph was cut
    from qa import budget
    limit = budget.DocumentLimits().chars
    path = tmp_path / "one-line.md"
    path.write_text("Opening words.[^1] " + "word " * (3 * limit // 5) + "\n\n[^1]: The note.\n", encoding="utf-8")
    doc = parse_file(path)
    # cut as read at twice what a paragraph keeps: markers written shorter ("[^12]" → "⟦12⟧") still leave enough
    assert len(doc.paragraphs) == 1 and 2 * limit - 100 < len(doc.paragraphs[0].display) <= 2 * limit
    assert doc.paragraphs[0].text.startswith("Opening words. word word") and doc.paragraphs[0].footnotes == (1,)
    assert doc.footnotes[0].text == "The note."
    kept, line = budget.cut(doc, budget.DocumentLimits())
    assert len(kept.paragraphs[0].text) == limit and line is not None and "over 1,000,000 characters" in line


def test_a_text_of_more_pages_and_paragraphs_than_the_limits_allow_is_refused_as_read(tmp_path: Path,
                                                                                        monkeypatch) -> None:
    # 24 MB of "a\f" (12 M pages) took 4.1 GB and 97 CPU-s to read before all but the first 50,000 paragraphs
    # were dropped; ten times the limits (here 10 paragraphs and 10 notes: 200 blocks) is as far as a text is read
    from qa import budget, parse
    monkeypatch.setenv("QA_DOC_PASSAGES", "10")
    pages = tmp_path / "pages.txt"
    pages.write_text("A page of text.\f" * 500, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"pages\.txt: refused: over 200 paragraphs and pages .*QA_DOC_PASSAGES"):
        parse_file(pages)
    seen: list[int] = []
    classify = parse._classify
    monkeypatch.setattr(parse, "_classify", lambda *a: seen.append(1) or classify(*a))
    lines = tmp_path / "lines.md"
    lines.write_text("x\n\n" * 5000, encoding="utf-8")
    with pytest.raises(DocumentError, match="refused: over 200"):
        parse_file(lines)
    assert len(seen) == 201  # read no further than the limit
    fits = tmp_path / "fits.md"
    fits.write_text("".join(f"Paragraph {i} of the text.\n\n" for i in range(150)), encoding="utf-8")
    kept, line = budget.read_within_budget(fits, seconds=0, memory_mb=0)
    assert len(kept.paragraphs) == 10 and line is not None and "150 paragraphs (the limit: 10)" in line
