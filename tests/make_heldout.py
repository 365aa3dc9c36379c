"""Print ../shared/realdocs to PDF with producers the PDF reader was not tuned on, as a score_footnotes.py suite.

usage: python3.11 tests/make_heldout.py ../shared/realdocs /work/heldout [NAME-SUBSTRING ...]
then:  python3.11 ../shared/realpdf/score_footnotes.py --qa .venv/bin/qa /work/heldout
Writes OUT/pdfs/PRODUCER_NAME.pdf and OUT/truth/PRODUCER_NAME.json (the realdocs truth, with "doc" and
"pages" set to the PDF's): headless Chromium prints every .html (a web page's notes come out where the page
puts them: a list at the end), LibreOffice every .docx, .odt and .html.  EPUB is left out (no printer of it here).
LibreOffice 7 cannot load the Texas and Michigan pages ("source file could not be loaded"): those are left out.
Where the print differs from the truth, the truth is left as it is (see docs/realpdf.md, "Held out").
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

PRODUCERS = {"chromium": (".html",), "lo": (".docx", ".odt", ".html")}


def pages(pdf: Path) -> int:
    """Return the PDF's page count (pdfinfo)."""
    out = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(next(line.split()[1] for line in out.splitlines() if line.startswith("Pages:")))


def chromium(src: Path, pdf: Path) -> None:
    """Print an HTML file with headless Chromium (no header/footer, as a reader would save it)."""
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", src.resolve().as_uri()],
                   capture_output=True, timeout=300, check=True)


def libreoffice(src: Path, pdf: Path) -> None:
    """Convert a document with headless LibreOffice (a throwaway profile)."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless",
                        "--convert-to", "pdf", "--outdir", tmp, str(src)],
                       capture_output=True, timeout=600, check=True)
        shutil.move(Path(tmp) / (src.stem + ".pdf"), pdf)


def main(realdocs: Path, out: Path, only: list[str]) -> None:
    """Print every document of ``realdocs`` not printed yet (or those whose name holds one of ``only``)."""
    (out / "pdfs").mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(parents=True, exist_ok=True)
    for producer, exts in PRODUCERS.items():
        for src in sorted((realdocs / "docs").iterdir()):
            name = f"{producer}_{src.stem}"
            if src.suffix not in exts or (only and not any(o in name for o in only)):
                continue
            pdf = out / "pdfs" / f"{name}.pdf"
            if not pdf.exists():
                try:
                    (chromium if producer == "chromium" else libreoffice)(src, pdf)
                except (subprocess.SubprocessError, FileNotFoundError) as err:
                    print(f"{name}: not printed ({err})", file=sys.stderr)
                    continue
            truth = json.loads((realdocs / "truth" / f"{src.stem}.json").read_text())
            truth.update(doc=pdf.name, pages=pages(pdf))
            (out / "truth" / f"{name}.json").write_text(json.dumps(truth, ensure_ascii=False))
            print(f"{name}: {truth['pages']} pages, {len(truth['footnotes'])} notes", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
