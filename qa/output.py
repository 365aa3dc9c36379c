"""Output stage: an ``Answer`` → the ``qa search --json`` object (the contract the CLI and the chat's
/search endpoint share; keys may be added, never removed) and the CLI's plain text. The chat's
HTML is ``web/render.py``, which shares ``pages`` with it."""

from __future__ import annotations

from typing import Any

from qa.records import Answer, Hit, Reference, to_dict


def answer_to_json(answer: Answer) -> dict[str, Any]:
    """Return the ``qa search --json`` object of an answer (the CLI and /search contract)."""
    out: dict[str, Any] = {
        "question": answer.question,
        "abstained": answer.abstained,
        "retriever": answer.retriever,
        "results": [hit_to_json(hit) for hit in answer.hits],
    }
    if answer.docs:  # only when the search was limited to some documents
        out["docs"] = list(answer.docs)
    return out


def hit_to_json(hit: Hit) -> dict[str, Any]:
    """Return one result of the ``qa search --json`` contract."""
    p = hit.paragraph
    return {
        "rank": hit.rank, "score": hit.score, "passage_id": p.id, "doc": p.doc,
        "section": p.section, "page": p.page, "page_end": p.page_end,
        "page_label": p.page_label, "page_label_end": p.page_label_end,
        "text": p.display, "highlight": hit.highlight,
        "citations": [
            {"marker": c.marker, "text": c.text, "urls": list(c.urls),
             "resolved": c.resolved, "unresolved": c.unresolved} | resolution(c.references)
            for c in hit.citations
        ],
    }


def resolution(references: tuple[Reference, ...]) -> dict[str, Any]:
    """Return a note's back-references as JSON fields: ``kind``, ``authority``, ``authority_note``, ``pin`` of
    its first one (None where it has none or it is not resolved) and ``references``, each occurrence."""
    first = references[0] if references else None
    return {"kind": first.kind if first else None, "authority": first.authority if first else None,
            "authority_note": first.authority_note if first else None, "pin": first.pin if first else None,
            "references": [to_dict(r) for r in references]}


def pages(page: int | None, page_end: int | None) -> str:
    """Return "p. 4", "pp. 4–5" or "" for a paragraph's page range."""
    if page is None:
        return ""
    if page_end is None or page_end == page:
        return f"p. {page}"
    return f"pp. {page}–{page_end}"


def printed_pages(page_label: str | None, page_label_end: str | None, page: int | None = None,
                  page_end: int | None = None) -> str:
    """Return a passage's pages as printed on the sheets ("p. 171", "pp. 171–72", "pp. 998–1001"), else as
    ``pages`` gives the PDF positions."""
    if not page_label:
        return pages(page, page_end)
    if not page_label_end or page_label_end == page_label:
        return f"p. {page_label}"
    last = page_label_end
    if page_label.isdigit() and last.isdigit() and len(last) > 2 and page_label[:-2] == last[:-2]:
        last = last[-2:]  # the last two digits where the rest repeats: 171–72, 1495–97 (not 1499–1500)
    return f"pp. {page_label}–{last}"


def answer_text(answer: Answer) -> str:
    """Return a readable plain-text rendering of an answer (``qa search`` without ``--json``)."""
    lines = []
    if answer.abstained:
        lines.append("Not found in your documents. The closest passages:\n")
    for hit in answer.hits:
        p = hit.paragraph
        where = " · ".join(x for x in (p.doc, p.section or "", printed_pages(p.page_label, p.page_label_end, p.page,
                                                                                p.page_end)) if x)
        lines.append(f"{hit.rank}. {where}  (score {hit.score:.3f})")
        lines.append(f"   {p.display}")
        for c in hit.citations:
            lines.append(f"   [{c.marker}] {c.text}")
            if c.resolved:
                lines.append(f"       → {c.resolved}")
            elif c.unresolved:
                lines.append("       → (earlier reference not found in this document)")
        lines.append("")
    return "\n".join(lines).rstrip()


def answer_markdown(answer: dict[str, Any]) -> str:
    """Return one answer (a ``qa search --json`` object) as Markdown: the question, then each passage with
    where it comes from, its text, and the footnotes it cites with what they refer to."""
    lines = [f"## {_md(str(answer.get('question', '')))}", ""]
    if answer.get("error"):
        return "\n".join([*lines, f"*{_md(str(answer['error']))}*", ""])
    if answer.get("abstained"):
        lines += ["*Not found in your documents. The closest passages:*", ""]
    for r in answer.get("results", []):
        shown = printed_pages(r.get("page_label"), r.get("page_label_end"), r.get("page"), r.get("page_end"))
        where = " · ".join(str(x) for x in (r.get("doc"), r.get("section"), shown) if x)
        lines += [f"**{r.get('rank')}. {_md(where)}**", "", "> " + _md(str(r.get("text", ""))).replace("\n", "\n> "), ""]
        for c in r.get("citations", []):
            lines.append(f"- [{c.get('marker')}] {_md(str(c.get('text', '')))}")
            if c.get("resolved"):
                lines.append(f"  - refers to: {_md(str(c['resolved']))}")
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    """Return document text safe to paste into Markdown: no live HTML (``<`` escaped), one line per line."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("\r", "")

