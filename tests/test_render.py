"""Render stage: answers → safe HTML (escaping, highlight across markers, footnote links, copy text)."""

from __future__ import annotations

import dataclasses
import re

from qa.records import Citation, Hit, Paragraph, Reference
from qa.web import render


def _hit(display: str, text: str, highlight: str, citations: tuple[Citation, ...] = (), doc: str = "d.txt",
         page: int | None = None) -> Hit:
    p = Paragraph(id=f"{doc}#p1", doc=doc, number=1, section="Intro <b>", page=page, page_end=None, text=text,
                  display=display, footnotes=tuple(c.marker for c in citations))
    return Hit(rank=1, score=0.5, paragraph=p, citations=citations, highlight=highlight)


def test_highlight_is_found_across_markers_and_markers_link_to_notes():
    note = Citation(marker=1, text="Source <https://example.org/a>.", urls=("https://example.org/a",))
    hit = _hit("First one.[1] Second one here. Third.", "First one. Second one here. Third.",
               "First one. Second one here.", (note,))
    html = render.passage_html(hit, "u1")
    assert "<mark>First one.<sup class=\"qa-ref\"><a href=\"#u1-fn-1\"" in html
    assert "Second one here.</mark> Third." in html
    assert 'id="u1-fn-1"' in html
    assert '<a class="qa-url" href="https://example.org/a" target="_blank" rel="noopener noreferrer">' in html
    assert "Intro &lt;b&gt;" in html


def test_literal_brackets_that_are_not_markers_stay_text():
    hit = _hit("See [3] and [x] here.[1]", "See [3] and [x] here.", "",
               (Citation(marker=1, text="n", urls=()),))
    html = render.text_html(hit.paragraph.display, "", hit.citations, "u")
    assert "See [3] and [x] here." in html
    assert html.count("<sup") == 1


def test_links_only_for_http_urls_and_trailing_punctuation_dropped():
    html = render.linkify("a javascript:alert(1) b data:text/html,x c (https://ok.example/x).")
    assert html.count("<a ") == 1
    assert 'href="https://ok.example/x"' in html
    assert render.safe_url("javascript:alert(1)") is None
    assert render.safe_url('https://x.example/"onmouseover=1') is None
    assert render.safe_url("https://x.example/a?b=1") == "https://x.example/a?b=1"


def test_footnote_angle_brackets_dropped_and_titles_italic():
    html = render.linkify("Doe, *A <b>Title</b>*, on <https://example.org/t>, 2020.")
    assert html == ('Doe, <em>A &lt;b&gt;Title&lt;/b&gt;</em>, on <a class="qa-url" href="https://example.org/t" '
                    'target="_blank" rel="noopener noreferrer">https://example.org/t</a>, 2020.')


def test_unresolved_and_resolved_notes_are_shown():
    notes = (Citation(marker=2, text="Ibid.", urls=(), resolved="Doe, Book, 1990."),
             Citation(marker=3, text="Roe, op. cit.", urls=(), unresolved=True))
    html = render.notes_html(notes, "u")
    assert "refers to: Doe, Book, 1990." in html
    assert "earlier reference not found" in html


def test_each_back_reference_of_a_note_gets_its_own_line_and_ambiguity_is_said():
    text = "Id. at 5; see also Roe, supra note 1."
    refs = (Reference(kind="id", start=0, end=8, status="ambiguous"),
            Reference(kind="supra", start=19, end=37, status="resolved", authority="Jane Roe, Harbours, 1 J. 1 (2000)",
                      authority_note=1, resolved="Jane Roe, Harbours, 1 J. 1 (2000)"))
    html = render.notes_html((Citation(marker=4, text=text, urls=(), resolved=refs[1].resolved, references=refs),), "u")
    assert '<span class="qa-said">Id. at 5</span>: several earlier authorities fit; not resolved' in html
    assert '<span class="qa-said">Roe, supra note 1</span> refers to: Jane Roe, Harbours, 1 J. 1 (2000)' in html


def test_a_back_reference_is_shown_as_its_citation_without_the_parenthetical_that_follows():
    # Harvard Law Review 138:2071 n.26: the reference spans ran into their parentheticals, and the line read
    # "↳ Tyler, 143 S. Ct. at 1379 (citing Phill… refers to: …", cut mid-word, inside a parenthesis
    text = ("Tyler, 143 S. Ct. at 1379 (citing Phillips v. Wash. Legal Found., 524 U.S. 156, 167 (1998)); see also "
            "Claeys, supra note 22 (manuscript at 14–15). See generally id. (concluding that courts “consult”).")
    spans = [(0, 90), (102, 145), (161, 199)]
    refs = tuple(Reference(kind="short", start=a, end=b, status="resolved", resolved=f"Authority {n}")
                 for n, (a, b) in enumerate(spans))
    html = render.notes_html((Citation(marker=26, text=text, urls=(), references=refs),), "u")
    said = re.findall(r'<span class="qa-said">(.*?)</span>', html)
    assert said == ["Tyler, 143 S. Ct. at 1379", "Claeys, supra note 22", "id."]
    assert render.reference_said("id. at 310.") == "id. at 310" and render.reference_said("Id.") == "Id."
    assert render.reference_said("Hawkins v. Kroger Company of the Great Lakes Region, 906 F.3d 763") == \
        "Hawkins v. Kroger Company of the Great…"


def test_pdf_passages_link_to_their_page_and_copy_text_has_the_citation():
    hit = _hit("Text.[1]", "Text.", "Text.", (Citation(marker=1, text="A source.", urls=()),), doc="sub dir/r.pdf", page=4)
    assert render.file_href("sub dir/r.pdf", 4) == "qa/doc/sub%20dir/r.pdf#page=4"
    assert render.file_href("a.txt", 4) == "qa/doc/a.txt"
    html = render.passage_html(hit, "u", file_url=render.file_href("sub dir/r.pdf", 4))
    assert 'href="qa/doc/sub%20dir/r.pdf#page=4"' in html and "Open PDF at p. 4" in html
    assert render.copy_text(hit) == "“Text.[1]”\n— sub dir/r.pdf, Intro <b>, p. 4\n[1] A source."


def test_the_printed_page_is_shown_and_copied_while_the_link_opens_the_pdf_page():
    hit = _hit("Text.", "Text.", "Text.", doc="article.pdf", page=3)
    hit = dataclasses.replace(hit, paragraph=dataclasses.replace(hit.paragraph, page_end=4, page_label="171",
                                                                 page_label_end="172"))
    html = render.passage_html(hit, "u", file_url=render.file_href("article.pdf", 3))
    assert 'href="qa/doc/article.pdf#page=3"' in html and "Open PDF at p. 171" in html
    assert '<span class="qa-pages">pp. 171–72</span>' in html
    assert render.copy_text(hit) == "“Text.”\n— article.pdf, Intro <b>, pp. 171–72"


def test_copy_text_cites_the_title_and_each_resolved_authority_without_markdown_marks():
    text = "*Japan Times*, 3 May 2024, <https://example.org/a_b>; Id. at 5; see Roe, supra note 1."
    refs = (Reference(kind="id", start=47, end=55, status="resolved", resolved="A v. B, 1 U.S. 1, 5 (1990)"),
            Reference(kind="supra", start=61, end=79, status="resolved", resolved="Jane Roe, Harbours, 1 J. 1 (2000)"))
    hit = _hit("It said so.[1]", "It said so.", "It said so.", (Citation(marker=1, text=text, urls=(), references=refs),),
               doc="r.pdf", page=4)
    copied = render.copy_text(hit, "Shared Rivers, Anna de Vries (2024)").splitlines()
    assert copied[1] == "— Shared Rivers, Anna de Vries (2024), Intro <b>, p. 4"
    assert copied[2] == ("[1] Japan Times, 3 May 2024, https://example.org/a_b; Id. at 5; see Roe, supra note 1. "
                         "(= A v. B, 1 U.S. 1, 5 (1990); Jane Roe, Harbours, 1 J. 1 (2000))")
    assert render.plain("2 * 3 * 4 and snake_case_name and **bold**") == "2 * 3 * 4 and snake_case_name and bold"


def test_question_is_escaped_and_shortened():
    html = render.question_html("<img src=x onerror=alert(1)>" + "a" * 1000)
    assert "<img" not in html and "&lt;img" in html and html.endswith("…</span>")


def test_when_nothing_answers_every_closest_passage_is_collapsed():
    from qa.records import Answer

    hits = tuple(Hit(rank=n, score=0.1, paragraph=_hit(f"Text {n}.", f"Text {n}.", "").paragraph, citations=(),
                     highlight="") for n in (1, 2))
    blocks = render.answer_blocks(Answer("q?", hits, abstained=True), "u")
    assert "Not found" in blocks[0] and all("<details" in b and "qa-top" not in b for b in blocks)
    answered = render.answer_blocks(Answer("q?", hits, abstained=False), "u")
    assert "qa-top" in answered[0] and "<details" in answered[1]


def test_a_passage_of_a_million_characters_is_shown_around_its_highlight_within_bounds():
    # five hits on 1,000,000-character paragraphs (a hostile upload, cut to the paragraph limit) made one chat
    # reply of 58 MB of HTML, kept again in the browser's storage
    before, after = "Word one two. " * 40_000, " Word three four." * 40_000
    display = f"{before}The harbour opened in 1901.[1]{after}"
    text = display.replace("[1]", "")
    hit = _hit(display, text, "The harbour opened in 1901.",
               (Citation(marker=1, text="Harbour records.", urls=(), resolved=None),))
    html = render.passage_html(hit, "u1")
    assert len(html) < 60_000  # of 1,120,000 characters
    assert "<mark>The harbour opened in 1901.</mark>" in html and f'href="#{render.anchor("u1", 1)}"' in html
    assert html.count("…") >= 2  # cut on both sides, said
    shown = render.shown_part(hit)
    assert len(shown.paragraph.display) <= render.SHOWN_CHARS + 2 and len(shown.paragraph.text) <= render.SHOWN_CHARS + 2
    assert "The harbour opened in 1901." in shown.paragraph.text
    small = _hit("Short text.", "Short text.", "Short text.")
    assert render.shown_part(small) is small


def test_a_note_cited_many_times_in_a_passage_is_listed_once():
    # a page of 300,000 links to one note made a passage with 300,000 citations: a 33 MB footnote list
    note = Citation(marker=1, text="Harbour records.", urls=(), resolved=None)
    other = Citation(marker=2, text="Port survey.", urls=(), resolved=None)
    hit = _hit("Claim.[1] Again.[2] And again.[1]" + "[1]" * 2000, "Claim. Again. And again.", "Claim.",
               (note, other, note) + (note,) * 2000)
    assert render.passage_html(hit, "u1").count("Harbour records.</span>") == 1
    assert [c.marker for c in render.shown_part(hit).citations] == [1, 2]


def test_a_section_that_repeats_the_documents_title_is_not_shown_twice():
    # Harvard Law Review 138:2071: title and section both "GENERAL LAW OF PROPERTY" over every passage
    hit = dataclasses.replace(_hit("Text.", "Text.", ""), paragraph=dataclasses.replace(
        _hit("Text.", "Text.", "").paragraph, section="General law of  property."))
    html = render.passage_html(hit, "u", label="GENERAL LAW OF PROPERTY")
    assert 'class="qa-section"' not in html and html.count("GENERAL LAW OF PROPERTY") == 1
    assert 'class="qa-section">Intro &lt;b&gt;<' in render.passage_html(_hit("Text.", "Text.", ""), "u", label="Report")
    assert render.copy_text(hit, "GENERAL LAW OF PROPERTY") == "“Text.”\n— GENERAL LAW OF PROPERTY"
    assert render.copy_text(hit, "General Law of Property, Jane Roe (2025)").endswith("— General Law of Property, "
                                                                                        "Jane Roe (2025)")
    assert render.copy_text(hit, "General Law of Property Reform").endswith(", General law of  property.")
