"""Word, OpenDocument, HTML and EPUB readers on real files (slow): LibreOffice's own exports of one
made document, the scorer on ../shared/realdocs, and the same law review read as a web page and as a PDF.

Run as a script, the last prints the per-article table of docs/readers.md:
``python tests/test_formats_real.py [NAME ...]`` (the twenty of ../shared/realpdf/dev by default).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from qa.parse import parse_file
from qa.records import Document

SHARED = Path(__file__).resolve().parents[2] / "shared"
REALDOCS, DEV = SHARED / "realdocs", SHARED / "realpdf" / "dev"
_PLAIN = str.maketrans({**dict.fromkeys("‘’‚‛′", "'"), **dict.fromkeys("“”„‟″", '"'),
                        **dict.fromkeys("‐‑‒–—―−", "-"), "\u00a0": " ", "\u00ad": None, "\u200b": None})


def normal(text: str) -> str:
    """Return a note's text as the scorer compares it: NFKC, plain quotes and dashes, lower case,
    no space before closing or after opening punctuation, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).translate(_PLAIN).lower()
    text = re.sub(r"\s+([.,;:!?)\]}])", r"\1", re.sub(r"([(\[{])\s+", r"\1", text))
    return re.sub(r"\s+", " ", text).strip()


def same_notes(a: Document, b: Document, at_least: float = 0.98) -> tuple[int, int, int]:
    """Return (notes of either document by number, notes both have, notes whose normalised texts
    agree: difflib ratio >= ``at_least``)."""
    ta = {str(f.marker): normal(f.text) for f in a.footnotes}
    tb = {str(f.marker): normal(f.text) for f in b.footnotes}
    both = set(ta) & set(tb)
    agree = sum(1 for k in both if ta[k] == tb[k] or difflib.SequenceMatcher(None, ta[k], tb[k], autojunk=False).ratio()
                >= at_least)
    return len(set(ta) | set(tb)), len(both), agree


def soffice() -> str | None:
    import shutil
    return shutil.which("soffice") or shutil.which("libreoffice")


FODT = """<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"
 office:mimetype="application/vnd.oasis.opendocument.text"><office:body><office:text>{}</office:text></office:body>
</office:document>"""
NOTES = {1: "See Smith, Harbours of the North 12 (1990).", 2: "Id. at 14.",
         3: "Port records, 1821–1830, https://example.org/records.", 4: "Jones, supra note 1, at 3."}
CLAIMS = {1: "The old harbour was dredged in 1820", 2: "The new quay followed it",
          3: "Ships came from the south", 4: "The town grew around the quay"}


def _note(n: int, second: str = "") -> str:
    extra = f"<text:p>{second}</text:p>" if second else ""
    return (f'<text:note text:id="ftn{n}" text:note-class="footnote"><text:note-citation>{n}</text:note-citation>'
            f"<text:note-body><text:p>{NOTES[n]}</text:p>{extra}</text:note-body></text:note>")


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["odt", "docx", "html", "epub"])
def test_libreoffice_exports_keep_every_note_attached(tmp_path: Path, kind: str) -> None:
    """LibreOffice writes each format its own way (Word XML, its HTML's sdfootnote anchors, EPUB
    asides): every note exact, a note of two paragraphs whole, each attached to its paragraph."""
    if soffice() is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is missing on CI; .ci/run installs libreoffice-writer-nogui")
        pytest.skip("LibreOffice (soffice) is not installed")
    body = (f"<text:h text:outline-level=\"1\">The Harbour</text:h><text:p>{CLAIMS[1]}{_note(1)}. {CLAIMS[2]}{_note(2)}.</text:p>"
            f"<text:p>{CLAIMS[3]}{_note(3, 'A second paragraph of the note.')}.</text:p>"
            f"<text:h text:outline-level=\"1\">The Town</text:h><text:p>{CLAIMS[4]}{_note(4)}.</text:p>")
    src = tmp_path / "harbour.fodt"
    src.write_text(FODT.format(body), encoding="utf-8")
    subprocess.run([soffice(), f"-env:UserInstallation=file://{tmp_path / 'profile'}", "--headless", "--norestore",
                    "--convert-to", kind, "--outdir", str(tmp_path), str(src)], check=True, capture_output=True, timeout=180)
    doc = parse_file(tmp_path / f"harbour.{kind}")
    expected = {**NOTES, 3: NOTES[3] + " A second paragraph of the note."}
    assert {f.marker: f.text for f in doc.footnotes} == expected
    for n, claim in CLAIMS.items():
        assert [p for p in doc.paragraphs if n in p.footnotes and claim in p.text], (n, doc.paragraphs)
    assert not any("second paragraph of the note" in p.text for p in doc.paragraphs)


def _score() -> list[dict]:
    """The scorer's per-file JSON on ../shared/realdocs."""
    args = [sys.executable, str(SHARED / "realpdf" / "score_footnotes.py"), "--qa", f"{sys.executable} -m qa",
            str(REALDOCS), "--json"]
    run = subprocess.run(args, check=True, capture_output=True, text=True, timeout=1500,
                         env={**os.environ, "HF_HUB_OFFLINE": "1"})
    return json.loads(run.stdout)["files"]


@pytest.mark.slow
def test_realdocs_scorer_floor() -> None:
    """The footnote scorer on ../shared/realdocs, per format: a regression guard a little under what
    the readers reach (docs/readers.md, "Other formats"), not a target; no file may fail."""
    if not (REALDOCS / "truth").is_dir():
        pytest.skip(f"{REALDOCS} is not beside the repository (it comes with the project's shared folder)")
    files = _score()
    assert all(f["status"] == "ok" for f in files), [(f["doc"], f["status"]) for f in files if f["status"] != "ok"]
    suffix = {p.stem: p.suffix for p in (REALDOCS / "docs").iterdir()}
    for kind in (".docx", ".odt", ".html", ".epub"):
        c: dict[str, int] = {}
        for f in files:
            if suffix[f["doc"]] == kind:
                for k, v in f["counts"].items():
                    c[k] = c.get(k, 0) + v
        figures = (c["matched"] / c["truth_fn"], c["matched"] / c["parser_fn"], c["exact"] / c["matched"],
                   c["attached"] / c["attach_of"], c["body_found"] / c["body_sh"])
        assert min(figures[:4]) >= 0.98 and figures[4] >= 0.95, (kind, figures)


def compare(names: list[str]) -> list[tuple[str, int, int, int]]:
    """Return, per dev article, (name, notes, notes in both, notes agreeing) of its web page against its PDF."""
    rows = []
    for name in names:
        html, pdf = parse_file(REALDOCS / "docs" / f"{name}.html"), parse_file(DEV / "pdfs" / f"{name}.pdf")
        rows.append((name, *same_notes(html, pdf)))
    return rows


@pytest.mark.slow
def test_a_law_review_as_web_page_and_as_pdf_gives_the_same_notes() -> None:
    """One article of each journal (the script does all twenty): the notes of its web page and of its
    PDF, by number, agree in text (normalised, difflib ratio >= 0.98) for at least 98% of them."""
    if not (DEV / "pdfs").is_dir() or not (REALDOCS / "docs").is_dir():
        pytest.skip("../shared/realpdf/dev and ../shared/realdocs are not beside the repository")
    names = ["texas_law_review_battered-woman-syndrome", "california_law_review_judiciary-ada",
             "michigan_law_review_good_cause_for_goodness_sake_a_new_approach_to_notice_and_comment_rulemaking",
             "law_of_protest", "harvard_law_review_Background_Principles_And_The_General_Law_Of_Property"]
    for name, notes, both, agree in compare(names):
        assert both >= 0.98 * notes and agree >= 0.98 * notes, (name, notes, both, agree)


if __name__ == "__main__":
    chosen = sys.argv[1:] or sorted(p.stem for p in (DEV / "pdfs").glob("*.pdf"))
    total = [0, 0, 0]
    print(f"{'article':60} {'notes':>5} {'both':>5} {'agree':>5} share")
    for name, notes, both, agree in compare(chosen):
        total = [total[0] + notes, total[1] + both, total[2] + agree]
        print(f"{name[:60]:60} {notes:5d} {both:5d} {agree:5d} {agree / max(notes, 1):.3f}", flush=True)
    print(f"{'all':60} {total[0]:5d} {total[1]:5d} {total[2]:5d} {total[2] / max(total[0], 1):.3f}")
