"""Word reader: .docx files written here as XML in a zip, each asserting notes exact and attached."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from qa.errors import DocumentError
from qa.parse import parse_file
from qa.records import Document, Marker

NS = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
      'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
      'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"')
STYLES = (f'<w:styles {NS}><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style>'
          '<w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter"/><w:basedOn w:val="Heading1"/></w:style>'
          '<w:style w:type="character" w:styleId="Secret"><w:name w:val="Secret"/><w:rPr><w:vanish/></w:rPr></w:style>'
          '</w:styles>')


def run(text: str, props: str = "") -> str:
    return f'<w:r>{f"<w:rPr>{props}</w:rPr>" if props else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'


def fref(n: int, kind: str = "footnote") -> str:
    return f'<w:r><w:rPr><w:vertAlign w:val="superscript"/></w:rPr><w:{kind}Reference w:id="{n}"/></w:r>'


def para(*runs: str, style: str = "", sect: str = "") -> str:
    ppr = (f'<w:pStyle w:val="{style}"/>' if style else "") + sect
    return f'<w:p>{f"<w:pPr>{ppr}</w:pPr>" if ppr else ""}{"".join(runs)}</w:p>'


def notes(kind: str, texts: dict[int, str]) -> str:
    body = "".join(f'<w:{kind} w:id="{i}"><w:p><w:r><w:{kind}Ref/></w:r>{run(" " + t)}</w:p></w:{kind}>'
                   for i, t in texts.items())
    sep = f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
    return f'<w:{kind}s {NS}>{sep}{body}</w:{kind}s>'


def make_docx(path: Path, body: str, footnotes: dict[int, str] | None = None, endnotes: dict[int, str] | None = None,
              settings: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", f'<w:document {NS}><w:body>{body}</w:body></w:document>')
        z.writestr("word/styles.xml", STYLES)
        z.writestr("word/settings.xml", f'<w:settings {NS}>{settings}</w:settings>')
        if footnotes:
            z.writestr("word/footnotes.xml", notes("footnote", footnotes))
        if endnotes:
            z.writestr("word/endnotes.xml", notes("endnote", endnotes))
    return path


def cited(doc: Document, key: Marker) -> list[str]:
    return [p.text for p in doc.paragraphs if key in p.footnotes]


def test_notes_restart_per_section_and_are_attached(tmp_path: Path) -> None:
    restart = '<w:sectPr><w:footnotePr><w:numRestart w:val="eachSect"/></w:footnotePr></w:sectPr>'  # ends a section
    body = (para(run("Part One"), style="Heading1")
            + para(run("The first claim."), fref(10), run(" The second claim."), fref(11))
            + para(run("A third claim."), fref(12), sect=restart)
            + para(run("Appendix"), style="Chapter")
            + para(run("Appendix claim."), fref(13))
            + restart)  # the body's last section
    path = make_docx(tmp_path / "order.docx", body,
                     {10: "First note.", 11: "Second note.", 12: "Third note.", 13: "Appendix note one."})
    doc = parse_file(path)
    assert {f.marker: f.text for f in doc.footnotes} == {
        1: "First note.", 2: "Second note.", 3: "Third note.", "2:1": "Appendix note one."}
    assert cited(doc, 1) == cited(doc, 2) == ["The first claim. The second claim."]
    assert cited(doc, "2:1") == ["Appendix claim."]
    assert [p.section for p in doc.paragraphs] == ["Part One", "Part One", "Appendix"]  # a style based on a heading


def test_hidden_text_deletions_and_field_codes_are_left_out(tmp_path: Path) -> None:
    body = para(run("Kept "), run("vanished ", "<w:vanish/>"), run("styled away ", '<w:rStyle w:val="Secret"/>'),
                '<w:del><w:r><w:delText>deleted </w:delText></w:r></w:del>',
                '<w:ins><w:r><w:t xml:space="preserve">inserted </w:t></w:r></w:ins>',
                '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGEREF _Toc1 </w:instrText></w:r>'
                '<w:r><w:fldChar w:fldCharType="separate"/></w:r>', run("7"), '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
                run(" text."), fref(2))
    hidden = '<w:r><w:rPr><w:vanish/></w:rPr><w:t>secret </w:t></w:r>'
    doc = parse_file(make_docx(tmp_path / "h.docx", body, {2: f"A note with {hidden}"}))
    assert doc.paragraphs[0].text == "Kept inserted 7 text."
    assert doc.footnotes[0].text == "A note with"  # the hidden run in the note is left out too
    assert doc.paragraphs[0].footnotes == (1,)


def test_tables_and_text_boxes_are_paragraphs_of_their_own(tmp_path: Path) -> None:
    box = ('<w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx><w:txbxContent>'
           + para(run("Boxed text."), fref(3)) + '</w:txbxContent></wps:txbx></w:drawing></mc:Choice>'
           '<mc:Fallback><w:pict><w:txbxContent>' + para(run("Boxed text.")) + '</w:txbxContent></w:pict></mc:Fallback>'
           '</mc:AlternateContent></w:r>')
    table = ('<w:tbl><w:tr><w:tc>' + para(run("Cell one."), fref(4)) + '</w:tc><w:tc>' + para(run("Cell two."))
             + '</w:tc></w:tr></w:tbl>')
    body = para(run("Before the box."), fref(2), box, run(" After it.")) + table + para(run("Last."))
    doc = parse_file(make_docx(tmp_path / "t.docx", body, {2: "Two.", 3: "Three.", 4: "Four."}))
    assert [p.text for p in doc.paragraphs] == ["Before the box. After it.", "Boxed text.", "Cell one.", "Cell two.", "Last."]
    assert [p.footnotes for p in doc.paragraphs[:3]] == [(1,), (2,), (3,)]
    assert [f.text for f in doc.footnotes] == ["Two.", "Three.", "Four."]


def test_endnotes_roman_custom_marks_and_number_start(tmp_path: Path) -> None:
    settings = '<w:footnotePr><w:numStart w:val="5"/></w:footnotePr>'
    custom = '<w:r><w:footnoteReference w:customMarkFollows="1" w:id="7"/><w:t>*</w:t></w:r>'
    body = para(run("Title claim"), custom) + para(run("A claim."), fref(2), run(" An aside."), fref(3, "endnote"),
                                                  run(" More."), fref(4, "endnote"), run(" Then."), fref(5))
    doc = parse_file(make_docx(tmp_path / "e.docx", body, {7: "Author note.", 2: "Foot five.", 5: "Foot six."},
                               {3: "End one.", 4: "End two."}, settings))
    notes = {f.marker: f.text for f in doc.footnotes}
    # endnotes print i, ii (their own series after the footnotes'); the custom mark takes no number
    assert notes == {"*": "Author note.", 5: "Foot five.", 6: "Foot six.", "2:1": "End one.", "2:2": "End two."}
    assert doc.paragraphs[0].footnotes == ("*",)
    assert doc.paragraphs[1].footnotes == (5, "2:1", "2:2", 6)


def test_a_zip_bomb_and_a_zip_in_a_zip_are_refused_in_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<" + b" " * (300 * 2**20))
    with pytest.raises(DocumentError, match=r"bomb\.docx: refused: .*zip bomb") as err:
        parse_file(bomb)
    assert "\n" not in str(err.value)
    inner = make_docx(tmp_path / "inner.docx", para(run("x")))
    outer = tmp_path / "outer.docx"
    with zipfile.ZipFile(outer, "w") as z:
        z.write(inner, "inner.docx")
    with pytest.raises(DocumentError, match="zip inside a zip"):
        parse_file(outer)


def test_entities_and_damaged_xml_are_refused(tmp_path: Path) -> None:
    laughs = ('<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "ha"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              f'<w:document {NS}><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>')
    path = tmp_path / "laughs.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", laughs)
    with pytest.raises(DocumentError, match="declares entities"):
        parse_file(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/document.xml", "<w:document" + "<a>" * 5000)
    with pytest.raises(DocumentError, match="damaged"):
        parse_file(path)
    (tmp_path / "not.docx").write_bytes(b"plain text, no zip")
    with pytest.raises(DocumentError, match="not a valid Word document"):
        parse_file(tmp_path / "not.docx")
