"""HTML reader: web pages written here in each footnote markup, each asserting notes exact and attached."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.errors import DocumentError
from qa.parse import parse_file
from qa.records import Document

CLAIMS = ("The first claim is made here.", "A second claim follows it.", "The third claim ends the text.")


def page(tmp_path: Path, body: str, name: str = "article.html") -> Document:
    path = tmp_path / name
    path.write_text(f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>T</title>'
                    f'<style>p {{color: red}}</style><script>var x = "[1]";</script></head><body>{body}</body></html>',
                    encoding="utf-8")
    return parse_file(path)


def notes_and_citing(doc: Document) -> list[tuple[object, str, list[str]]]:
    return [(f.marker, f.text, [p.text for p in doc.paragraphs if f.marker in p.footnotes]) for f in doc.footnotes]


def test_links_to_an_end_list_whose_ids_are_off_by_one(tmp_path: Path) -> None:
    body = (f'<article><p>{CLAIMS[0]}<sup><a id="fnref-2" href="#fn-2">[1]</a></sup> {CLAIMS[1]}'
            '<sup><a id="fnref-3" href="#fn-3">[2]</a></sup></p>'
            f'<p>{CLAIMS[2]}<sup><a id="fnref-4" href="#fn-4">[3]</a></sup></p>'
            '<ol><li id="fn-2">. Smart, <em>Mercy</em>, 43 Phil. 345 (1968). <a href="#fnref-2">↑</a></li>'
            '<li id="fn-3">. <em>See</em> Faigman, <em>supra</em> note 1. <a href="#fnref-3">↑</a></li>'
            '<li id="fn-4">. <em>Id.</em> at 3. <a href="#fnref-4">↑</a></li></ol></article>')
    doc = page(tmp_path, body)
    assert notes_and_citing(doc) == [
        (1, "Smart, Mercy, 43 Phil. 345 (1968).", [" ".join(CLAIMS[:2])]),
        (2, "See Faigman, supra note 1.", [" ".join(CLAIMS[:2])]),
        (3, "Id. at 3.", [CLAIMS[2]])]
    assert [p.text for p in doc.paragraphs] == [" ".join(CLAIMS[:2]), CLAIMS[2]]


def test_links_whose_targets_are_missing_find_labelled_paragraphs(tmp_path: Path) -> None:
    body = (f'<div><p>{CLAIMS[0]}<a href="#_ftn1">[1]</a></p><p>{CLAIMS[1]}<a href="#_ftn2">[2]</a></p>'
            f'<p>{CLAIMS[2]}<a href="#_ftn3">[3]</a> More.<a href="#_ftn4">[4]</a></p>'
            '<p>&nbsp;&nbsp; [1].&nbsp;&nbsp; Tennessee v. Lane, 541 U.S. 509 (2004).</p>'
            '<p>&nbsp;&nbsp; [2].&nbsp;&nbsp; Yoshino observed:</p><p>The Court has used liberty analysis.</p>'
            '<p>4. A stray number inside the note.</p>'
            '<p>&nbsp;&nbsp; [3].&nbsp;&nbsp; 42 U.S.C. § 4151.</p>'
            '<p>&nbsp; 4. &nbsp; The fourth note, its brackets forgotten.</p></div>')
    doc = page(tmp_path, body)
    assert notes_and_citing(doc) == [
        (1, "Tennessee v. Lane, 541 U.S. 509 (2004).", [CLAIMS[0]]),
        (2, "Yoshino observed: The Court has used liberty analysis. 4. A stray number inside the note.", [CLAIMS[1]]),
        (3, "42 U.S.C. § 4151.", [f"{CLAIMS[2]} More."]),
        (4, "The fourth note, its brackets forgotten.", [f"{CLAIMS[2]} More."])]
    assert [p.text for p in doc.paragraphs] == [*CLAIMS[:2], f"{CLAIMS[2]} More."]


def test_notes_in_a_details_box_with_return_links(tmp_path: Path) -> None:
    body = ''.join(f'<p>{c}<sup id="footnote-{i}" class="footnote-item"><a href="#footnote-ref-{i}">{i}</a></sup></p>'
                   for i, c in enumerate(CLAIMS, start=1))
    texts = {1: "Note 1 text.", 2: "2 U.S.C. § 1 (2018).", 3: "Note 3 text."}  # a number that is the note's text
    items = ''.join(f'<li id="footnote-ref-{i}"><p><a href="#footnote-{i}">^</a> {t}</p>'
                    f'<a href="#footnote-{i}">Return to citation ^</a></li>' for i, t in texts.items())
    doc = page(tmp_path, f'{body}<details><summary>Footnotes</summary><ol>{items}</ol></details>')
    assert notes_and_citing(doc) == [(i, t, [CLAIMS[i - 1]]) for i, t in texts.items()]


def test_notes_inside_the_paragraph_are_cut_out_of_it(tmp_path: Path) -> None:
    tooltip = ('<sup class="modern-footnotes-footnote" data-mfn="{i}"><a href="javascript:void(0)" role="button" '
               'aria-describedby="mfn-content-{i}">{i}</a></sup><span id="mfn-content-{i}" role="tooltip" '
               'class="modern-footnotes-footnote__note">{text}<br></span>')
    button = ('<button class="footnote-count"><i class="footnote-show">{i}</i><i class="hidden icon"></i></button>'
              '<cite class="footnote footnote-{i}"><span class="footnote-text"><span class="aside-footnote-count">{i}'
              '</span> {text}</span><button class="footnote-aside-show"><i>...</i><i>Close</i></button></cite>')
    body = (f'<p>{CLAIMS[0]}{tooltip.format(i=1, text="<em>Id.</em>")} {CLAIMS[1]}'
            f'{tooltip.format(i=2, text="See Russonello, N.Y. Times (2021).")}</p>'
            f'<p>{CLAIMS[2]}{button.format(i=3, text="Thurgood Marshall, Hist. (2009).")}</p>')
    doc = page(tmp_path, body)
    assert notes_and_citing(doc) == [
        (1, "Id.", [" ".join(CLAIMS[:2])]), (2, "See Russonello, N.Y. Times (2021).", [" ".join(CLAIMS[:2])]),
        (3, "Thurgood Marshall, Hist. (2009).", [CLAIMS[2]])]
    assert [p.text for p in doc.paragraphs] == [" ".join(CLAIMS[:2]), CLAIMS[2]]


def test_noterefs_and_asides_and_the_page_chrome_left_out(tmp_path: Path) -> None:
    body = ('<header><nav><a href="/">Home</a> <a href="/about">About the journal and its editors</a></nav></header>'
            '<div class="sidebar"><p>Most read this week: a list of other articles</p></div>'
            '<main><article><header><h1>The Article Title</h1></header>'
            f'<p>{CLAIMS[0]}<a epub:type="noteref" role="doc-noteref" href="#n1">1</a></p>'
            '<aside id="n1" epub:type="footnote" role="doc-footnote"><p>1. The aside note.</p></aside>'
            f'<h2>Part Two</h2><p>{CLAIMS[1]}<a role="doc-noteref" href="#n2">2</a></p>'
            '<aside id="n2" role="doc-footnote">The second aside.</aside></article></main>'
            '<footer><p>Copyright the journal, all rights reserved, 2025.</p></footer>')
    doc = page(tmp_path, body)
    assert notes_and_citing(doc) == [(1, "The aside note.", [CLAIMS[0]]), (2, "The second aside.", [CLAIMS[1]])]
    assert [(p.section, p.text) for p in doc.paragraphs] == [("The Article Title", CLAIMS[0]), ("Part Two", CLAIMS[1])]


def test_hostile_pages_cost_one_line(tmp_path: Path) -> None:
    deep = page(tmp_path, "<p>Before the nesting.</p>" + "<div>" * 20_000 + "Deep text." + "</div>" * 20_000, "deep.html")
    assert [p.text for p in deep.paragraphs] == ["Before the nesting."]  # libxml2 stops at its depth limit
    with pytest.raises(DocumentError, match=r"empty\.html: .*empty"):
        page(tmp_path, "", "empty.html")
    (tmp_path / "binary.htm").write_bytes(b"\x00\x01\x02" * 1000)
    with pytest.raises(DocumentError, match=r"binary\.htm"):
        parse_file(tmp_path / "binary.htm")


def test_word_wikipedia_and_pandoc_pages(tmp_path: Path) -> None:
    word = (f'<div class=WordSection1><p class=MsoNormal>{CLAIMS[0]}<a style="mso-footnote-id:ftn1" href="#_ftn1" '
            'name="_ftnref1"><span class=MsoFootnoteReference><![if !supportFootnotes]>[1]<![endif]></span></a></p></div>'
            '<div style="mso-element:footnote-list"><div style="mso-element:footnote" id=ftn1><p class=MsoFootnoteText>'
            '<a href="#_ftnref1" name="_ftn1"><span class=MsoFootnoteReference>[1]</span></a> See Smith 12.</p>'
            '<p class=MsoFootnoteText>A second paragraph.</p></div></div>')
    assert notes_and_citing(page(tmp_path, word, "word.htm")) == [(1, "See Smith 12. A second paragraph.", [CLAIMS[0]])]
    wiki = (f'<p>{CLAIMS[0]}<sup id="cite_ref-a_1-0" class="reference"><a href="#cite_note-a-1">[1]</a></sup> {CLAIMS[1]}'
            '<sup id="cite_ref-a_1-1" class="reference"><a href="#cite_note-a-1">[1]</a></sup></p>'
            '<ol class="references"><li id="cite_note-a-1"><span class="mw-cite-backlink">^ <a href="#cite_ref-a_1-0">'
            '<sup><i><b>a</b></i></sup></a> <a href="#cite_ref-a_1-1"><sup><i><b>b</b></i></sup></a></span> '
            '<span class="reference-text">Smith, Harbours.</span></li></ol>')
    assert notes_and_citing(page(tmp_path, wiki, "wiki.html")) == [(1, "Smith, Harbours.", [" ".join(CLAIMS[:2])])]
    pandoc = (f'<p>{CLAIMS[0]}<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref"><sup>1</sup></a></p>'
              '<section class="footnotes" role="doc-endnotes"><hr /><ol><li id="fn1"><p>The note.<a href="#fnref1" '
              'class="footnote-back" role="doc-backlink">↩︎</a></p></li></ol></section>')
    assert notes_and_citing(page(tmp_path, pandoc, "pandoc.html")) == [(1, "The note.", [CLAIMS[0]])]


def test_raised_numbers_that_link_nowhere_find_their_list(tmp_path: Path) -> None:
    listed = (f'<article><p>{CLAIMS[0]}<sup>1</sup> The area is 5 km<sup>2</sup> wide.<sup>2</sup></p>'
              '<h2>Notes</h2><ol><li>Smith, Harbours 12.</li><li>Id. at 14.</li></ol></article>')
    doc = page(tmp_path, listed, "listed.html")
    assert notes_and_citing(doc) == [(1, "Smith, Harbours 12.", [f"{CLAIMS[0]} The area is 5 km² wide."]),
                                     (2, "Id. at 14.", [f"{CLAIMS[0]} The area is 5 km² wide."])]
    opened = (f'<p>{CLAIMS[0]}<sup>1</sup></p><p>{CLAIMS[1]}<sup>2</sup></p><hr>'
              '<p><sup>1</sup> Smith, Harbours 12.</p><p>2. Id. at 14.</p>')
    assert notes_and_citing(page(tmp_path, opened, "opened.html")) == [
        (1, "Smith, Harbours 12.", [CLAIMS[0]]), (2, "Id. at 14.", [CLAIMS[1]])]
    powers = f'<p>{CLAIMS[0]} It is 10<sup>3</sup> metres.</p><p>1. A numbered paragraph.</p>'
    assert page(tmp_path, powers, "powers.html").footnotes == ()  # 3 with no 1 and 2: no notes


def test_gutenberg_wordpress_plugins_and_screen_reader_labels(tmp_path: Path) -> None:
    gutenberg = (f'<p>{CLAIMS[0]}<a id="FNanchor_A_1" href="#Footnote_A_1" class="fnanchor">[A]</a></p>'
                 '<div class="footnote"><p><a id="Footnote_A_1" href="#FNanchor_A_1"><span class="label">[A]</span></a>'
                 ' Herodotus, i. 1.</p><p>Continued.</p></div>')
    assert notes_and_citing(page(tmp_path, gutenberg, "pg.html")) == [("A", "Herodotus, i. 1. Continued.", [CLAIMS[0]])]
    easy = (f'<p>{CLAIMS[0]}<span class="easy-footnote-margin-adjust" id="easy-footnote-1-9"></span><span '
            'class="easy-footnote"><a href="#easy-footnote-bottom-1-9" title="Note one."><sup>1</sup></a></span></p>'
            '<ol class="easy-footnotes-wrapper"><li class="easy-footnote-single"><span id="easy-footnote-bottom-1-9" '
            'class="easy-footnote-margin-adjust"></span>Note one.<a class="easy-footnote-to-top" href="#easy-footnote-1-9">'
            '</a></li></ol>')
    assert notes_and_citing(page(tmp_path, easy, "easy.html")) == [(1, "Note one.", [CLAIMS[0]])]
    made_easy = (f'<p>{CLAIMS[0]}<sup><a href="#footnote_0_5" id="identifier_0_5" class="footnote-link">1</a></sup></p>'
                 '<ol class="footnotes"><li id="footnote_0_5" class="footnote">Note one. [<a href="#identifier_0_5" '
                 'class="footnote-link footnote-back-link">↩</a>]</li></ol>')
    assert notes_and_citing(page(tmp_path, made_easy, "made.html")) == [(1, "Note one.", [CLAIMS[0]])]
    spoken = (f'<p>{CLAIMS[0]}<a href="#fn-1" id="ref-1"><span class="sr-only">Footnote </span>1</a></p>'
              '<ol><li id="fn-1">Note one. <a href="#ref-1" aria-label="Back to content">↩</a></li></ol>')
    assert notes_and_citing(page(tmp_path, spoken, "spoken.html")) == [(1, "Note one.", [CLAIMS[0]])]


def test_links_to_the_pages_own_address_are_in_page_links(tmp_path: Path) -> None:
    url = "https://journal.example.org/article/harbours/"
    body = (f'<p>{CLAIMS[0]}<sup><a href="{url}#fn1" id="r1">1</a></sup></p>'
            f'<p>Elsewhere<sup><a href="https://other.example.org/x#fn1">2</a></sup>.</p>'
            f'<ol><li id="fn1">Note one. <a href="{url}#r1">↩</a></li></ol>')
    path = tmp_path / "saved.html"
    path.write_text(f'<html><head><link rel="canonical" href="{url}"></head><body>{body}</body></html>', encoding="utf-8")
    doc = parse_file(path)
    assert notes_and_citing(doc) == [(1, "Note one.", [CLAIMS[0]])]
    assert doc.paragraphs[1].text == "Elsewhere2."  # a link to another site's note is no marker


def test_encodings_and_an_xml_declaration(tmp_path: Path) -> None:
    xhtml = tmp_path / "x.html"
    xhtml.write_bytes('<?xml version="1.0" encoding="utf-8"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Café'
                      '<a href="#n1">1</a></p><ol><li id="n1">A note.</li></ol></body></html>'.encode())
    doc = parse_file(xhtml)
    assert [(p.text, p.footnotes) for p in doc.paragraphs] == [("Café", (1,))] and doc.footnotes[0].text == "A note."
    latin = tmp_path / "latin.htm"
    latin.write_bytes("<html><body><p>Latin café</p></body></html>".encode("latin-1"))
    assert parse_file(latin).paragraphs[0].text == "Latin café"
    declared = tmp_path / "declared.html"
    declared.write_bytes('<html><head><meta charset="windows-1252"></head><body><p>“Quoted”</p></body></html>'.encode("cp1252"))
    assert parse_file(declared).paragraphs[0].text == "“Quoted”"


def test_a_list_repeating_notes_set_in_place_is_not_body(tmp_path: Path) -> None:
    tip = ('<sup class="modern-footnotes-footnote"><a href="javascript:void(0)" aria-describedby="mfn-{i}">{i}</a></sup>'
           '<span id="mfn-{i}" role="tooltip" class="modern-footnotes-footnote__note">{text}</span>')
    notes = {1: "See Russonello, N.Y. Times (2021).", 2: "Port records of the harbour, 1821."}
    body = (f'<p>{CLAIMS[0]}{tip.format(i=1, text=notes[1])}</p><p>{CLAIMS[1]}{tip.format(i=2, text=notes[2])}</p>'
            f'<div class="modern-footnotes-list"><p>1. {notes[1]}</p><p>2 {notes[2]}</p></div><p>{CLAIMS[2]}</p>')
    doc = page(tmp_path, body)
    assert notes_and_citing(doc) == [(1, notes[1], [CLAIMS[0]]), (2, notes[2], [CLAIMS[1]])]
    assert [p.text for p in doc.paragraphs] == list(CLAIMS)


def test_docutils_texinfo_and_definition_list_notes(tmp_path: Path) -> None:
    docutils = (f'<div class="document"><p>{CLAIMS[0]} <a class="footnote-reference" href="#footnote-1" '
                'id="footnote-reference-1">[1]</a>.</p><table class="docutils footnote" id="footnote-1"><tbody><tr>'
                '<td class="label"><a class="fn-backref" href="#footnote-reference-1">[1]</a></td><td><p>Smith 12.</p>'
                '<p>More.</p></td></tr></tbody></table></div>')
    doc = page(tmp_path, docutils, "html4.html")
    assert notes_and_citing(doc) == [(1, "Smith 12. More.", [f"{CLAIMS[0]} ."])]
    texinfo = (f'<p>{CLAIMS[0]}<a id="DOCF1" href="#FOOT1"><sup>1</sup></a>.</p><p>See <a href="#x">3</a>.</p>'
               '<table><tr><th id="x">3</th></tr></table><h4 class="footnotes-heading">Footnotes</h4>'
               '<h5><a id="FOOT1" href="#DOCF1">(1)</a></h5><p>Actually, it is done with the CRT.</p>')
    doc = page(tmp_path, texinfo, "texinfo.html")
    assert notes_and_citing(doc) == [(1, "Actually, it is done with the CRT.", [f"{CLAIMS[0]}."])]
    assert all(p.section != "(1)" for p in doc.paragraphs)
    dl = (f'<p>{CLAIMS[0]}<sup><a href="#n1" id="r1">1</a></sup></p><dl class="notes"><dt id="n1">1</dt>'
          '<dd>The definition-list note.</dd></dl>')
    assert notes_and_citing(page(tmp_path, dl, "dl.html")) == [(1, "The definition-list note.", [CLAIMS[0]])]


def test_remove_all_leaves_the_text_one_by_one_removal_leaves() -> None:
    from lxml import etree

    from qa.htmlnotes import remove, remove_all
    xml = "<p>a<b>1</b>b<i>2</i><b>3</b>c<i>4</i><u>k<b>5</b>x</u><b>6</b></p>"
    one, batch = etree.fromstring(xml), etree.fromstring(xml)
    for el in [el for el in one.iter() if el.tag == "b"]:
        remove(el, f"[{el.text}]")
    remove_all([(el, f"[{el.text}]") for el in batch.iter() if el.tag == "b"])
    assert etree.tostring(batch) == etree.tostring(one) == b"<p>a[1]b<i>2</i>[3]c<i>4</i><u>k[5]x</u>[6]</p>"


def test_many_markers_cost_each_note_its_own_markers_and_the_paragraph_one_write(tmp_path: Path, monkeypatch) -> None:
    # a hostile page of 300,000 links to one note (9 MB) took over 300 s: each note's text looked at every
    # marker, and each marker put in its place rewrote its paragraph's whole text
    from qa import html, htmlnotes
    seen: list[int] = []
    writes: list[int] = []
    note_text, set_text = html.note_text, getattr(htmlnotes, "_set_text", None)
    monkeypatch.setattr(html, "note_text", lambda note, label, own: seen.append(len(own)) or note_text(note, label, own))
    monkeypatch.setattr(htmlnotes, "_set_text", lambda *a: writes.append(1) or set_text(*a), raising=False)
    refs = "".join(f'<sup><a href="#n{i % 3}">{i % 3 + 1}</a></sup>' for i in range(600))
    doc = page(tmp_path, f'<p>Claim.{refs}</p><ol>' + "".join(f'<li id="n{i}">Note {i}.</li>' for i in range(3)) + "</ol>")
    assert [f.text for f in doc.footnotes] == ["Note 0.", "Note 1.", "Note 2."]
    assert set(doc.paragraphs[0].footnotes) == {1, 2, 3} and doc.paragraphs[0].text == "Claim."
    assert sorted(seen) == [200, 200, 200]  # each note its own markers, not all 600
    assert len(writes) < 20  # the paragraph's text written once, not once per marker
