"""EPUB reader: books written here as XHTML in a zip, each asserting notes exact and attached."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qa.errors import DocumentError
from qa.parse import parse_file

CONTAINER = ('<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
             '<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/>'
             '</rootfiles></container>')


def xhtml(body: str) -> str:
    return ('<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" '
            f'xmlns:epub="http://www.idpf.org/2007/ops"><head><title>x</title></head><body>{body}</body></html>')


def make_epub(path: Path, files: dict[str, str], spine: list[str]) -> Path:
    items = "".join(f'<item id="i{n}" href="{name}" media-type="application/xhtml+xml"/>' for n, name in enumerate(files))
    refs = "".join(f'<itemref idref="i{list(files).index(name)}"/>' for name in spine)
    opf = (f'<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><manifest>{items}'
           f'</manifest><spine>{refs}</spine></package>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/epub+zip")
        z.writestr("META-INF/container.xml", CONTAINER)
        z.writestr("OEBPS/content.opf", opf)
        for name, text in files.items():
            z.writestr(f"OEBPS/{name}", text)
    return path


def ref(n: int, target: str = "") -> str:
    return f'<a href="{target}#note-{n}" id="noteref-{n}" epub:type="noteref">{n}</a>'


def test_endnotes_of_the_book_in_spine_order(tmp_path: Path) -> None:
    files = {
        "text/endnotes.xhtml": xhtml('<section epub:type="endnotes"><h2>Endnotes</h2><ol>'
                                    + "".join(f'<li id="note-{n}" epub:type="endnote"><p>Note {n}, see <a href="ch1.xhtml'
                                              f'#p2">12</a>. <a href="ch{1 if n < 3 else 2}.xhtml#noteref-{n}" '
                                              'epub:type="backlink">↩</a></p></li>' for n in (1, 2, 3)) + '</ol></section>'),
        "text/ch2.xhtml": xhtml(f'<section><h2>II</h2><p>The second chapter cites{ref(3, "endnotes.xhtml")}.</p></section>'),
        "text/ch1.xhtml": xhtml(f'<section><header><h2>I</h2><p>The First Chapter Title</p></header>'
                                f'<p>One claim{ref(1, "endnotes.xhtml")} and another{ref(2, "endnotes.xhtml")}.</p>'
                                '<p id="p2">A stanza line,<br/>and the next line.</p></section>'),
    }
    doc = parse_file(make_epub(tmp_path / "book.epub", files, ["text/ch1.xhtml", "text/ch2.xhtml", "text/endnotes.xhtml"]))
    assert [(f.marker, f.text) for f in doc.footnotes] == [(n, f"Note {n}, see 12.") for n in (1, 2, 3)]
    assert [(p.section, p.text, p.footnotes) for p in doc.paragraphs] == [
        ("I", "The First Chapter Title", ()), ("I", "One claim and another.", (1, 2)),
        ("I", "A stanza line, and the next line.", ()), ("II", "The second chapter cites.", (3,))]


def test_notes_per_chapter_restart_and_footnotes_in_asides(tmp_path: Path) -> None:
    def chapter(title: str, count: int) -> str:
        refs = "".join(f"Claim {n}{ref(n)}. " for n in range(1, count + 1))
        notes = "".join(f'<li id="note-{n}" epub:type="rearnote"><p>{title} note {n}.</p></li>' for n in range(1, count + 1))
        return xhtml(f'<h1>{title}</h1><p>{refs}</p><aside epub:type="rearnotes"><ol>{notes}</ol></aside>')
    aside = xhtml('<h1>Three</h1><p>A footnote here<a href="#fn1" epub:type="noteref">*</a>.</p>'
                  '<aside id="fn1" epub:type="footnote"><p>* The starred note.</p></aside>')
    files = {"one.xhtml": chapter("One", 2), "two.xhtml": chapter("Two", 1), "three.xhtml": aside}
    doc = parse_file(make_epub(tmp_path / "b.epub", files, list(files)))
    assert [(f.marker, f.text) for f in doc.footnotes] == [
        (1, "One note 1."), (2, "One note 2."), ("2:1", "Two note 1."), ("*", "The starred note.")]
    assert [p.footnotes for p in doc.paragraphs] == [(1, 2), ("2:1",), ("*",)]


def test_xhtml_that_is_not_well_formed_is_read_as_html(tmp_path: Path) -> None:
    files = {"c.xhtml": '<html><body><p>Caf&eacute; society&nbsp;now<a href="#n1" epub:type="noteref">1</a>.<br>'
                        '<aside id="n1" epub:type="footnote">The note.</aside></body></html>'}
    doc = parse_file(make_epub(tmp_path / "loose.epub", files, ["c.xhtml"]))
    assert [(f.marker, f.text) for f in doc.footnotes] == [(1, "The note.")]
    assert doc.paragraphs[0].text == "Café society now." and doc.paragraphs[0].footnotes == (1,)


def test_hostile_and_broken_books_cost_one_line(tmp_path: Path) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE html [<!ENTITY a "haha"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
              '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>&b;</p></body></html>')
    with pytest.raises(DocumentError, match="declares entities"):
        parse_file(make_epub(tmp_path / "laughs.epub", {"a.xhtml": laughs}, ["a.xhtml"]))
    no_container = tmp_path / "bare.epub"
    with zipfile.ZipFile(no_container, "w") as z:
        z.writestr("mimetype", "application/epub+zip")
    with pytest.raises(DocumentError, match=r"bare\.epub: not a valid EPUB book \(\.epub\): it has no META-INF/container\.xml"):
        parse_file(no_container)
    with pytest.raises(DocumentError, match="lists no readable XHTML"):
        parse_file(make_epub(tmp_path / "empty.epub", {}, []))


def test_a_chapters_header_and_asides_are_its_text(tmp_path: Path) -> None:
    files = {"c.xhtml": xhtml('<header><h1>Chapter One</h1><p>In Which the Harbour Is Dredged</p></header>'
                              f'<p>The harbour was dredged{ref(1)}.</p><aside epub:type="sidebar"><p>A box on dredgers '
                              'and their crews.</p></aside><aside id="note-1" epub:type="footnote"><p>Port records.</p></aside>'
                              '<footer><p>End of the first chapter.</p></footer>')}
    doc = parse_file(make_epub(tmp_path / "h.epub", files, ["c.xhtml"]))
    assert [(p.section, p.text) for p in doc.paragraphs] == [
        ("Chapter One", "In Which the Harbour Is Dredged"), ("Chapter One", "The harbour was dredged."),
        ("Chapter One", "A box on dredgers and their crews."), ("Chapter One", "End of the first chapter.")]
    assert [(f.marker, f.text) for f in doc.footnotes] == [(1, "Port records.")]


def test_a_note_linking_to_the_paragraph_that_cites_it_keeps_the_link_text(tmp_path: Path) -> None:
    files = {"c.xhtml": xhtml(f'<p id="p-110">Two cases follow{ref(1, "notes.xhtml")}.</p>'),
             "notes.xhtml": xhtml('<ol><li id="note-1"><p>See <a href="c.xhtml#p-110">Appendix</a> to this lecture. '
                                  '<a href="c.xhtml#noteref-1" epub:type="backlink">↩</a></p></li></ol>')}
    doc = parse_file(make_epub(tmp_path / "j.epub", files, list(files)))
    assert [(f.marker, f.text) for f in doc.footnotes] == [(1, "See Appendix to this lecture.")]
