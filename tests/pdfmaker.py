"""Test helper: lay a parsed document out as a footnoted PDF, with three producers.

``fpdf_pdf`` typesets with fpdf2 and its own pagination: superscript markers (smaller,
raised), each footnote at the bottom of the page where its marker falls, paragraphs
that cross pages, long URLs cut across lines, bold headings, a running header and
page numbers. ``fodt_xml`` writes the same document as flat ODF with real
``<text:note>`` footnotes, for LibreOffice to paginate and export (``soffice_pdf``).

DejaVu Sans has no CJK glyphs and no CJK font is installed, so characters the font
cannot draw (the 外国青書 of footnote 18) are written as "?" in the fpdf2 PDF;
LibreOffice gets the original text and substitutes a font itself. ``latex_tex`` writes
it as a LaTeX article with real ``\\footnote``s and ``\\url``s for pdfTeX (``latex_pdf``);
pdfLaTeX cannot typeset CJK without CJK fonts and packages, so 外国青書 is written "?".
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from fpdf import FPDF

from qa.records import Document

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
_MARK = re.compile(r"\[(\d+)\]")

# Layout in mm (A4), font sizes in pt.
_LEFT, _TOP, _WIDTH, _BOTTOM = 22.0, 22.0, 166.0, 270.0
_BODY, _NOTE, _SUP, _HEAD, _TITLE = 11.0, 8.0, 7.0, 13.0, 17.0
_PT = 0.3528  # mm per pt


def _pieces(display: str, markers: set[int]) -> list[tuple[str, bool]]:
    """Split display text into (text, is_marker) pieces; only real footnote markers count."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _MARK.finditer(display):
        if int(m.group(1)) in markers:
            out.append((display[pos:m.start()], False))
            out.append((m.group(1), True))
            pos = m.end()
    out.append((display[pos:], False))
    return [p for p in out if p[0]]


class _Maker:
    def __init__(self, document: Document) -> None:
        self.doc = document
        self.notes = {n.marker: n.text.replace("*", "") for n in document.footnotes}
        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_auto_page_break(False)
        self.pdf.add_font("DejaVu", "", str(FONT))
        self.pdf.add_font("DejaVu", "B", str(FONT_BOLD))
        self.cmap = set(self.pdf.fonts["dejavu"].cmap) if hasattr(self.pdf.fonts["dejavu"], "cmap") else None
        self.y = _TOP
        self.page_notes: list[int] = []

    def safe(self, text: str) -> str:
        if self.cmap is None:
            return text
        return "".join(ch if ord(ch) in self.cmap or ch in " \n" else "?" for ch in text)

    def width(self, text: str, size: float, bold: bool = False) -> float:
        self.pdf.set_font("DejaVu", "B" if bold else "", size)
        return self.pdf.get_string_width(self.safe(text))

    def new_page(self) -> None:
        if self.pdf.page:
            self.flush_notes()
        self.pdf.add_page()
        self.y = _TOP
        self.page_notes = []
        self.pdf.set_font("DejaVu", "", 8)
        if self.pdf.page > 1:
            self.pdf.text(_LEFT, 13, "Ambitions and Limits · Martens Centre Policy Brief")
        self.pdf.set_font("DejaVu", "", 9)
        self.pdf.text(_LEFT + _WIDTH / 2, 285, str(self.pdf.page))

    # -- footnotes --------------------------------------------------------------
    def note_lines(self, marker: int) -> list[str]:
        return self.wrap_plain(self.notes[marker], _NOTE, _WIDTH - 4)

    def notes_height(self, markers: list[int]) -> float:
        if not markers:
            return 0.0
        lines = sum(len(self.note_lines(m)) for m in markers)
        return 4.0 + lines * _NOTE * _PT * 1.3 + len(markers) * 0.6

    def flush_notes(self) -> None:
        if not self.page_notes:
            return
        y = _BOTTOM - self.notes_height(self.page_notes) + 4.0
        self.pdf.line(_LEFT, y - 3.0, _LEFT + 50, y - 3.0)
        for marker in self.page_notes:
            y += _NOTE * _PT
            self.pdf.set_font("DejaVu", "", _SUP * 0.85)
            self.pdf.text(_LEFT, y - 1.2, str(marker))
            self.pdf.set_font("DejaVu", "", _NOTE)
            for line in self.note_lines(marker):
                self.pdf.text(_LEFT + 4, y, self.safe(line))
                y += _NOTE * _PT * 1.3
            y += 0.6 - _NOTE * _PT * 0.3

    def wrap_plain(self, text: str, size: float, width: float) -> list[str]:
        """Greedy wrap; a word longer than the line (a URL) is cut by characters."""
        lines: list[str] = []
        line = ""
        for word in text.split():
            trial = f"{line} {word}" if line else word
            if self.width(trial, size) <= width:
                line = trial
                continue
            if line:
                lines.append(line)
            line = ""
            rest = word
            while self.width(rest, size) > width:
                cut = len(rest)
                while self.width(rest[:cut], size) > width:
                    cut -= 1
                lines.append(rest[:cut])
                rest = rest[cut:]
            line = rest
        if line:
            lines.append(line)
        return lines

    # -- body -------------------------------------------------------------------
    def body_lines(self, display: str, markers: set[int]) -> list[list[tuple[str, bool]]]:
        """Wrap a paragraph into lines of (text, is_marker) pieces; markers stay glued."""
        words: list[list[tuple[str, bool]]] = []  # each word: pieces with no space between
        for text, is_marker in _pieces(display, markers):
            if is_marker:
                if words and not text.startswith(" ") and words[-1] and not _ends_space(words[-1]):
                    words[-1].append((text, True))
                else:
                    words.append([(text, True)])
                continue
            parts = re.split(r"( +)", text)
            for i, part in enumerate(parts):
                if not part or part.isspace():
                    if part and words:
                        words[-1].append((" ", False))  # remember the space after
                    continue
                if i == 0 and words and not _ends_space(words[-1]):
                    words[-1].append((part, False))
                else:
                    words.append([(part, False)])
        lines: list[list[tuple[str, bool]]] = []
        line: list[tuple[str, bool]] = []
        for pieces in words:
            word = [p for p in pieces if p[0] != " "]
            trial = line + ([(" ", False)] if line else []) + word
            if line and self.pieces_width(trial) > _WIDTH:
                lines.append(line)
                trial = word
            line = trial
        if line:
            lines.append(line)
        return lines

    def pieces_width(self, pieces: list[tuple[str, bool]]) -> float:
        return sum(self.width(t, _SUP if m else _BODY) for t, m in pieces)

    def heading(self, text: str, size: float) -> None:
        lines = self.wrap_plain(text, size, _WIDTH)
        need = len(lines) * size * _PT * 1.3 + 3 * _BODY * _PT * 1.4
        if self.y + need > _BOTTOM - self.notes_height(self.page_notes):
            self.new_page()
        self.y += 3.0
        self.pdf.set_font("DejaVu", "B", size)
        for line in lines:
            self.y += size * _PT * 1.3
            self.pdf.text(_LEFT, self.y, self.safe(line))
        self.y += 2.5

    def paragraph(self, display: str, markers: set[int]) -> None:
        lead = _BODY * _PT * 1.45
        for pieces in self.body_lines(display, markers):
            cited = [int(t) for t, m in pieces if m]
            room = _BOTTOM - self.notes_height(self.page_notes + cited)
            if self.y + lead > room:
                self.new_page()
            self.y += lead
            x = _LEFT
            for text, is_marker in pieces:
                size = _SUP if is_marker else _BODY
                self.pdf.set_font("DejaVu", "", size)
                self.pdf.text(x, self.y - (1.3 if is_marker else 0.0), self.safe(text))
                x += self.pdf.get_string_width(self.safe(text))
            self.page_notes += cited
        self.y += 2.2

    def build(self) -> bytes:
        self.new_page()
        section: object = object()
        for p in self.doc.paragraphs:
            if p.section is None:  # front matter: title block and credits-like lines
                parts = p.display.split(" — ")
                if p.number == 2 or (len(parts) > 1 and len(parts[0]) > 60):
                    self.heading(parts[0], _TITLE)
                    parts = parts[1:]
                for part in parts:
                    self.paragraph(part, set())
                continue
            if p.section != section:
                section = p.section
                self.heading(p.section, _HEAD)
            self.paragraph(p.display, set(p.footnotes))
        self.flush_notes()
        return bytes(self.pdf.output())


def _ends_space(word: list[tuple[str, bool]]) -> bool:
    return bool(word) and word[-1][0] == " "


Run = tuple[float, float, float, str]  # x mm, baseline mm, size pt, text


def hand_pdf(path: Path, pages: list[list[Run]], bold_at: frozenset[tuple[int, int]] = frozenset(),
             spaceless: bool = False) -> Path:
    """Return a PDF of runs placed by hand, page by page; ``bold_at`` holds (page, run) pairs.
    In a run's text, "^N" is note marker N (digits or roman: "^iv") set smaller and raised right after the text before it,
    "^^N" one raised at full size (Arbortext). ``spaceless``: every word is drawn on its own at its
    place and no space character is drawn (as Prince does), so word spaces can only be told from
    the glyphs' positions."""
    pdf = FPDF(format="A4", unit="mm")
    pdf.add_font("DejaVu", "", str(FONT))
    pdf.add_font("DejaVu", "B", str(FONT_BOLD))
    for p, runs in enumerate(pages):
        pdf.add_page()
        for i, (start, y, size, text) in enumerate(runs):
            style, x = "B" if (p, i) in bold_at else "", start
            for piece in re.split(r"(\^\^?(?:\d+|[ivxlc]+))", text):
                if piece.startswith("^"):
                    full = piece.startswith("^^")
                    pdf.set_font("DejaVu", style, size if full else 0.62 * size)
                    pdf.text(x, y - size * (0.14 if full else 0.12), piece.lstrip("^"))
                    x += pdf.get_string_width(piece.lstrip("^"))
                    continue
                pdf.set_font("DejaVu", style, size)
                for word in piece.split(" ") if spaceless else [piece]:
                    pdf.text(x, y, word)
                    x += pdf.get_string_width(word + (" " if spaceless else ""))
    pdf.output(str(path))
    return path


def fpdf_pdf(document: Document, path: Path) -> Path:
    """Write the document as an fpdf2 PDF with bottom-of-page footnotes; return the path."""
    path.write_bytes(_Maker(document).build())
    return path


# -- LibreOffice -------------------------------------------------------------------

_FODT_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0"
 office:version="1.2" office:mimetype="application/vnd.oasis.opendocument.text">
<office:font-face-decls>
 <style:font-face style:name="{font}" svg:font-family="'{font}'"
   xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0"/>
</office:font-face-decls>
<office:styles>
 <style:default-style style:family="paragraph">
  <style:text-properties style:font-name="{font}" fo:font-size="{body_pt}pt" fo:language="en" fo:country="GB"
    fo:hyphenate="{hyphenate}"/>
 </style:default-style>
 <style:style style:name="Standard" style:family="paragraph">
  <style:paragraph-properties fo:text-align="{align}" fo:text-indent="{indent}" fo:margin-bottom="{space}"
    fo:line-height="{line_height}"/>
 </style:style>
 <style:style style:name="Matter" style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.3cm"/>
 </style:style>
 <style:style style:name="Heading" style:family="paragraph">
  <style:paragraph-properties fo:margin-top="0.5cm" fo:margin-bottom="0.25cm" fo:keep-with-next="always"/>
  <style:text-properties fo:font-size="13pt" fo:font-weight="bold"/>
 </style:style>
 <style:style style:name="Title" style:family="paragraph">
  <style:paragraph-properties fo:margin-bottom="0.4cm"/>
  <style:text-properties fo:font-size="18pt" fo:font-weight="bold"/>
 </style:style>
 <style:style style:name="Footnote" style:family="paragraph">
  <style:paragraph-properties fo:margin-left="{note_hang}" fo:text-indent="-{note_hang}"/>
  <style:text-properties fo:font-size="{note_pt}pt"/>
 </style:style>
 <style:style style:name="Header" style:family="paragraph">
  <style:text-properties fo:font-size="8pt"/>
 </style:style>
 <style:style style:name="Footer" style:family="paragraph">
  <style:paragraph-properties fo:text-align="center"/>
  <style:text-properties fo:font-size="9pt"/>
 </style:style>
 <style:style style:name="Italic" style:family="text">
  <style:text-properties fo:font-style="italic"/>
 </style:style>
 <text:notes-configuration text:note-class="footnote" text:default-style-name="Footnote"
   text:start-value="0" text:footnotes-position="page" text:start-numbering-at="document"
   {note_citation}/>
 <text:notes-configuration text:note-class="endnote" text:default-style-name="Footnote"
   style:num-format="{endnote_format}" text:start-value="0" {note_citation}/>
 <style:style style:name="NoteNumber" style:family="text">
  <style:text-properties style:text-position="super 58%"/>
 </style:style>
</office:styles>
<office:automatic-styles>
 <style:page-layout style:name="pm1">
  <style:page-layout-properties fo:page-width="{page_width}" fo:page-height="{page_height}"
    fo:margin-top="1.5cm" fo:margin-bottom="1.5cm" fo:margin-left="{margin}" fo:margin-right="{margin}">
   <style:columns fo:column-count="{columns}" fo:column-gap="{column_gap}"/>
  </style:page-layout-properties>
  <style:header-style><style:header-footer-properties fo:margin-bottom="0.4cm"/></style:header-style>
  <style:footer-style><style:header-footer-properties fo:margin-top="0.4cm"/></style:footer-style>
 </style:page-layout>
</office:automatic-styles>
<office:master-styles>
 <style:master-page style:name="Standard" style:page-layout-name="pm1">
  <style:header><text:p text:style-name="Header">Ambitions and Limits · Martens Centre Policy Brief</text:p></style:header>
  <style:footer><text:p text:style-name="Footer"><text:page-number text:select-page="current">1</text:page-number></text:p>
  </style:footer>
 </style:master-page>
</office:master-styles>
<office:body><office:text>
"""


def outline(document: Document) -> Iterator[tuple[str, Any]]:
    """Yield what a producer lays out, in order: ("title" | "matter" | "heading", text) and
    ("paragraph", [(text, is_marker)]); front matter is split at its " — " joins again."""
    section: object = object()
    for p in document.paragraphs:
        if p.section is None:
            parts = p.display.split(" — ")
            if p.number == 2:
                yield "title", parts[0]
                parts = parts[1:]
            for part in parts:
                yield "matter", part
            continue
        if p.section != section:
            section = p.section
            yield "heading", section
        yield "paragraph", _pieces(p.display, set(p.footnotes))


def _inline(text: str) -> str:
    """Escape text; *italic* spans of the corpus become italic text spans."""
    parts = re.split(r"\*([^*]+)\*", text)
    return "".join(escape(p) if i % 2 == 0 else f'<text:span text:style-name="Italic">{escape(p)}</text:span>'
                   for i, p in enumerate(parts))


LAYOUT = {  # the default: justified serif text, first-line indents, no space between paragraphs
    "font": "DejaVu Serif", "body_pt": 11, "note_pt": 9, "align": "justify", "indent": "0.6cm", "space": "0cm",
    "line_height": "100%", "note_hang": "0.5cm", "note_super": False, "hyphenate": "false",
    "page_width": "21cm", "page_height": "29.7cm", "note_class": "footnote", "endnote_format": "1",
    "columns": 1, "column_gap": "0cm", "margin": "2.5cm",
}


def fodt_xml(document: Document, **layout: object) -> str:
    """Return the document as flat ODF text with real footnotes (text:note elements)."""
    notes = {n.marker: n.text for n in document.footnotes}
    settings = LAYOUT | layout
    settings["note_citation"] = 'text:citation-body-style-name="NoteNumber"' if settings["note_super"] else ""
    out = [_FODT_HEAD.format(**settings)]
    for kind, content in outline(document):
        if kind != "paragraph":
            tag = {"title": 'p text:style-name="Title"', "matter": 'p text:style-name="Matter"',
                   "heading": 'h text:style-name="Heading" text:outline-level="1"'}[kind]
            out.append(f'<text:{tag}>{_inline(content)}</text:{tag.split()[0]}>')
            continue
        body = []
        for text, is_marker in content:
            if is_marker:
                m = int(text)
                body.append(f'<text:note text:id="ftn{m}" text:note-class="{settings["note_class"]}"><text:note-citation>{m}'
                            f'</text:note-citation><text:note-body><text:p text:style-name="Footnote">'
                            f'{_inline(notes[m])}</text:p></text:note-body></text:note>')
            else:
                body.append(_inline(text))
        out.append(f'<text:p text:style-name="Standard">{"".join(body)}</text:p>')
    out.append("</office:text></office:body></office:document>\n")
    return "\n".join(out)


def soffice() -> str | None:
    """Return the LibreOffice executable, or None when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def soffice_pdf(document: Document, folder: Path, **layout: object) -> Path:
    """Convert the document to PDF through LibreOffice (flat ODF in, PDF out); return the path."""
    src = folder / "corpus.fodt"
    src.write_text(fodt_xml(document, **layout), encoding="utf-8")
    profile = folder / "lo-profile"
    subprocess.run(
        [soffice(), f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(folder), str(src)],
        check=True, capture_output=True, timeout=120,
    )
    return folder / "corpus.pdf"



# -- pdfLaTeX ----------------------------------------------------------------------

_TEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                 "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                 "<": r"\textless{}", ">": r"\textgreater{}"}
_TEX_URL = re.compile(r"https?://[^\s<>]*[^\s<>.,;:)'’]")

TEX_LAYOUTS = {  # class options and extra preamble
    # The article class as it comes: 10 pt on letter paper, justified and hyphenated, indented paragraphs.
    "article": {"options": "", "preamble": ""},
    # A5, 11 pt, no indents but space between paragraphs: paragraphs over two pages, long notes.
    "a5-parskip": {"options": "11pt", "preamble": "\\usepackage[a5paper,margin=15mm]{geometry}\n"
                       "\\setlength{\\parindent}{0pt}\n\\setlength{\\parskip}{6pt plus 2pt}\n"},
}


def _tex_escape(text: str) -> str:
    """Escape LaTeX's specials; straight double quotes become `` and '' as an author types them, CJK
    (no fonts for it) "?", *italic* \\emph."""
    out = []
    for i, ch in enumerate(text):
        if ch == '"':
            out.append("``" if i == 0 or text[i - 1] in " ([«" else "''")
        elif "\u3000" <= ch <= "\u9fff":
            out.append("?")
        else:
            out.append(_TEX_SPECIALS.get(ch, ch))
    return re.sub(r"\*([^*]+)\*", r"\\emph{\1}", "".join(out))


def _tex_note(text: str, urls: dict[str, str]) -> str:
    """A footnote's text with each URL set by \\url through a \\urldef'd command (so that % and #,
    which \\url cannot take inside another command's argument, are safe)."""
    pieces, pos = [], 0
    for m in _TEX_URL.finditer(text):
        name = urls.setdefault(m.group(0), "\\qaurl" + "".join(chr(ord("a") + int(d)) for d in str(len(urls))))
        pieces += [_tex_escape(text[pos:m.start()]), name + "{}"]
        pos = m.end()
    return "".join(pieces) + _tex_escape(text[pos:])


def latex_tex(document: Document, options: str = "", preamble: str = "") -> str:
    """Return the document as a LaTeX article: \\section* headings, a real \\footnote at each marker."""
    notes = {n.marker: n.text for n in document.footnotes}
    urls: dict[str, str] = {}
    body: list[str] = []
    section: object = object()
    for p in document.paragraphs:
        if p.section is None:  # front matter: the title in large bold, the rest as unindented lines
            parts = p.display.split(" — ")
            if p.number == 2:
                body.append(f"{{\\noindent\\LARGE\\bfseries {_tex_escape(parts[0])}\\par}}\\bigskip")
                parts = parts[1:]
            body += [f"\\noindent {_tex_escape(part)}\\par\\medskip" for part in parts]
            continue
        if p.section != section:
            section = p.section
            body.append(f"\\section*{{{_tex_escape(section)}}}")
        body.append("".join(f"\\footnote{{{_tex_note(notes[int(piece)], urls)}}}" if is_marker
                            else _tex_escape(piece) for piece, is_marker in _pieces(p.display, set(p.footnotes))))
    defs = "".join(f"\\urldef{{{name}}}\\url{{{url}}}\n" for url, name in urls.items())
    return (f"\\documentclass[{options}]{{article}}\n\\usepackage[T1]{{fontenc}}\n\\usepackage[utf8]{{inputenc}}\n"
            f"\\usepackage{{lmodern}}\n\\usepackage{{url}}\n{preamble}{defs}\\begin{{document}}\n\n"
            + "\n\n".join(body) + "\n\n\\end{document}\n")


def pdflatex() -> str | None:
    """Return the pdflatex executable, or None when it is not installed."""
    return shutil.which("pdflatex")


def latex_pdf(document: Document, folder: Path, **layout: str) -> Path:
    """Typeset the document with pdfLaTeX (run twice, as for any document with references); return the PDF."""
    src = folder / "corpus.tex"
    src.write_text(latex_tex(document, **layout), encoding="utf-8")
    for _ in range(2):
        subprocess.run([pdflatex(), "-interaction=nonstopmode", "-halt-on-error", src.name],
                       cwd=folder, check=True, capture_output=True, timeout=120)
    return folder / "corpus.pdf"


# -- Chromium (HTML printed to PDF) ------------------------------------------------

def chromium() -> str | None:
    """Return the Chromium executable, or None when it is not installed."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


def html_page(document: Document, notes_pt: float = 9, titled: bool = True, web: bool = False,
              on_line: bool = False) -> str:
    """Return the document as a web page: <sup> note numbers, the notes as a numbered list at the end,
    under a "Notes" title where ``titled``; ``web``: as a blog serves Word's notes, numbers in brackets
    ("[7]") and a link back ("↑") after each note; ``on_line``: as Word saves its notes as HTML, the text's
    "[7]" a link on the line (not raised), each note a paragraph "[7]. …" with a first-line indent."""
    notes = {n.marker: n.text for n in document.footnotes}
    out = ['<!doctype html><html><head><meta charset="utf-8"><style>',
           'body { font-family: "DejaVu Serif"; font-size: 11pt; margin: 0 }',
           'h1 { font-size: 18pt } h2 { font-size: 14pt } p { margin: 0 0 0.6em }',
           f'ol.notes li {{ font-size: {notes_pt}pt }}', '@page { size: A4; margin: 2cm }',
           '</style></head><body>']
    for kind, content in outline(document):
        if kind == "paragraph":
            marker = "<a href='#n{0}'>[{0}]</a>" if on_line else "<sup>[{0}]</sup>" if web else "<sup>{0}</sup>"
            body = "".join(marker.format(text) if is_marker else _html_inline(text) for text, is_marker in content)
            out.append(f"<p>{body}</p>")
        else:
            tag = {"title": "h1", "matter": "p", "heading": "h2"}[kind]
            out.append(f"<{tag}>{_html_inline(content)}</{tag}>")
    if on_line:
        out += [f"<p id='n{m}' style='text-indent: 0.5in'>[{m}]. {_html_inline(notes[m])}</p>" for m in sorted(notes)]
        out.append("</body></html>")
        return "\n".join(out)
    out.append('<h2>Notes</h2><ol class="notes">' if titled else '<ol class="notes">')
    back = ' <a href="#top">↑</a>' if web else ""
    out += [f"<li>{_html_inline(notes[m])}{back}</li>" for m in sorted(notes)]
    out.append("</ol></body></html>")
    return "\n".join(out)


def _html_inline(text: str) -> str:
    parts = re.split(r"\*([^*]+)\*", text)
    return "".join(escape(p) if i % 2 == 0 else f"<i>{escape(p)}</i>" for i, p in enumerate(parts))


def chromium_pdf(document: Document, folder: Path, **layout: Any) -> Path:
    """Print the document's web page to PDF with headless Chromium (endnotes, not footnotes); return the path."""
    page = folder / "corpus.html"
    page.write_text(html_page(document, **layout), encoding="utf-8")
    pdf = folder / "corpus.pdf"
    subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--user-data-dir={folder / 'chromium-profile'}", f"--print-to-pdf={pdf}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    return pdf
