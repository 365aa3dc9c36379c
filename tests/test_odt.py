"""OpenDocument reader: .odt files written here as XML in a zip, each asserting notes exact and attached."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qa.errors import DocumentError
from qa.parse import parse_file

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
      'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0"')
STYLES = ('<office:automatic-styles><style:style style:name="Gone" style:family="text">'
          '<style:text-properties text:display="none"/></style:style></office:automatic-styles>')


def note(label: str, text: str, kind: str = "footnote") -> str:
    return (f'<text:note text:note-class="{kind}"><text:note-citation>{label}</text:note-citation>'
            f'<text:note-body><text:p>{text}</text:p></text:note-body></text:note>')


def make_odt(path: Path, body: str) -> Path:
    content = (f'<office:document-content {NS}>{STYLES}<office:body><office:text>{body}'
               '</office:text></office:body></office:document-content>')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", content)
    return path


def test_notes_in_place_with_their_printed_citation(tmp_path: Path) -> None:
    body = ('<text:h text:outline-level="1">Grundlagen</text:h>'
            f'<text:p>First claim{note("1", "Vgl. Bremus, 2013, S. 18.")}. Second<text:s text:c="2"/>claim'
            f'<text:span>{note("2", "Vgl. <text:span>Hellbusch</text:span>, 2005.")}</text:span>.</text:p>'
            '<text:h text:outline-level="1">Chapter two</text:h>'
            f'<text:p>Again from one{note("1", "A new chapter numbers again.")}.</text:p>'
            f'<text:p>An endnote{note("i", "The first endnote.", "endnote")} and{note("ii", "The second.", "endnote")}.</text:p>')
    doc = parse_file(make_odt(tmp_path / "thesis.odt", body))
    assert {f.marker: f.text for f in doc.footnotes} == {
        1: "Vgl. Bremus, 2013, S. 18.", 2: "Vgl. Hellbusch, 2005.", "2:1": "A new chapter numbers again.",
        "3:1": "The first endnote.", "3:2": "The second."}
    assert [(p.section, p.text, p.footnotes) for p in doc.paragraphs] == [
        ("Grundlagen", "First claim. Second claim.", (1, 2)),
        ("Chapter two", "Again from one.", ("2:1",)),
        ("Chapter two", "An endnote and.", ("3:1", "3:2"))]


def test_deleted_hidden_and_boxed_text(tmp_path: Path) -> None:
    body = ('<text:tracked-changes><text:changed-region><text:deletion><text:p>Deleted words.</text:p>'
            '</text:deletion></text:changed-region></text:tracked-changes>'
            '<text:p>Shown<text:s text:c="x"/><text:span text:style-name="Gone">not shown </text:span>'
            '<text:hidden-text text:string-value="x"/>'
            f'text{note("1", "Note one.")}.<draw:frame><draw:text-box><text:p>In a box{note("2", "Note two.")}.</text:p>'
            '</draw:text-box></draw:frame></text:p>'
            '<table:table><table:table-row><table:table-cell><text:p>Cell A.</text:p></table:table-cell>'
            '<table:table-cell><text:p>Cell B.</text:p></table:table-cell></table:table-row></table:table>'
            '<text:list><text:list-item><text:p>An item.</text:p></text:list-item></text:list>')
    doc = parse_file(make_odt(tmp_path / "t.odt", body))
    assert [(p.text, p.footnotes) for p in doc.paragraphs] == [
        ("Shown text.", (1,)), ("In a box.", (2,)), ("Cell A.", ()), ("Cell B.", ()), ("An item.", ())]
    assert [f.text for f in doc.footnotes] == ["Note one.", "Note two."]


def test_a_document_without_content_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.odt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
    with pytest.raises(DocumentError, match=r"empty\.odt: not a valid OpenDocument text .* no content\.xml"):
        parse_file(path)


def test_text_nested_deeper_than_the_reader_walks_is_said_so(tmp_path: Path) -> None:
    # 240 nested sections (under libxml2's 256, over the reader's 200) asked "is the file empty?" of a file
    # that is not
    path = make_odt(tmp_path / "deep.odt", "<text:section>" * 240 + "<text:p>Deep text.</text:p>" + "</text:section>" * 240)
    with pytest.raises(DocumentError, match=r"deep\.odt: no text found; .*nested too deep to read"):
        parse_file(path)
