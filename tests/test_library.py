"""library: the documents as a reader cites them, and as BibTeX / CSL-JSON."""

from __future__ import annotations

from qa import library

DOCS = {
    "b.pdf": {"title": "Loving’s Borders", "authors": ["Jennifer M. Chacón"], "year": 2025},
    "a.txt": {"title": None, "authors": [], "year": None},
    "c.pdf": {"title": "Loving’s Borders", "authors": ["Chacón, Jennifer M.", "A. Smith"], "year": 2025},
    "d.md": {"title": "Costs {in} 100% & $ of #1_x\\y", "authors": [], "year": None},
}


def test_label_and_byline() -> None:
    assert library.label("a.txt", DOCS["a.txt"]) == "a.txt" and library.label("b.pdf", DOCS["b.pdf"]) == "Loving’s Borders"
    assert library.byline(DOCS["c.pdf"]) == "Chacón, Jennifer M., A. Smith · 2025" and library.byline(DOCS["a.txt"]) == ""


def test_keys_are_unique_and_ascii() -> None:
    keys = library.keys(DOCS)
    assert keys["b.pdf"] == "chacon2025lovings" and keys["c.pdf"] == "chacon2025lovingsa"
    assert len(set(keys.values())) == len(DOCS) and all(k.isascii() and k.isalnum() for k in keys.values())


def test_bibtex_escapes_what_tex_would_read() -> None:
    text = library.bibtex(DOCS)
    assert text.count("@misc{") == 4
    assert "title = {Costs \\{in\\} 100\\% \\& \\$ of \\#1\\_x\\textbackslash{}y}" in text
    assert "author = {Chacón, Jennifer M. and A. Smith}" in text and "year = {2025}" in text
    assert text.count("{") - text.count("\\{") == text.count("}") - text.count("\\}")  # balanced


def test_csl_json_names_and_dates() -> None:
    items = {item["note"]: item for item in library.csl_json(DOCS)}
    assert items["file: c.pdf"]["author"] == [{"family": "Chacón", "given": "Jennifer M."}, {"family": "Smith", "given": "A."}]
    assert items["file: b.pdf"]["issued"] == {"date-parts": [[2025]]} and "issued" not in items["file: a.txt"]
    assert items["file: a.txt"]["title"] == "a.txt" and items["file: a.txt"]["type"] == "document"


def test_citation_names_title_authors_and_year() -> None:
    assert library.citation("c.pdf", DOCS["c.pdf"]) == "Loving’s Borders, Chacón, Jennifer M. and A. Smith (2025)"
    assert library.citation("b.pdf", DOCS["b.pdf"]) == "Loving’s Borders, Jennifer M. Chacón (2025)"
    assert library.citation("a.txt", DOCS["a.txt"]) == "a.txt"
