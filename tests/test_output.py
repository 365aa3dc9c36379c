"""output: an Answer as the qa search --json object and as plain text."""

from __future__ import annotations

import json

from qa.output import answer_markdown, answer_text, answer_to_json, pages
from qa.records import Answer, Citation, Hit, Paragraph


def _answer(abstained: bool = False, docs: tuple[str, ...] = ()) -> Answer:
    paragraph = Paragraph(id="d.pdf#p3", doc="d.pdf", number=3, section="Intro", text="Body.",
                          display="Body.[1]", footnotes=(1,), page=4, page_end=5)
    note = Citation(marker=1, text="Smith, op. cit.", urls=(), resolved="John Smith, A Book (1990).")
    hit = Hit(rank=1, score=0.51234, paragraph=paragraph, citations=(note,), highlight="Body.")
    return Answer(question="Why?", hits=(hit,), abstained=abstained, retriever="hybrid", docs=docs)


def test_json_has_the_contract_keys_and_docs_only_when_filtered() -> None:
    out = answer_to_json(_answer())
    json.dumps(out)
    assert list(out) == ["question", "abstained", "retriever", "results"]
    assert out["results"][0]["citations"][0]["resolved"] == "John Smith, A Book (1990)."
    assert answer_to_json(_answer(docs=("d.pdf",)))["docs"] == ["d.pdf"]


def test_text_shows_where_the_passage_is_its_notes_and_what_they_refer_to() -> None:
    lines = answer_text(_answer()).splitlines()
    assert lines[0] == "1. d.pdf · Intro · pp. 4–5  (score 0.512)"
    assert lines[1] == "   Body.[1]"
    assert lines[2] == "   [1] Smith, op. cit."
    assert lines[3] == "       → John Smith, A Book (1990)."
    assert answer_text(_answer(abstained=True)).startswith("Not found in your documents.")


def test_pages() -> None:
    assert (pages(None, None), pages(4, None), pages(4, 4), pages(4, 5)) == ("", "p. 4", "p. 4", "pp. 4–5")


def test_markdown_has_the_question_where_each_passage_is_its_notes_and_no_live_html() -> None:
    lines = answer_markdown(answer_to_json(_answer())).splitlines()
    assert lines[:5] == ["## Why?", "", "**1. d.pdf · Intro · pp. 4–5**", "", "> Body.[1]"]
    assert lines[6:8] == ["- [1] Smith, op. cit.", "  - refers to: John Smith, A Book (1990)."]
    assert answer_markdown(answer_to_json(_answer(abstained=True))).splitlines()[2].startswith("*Not found")
    hostile = {"question": "<script>x</script>", "results": [{"rank": 1, "doc": "a.md", "text": "a <img src=x>\nb",
                                                             "citations": []}]}
    text = answer_markdown(hostile)
    assert "<script>" not in text and "<img" not in text and "> a &lt;img src=x>\n> b" in text

