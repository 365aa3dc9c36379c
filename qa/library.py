"""The library: the indexed documents as a reader cites them — a label for the chat's list, and the whole
list as BibTeX or CSL-JSON (what Zotero, Pandoc and LaTeX read). Built from the index manifest's
document records (``title``, ``authors``, ``year`` from ``qa.meta``; the file name where there is no title).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any


def label(doc: str, record: dict[str, Any]) -> str:
    """Return how a document is named in the chat: its title, else its file name."""
    title = record.get("title")
    return title if isinstance(title, str) and title.strip() else doc


def byline(record: dict[str, Any]) -> str:
    """Return "Author, Author · 2024" of a document record ("" when neither is known)."""
    authors = [a for a in record.get("authors") or [] if isinstance(a, str)]
    year = record.get("year")
    parts = [", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "") if authors else "",
             str(year) if isinstance(year, int) else ""]
    return " · ".join(p for p in parts if p)


def citation(doc: str, record: dict[str, Any]) -> str:
    """Return how a passage's source is cited: "Title, Author and Author (2024)"; the file name without a title."""
    authors = [a for a in record.get("authors") or [] if isinstance(a, str)]
    who = (", ".join(authors[:-1]) + " and " + authors[-1]) if len(authors) > 1 else "".join(authors)
    year = f" ({record['year']})" if isinstance(record.get("year"), int) else ""
    return label(doc, record) + (f", {who}" if who else "") + year


def keys(documents: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Return a citation key per document ("chacon2025lovings"), unique within the library, in name order."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for doc in sorted(documents):
        record = documents[doc]
        authors = [a for a in record.get("authors") or [] if isinstance(a, str)]
        family = _ascii(_family(authors[0])) if authors else ""
        year = str(record["year"]) if isinstance(record.get("year"), int) else ""
        words = [w for w in _ascii(label(doc, record)).split() if len(w) > 3] or ["doc"]
        base = (family + year + words[0]) or "doc"
        key, n = base, 1
        while key in taken:
            n += 1
            key = f"{base}{chr(ord('a') + n - 2) if n <= 27 else n}"
        taken.add(key)
        out[doc] = key
    return out


def bibtex(documents: dict[str, dict[str, Any]]) -> str:
    """Return the library as BibTeX, one @misc entry a document (title, authors, year, file)."""
    entries = []
    for doc, key in keys(documents).items():
        record = documents[doc]
        fields = [("title", label(doc, record))]
        authors = [a for a in record.get("authors") or [] if isinstance(a, str)]
        if authors:
            fields.append(("author", " and ".join(authors)))
        if isinstance(record.get("year"), int):
            fields.append(("year", str(record["year"])))
        fields.append(("note", f"file: {doc}"))
        body = ",\n".join(f"  {name} = {{{_tex(value)}}}" for name, value in fields)
        entries.append(f"@misc{{{key},\n{body}\n}}\n")
    return "\n".join(entries)


def csl_json(documents: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Return the library as CSL-JSON items (type "document"; authors as family/given where they split)."""
    items = []
    for doc, key in keys(documents).items():
        record = documents[doc]
        item: dict[str, Any] = {"id": key, "type": "document", "title": label(doc, record), "note": f"file: {doc}"}
        authors = [a for a in record.get("authors") or [] if isinstance(a, str)]
        if authors:
            item["author"] = [_csl_name(a) for a in authors]
        if isinstance(record.get("year"), int):
            item["issued"] = {"date-parts": [[record["year"]]]}
        items.append(item)
    return items


def _family(name: str) -> str:
    """Return a name's family part: "Smith, John" → Smith, "John Smith" → Smith."""
    return name.split(",")[0].strip() if "," in name else name.split()[-1] if name.split() else name


def _csl_name(name: str) -> dict[str, str]:
    if "," in name:
        family, given = (p.strip() for p in name.split(",", 1))
    else:
        parts = name.split()
        family, given = (parts[-1], " ".join(parts[:-1])) if len(parts) > 1 else (name, "")
    return {"family": family, "given": given} if given else {"literal": name}


def _ascii(text: str) -> str:
    """Return lower-case ASCII letters and digits of a text, words kept apart ("Chacón" → "chacon")."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9 ]+", "", plain.lower())


def _tex(text: str) -> str:
    """Return text safe inside a BibTeX field: braces balanced, TeX's special characters escaped."""
    return _TEX_SPECIAL.sub(lambda m: _TEX[m.group(0)], text)


_TEX = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
        "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
_TEX_SPECIAL = re.compile(r"[\\{}&%$#_~^]")
