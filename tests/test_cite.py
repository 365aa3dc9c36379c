"""cite: ibid./op. cit. resolution, citations of a paragraph, the JSON contract of an answer."""

from __future__ import annotations

import json

import pytest
from conftest import CORPUS

from qa.cite import citations_for, resolve_footnotes
from qa.output import answer_to_json, pages
from qa.parse import parse_file
from qa.records import Answer, Citation, Footnote, Hit, Paragraph


def notes(*texts: str, urls: dict[int, tuple[str, ...]] | None = None) -> list[Footnote]:
    urls = urls or {}
    return [Footnote(doc="d.txt", marker=i, text=t, urls=urls.get(i, ())) for i, t in enumerate(texts, start=1)]


def by_marker(resolved: list[Footnote]) -> dict:
    return {n.marker: n for n in resolved}


# --- ibid. ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["Ibid.", "ibid", "Ibidem", "Ibid., p. 12.", "*Ibid.*"])
def test_ibid_points_to_the_previous_note(text: str) -> None:
    out = by_marker(resolve_footnotes(notes("Smith, « Harbours », 2001.", text)))
    assert out[2].resolved == "Smith, « Harbours », 2001."
    assert out[2].resolved_marker == 1
    assert not out[2].unresolved
    assert out[1].resolved is None  # a full reference is left alone


def test_ibid_chain_resolves_to_the_first_full_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Jones, « Timber », on <https://example.org/timber>.", "Ibidem", "Ibidem",
        urls={1: ("https://example.org/timber",)})))
    assert out[3].resolved_marker == 1 and out[2].resolved_marker == 1
    assert out[3].resolved == out[1].text
    assert out[3].urls == ("https://example.org/timber",)  # the source's link travels with the note


def test_ibid_first_note_is_unresolved_never_guessed() -> None:
    (first, second) = resolve_footnotes(notes("Ibid.", "Ibid."))
    assert first.unresolved and first.resolved is None
    assert second.unresolved and second.resolved is None  # pointing at an unresolved note stays unresolved


# --- legal forms: Id., supra note N ---------------------------------------------------------

@pytest.mark.parametrize("text", ["Id.", "Id. at 1898.", "See id.", "See id. at 12; see also Yoshino, Equal.",
                                  "Cf. id. at 4.", "See also id."])
def test_id_points_to_the_previous_note(text: str) -> None:
    out = by_marker(resolve_footnotes(notes("Laurence H. Tribe, Lawrence v. Texas, 117 HARV. L. REV. 1893 (2004).", text)))
    assert out[2].resolved_marker == 1 and out[2].resolved == out[1].text


@pytest.mark.parametrize("text", ["Idaho Code § 5-101.", "Identity, not id., decides.", "Ideas matter."])
def test_words_that_start_with_id_are_full_references(text: str) -> None:
    out = by_marker(resolve_footnotes(notes("Tribe, Lawrence v. Texas (2004).", text)))
    assert out[2].resolved is None and not out[2].unresolved


def test_supra_note_points_at_that_note_and_follows_its_own_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Laurence H. Tribe, Lawrence v. Texas, 117 HARV. L. REV. 1893 (2004).",
        "Id. at 1897.",
        "Kenji Yoshino, The New Equal Protection, 124 HARV. L. REV. 747 (2011).",
        "See Tribe, supra note 1, at 1898.",
        "Yoshino, supra note 3, at 749.",
        "See Tribe, supra note 2.")))
    assert (out[4].resolved_marker, out[4].resolved) == (1, out[1].text)
    assert (out[5].resolved_marker, out[5].resolved) == (3, out[3].text)
    assert out[6].resolved_marker == 1  # note 2 is itself "Id.": its full reference


def test_supra_note_is_never_guessed() -> None:
    out = by_marker(resolve_footnotes(notes("Tribe, Lawrence (2004).", "Smith, supra note 40, at 3.",
                                            "Smith, supra note 3.")))
    assert out[2].unresolved and out[2].resolved is None  # no note 40
    assert out[3].unresolved  # a note cannot point at itself or a later note


def test_a_full_citation_that_mentions_supra_later_is_left_alone() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Tribe, Lawrence (2004).",
        "See Amber Baylor, Unexceptional Protest, 70 UCLA L. REV. 716 (2023); Tribe, supra note 1, at 146.")))
    assert out[2].resolved is None and not out[2].unresolved


# --- op. cit. ------------------------------------------------------------------------------

def test_op_cit_finds_the_same_authors_earlier_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Anna Kowalska, « Ports of the Baltic », Gdansk, 2010.",
        "Pierre Martin, « Rivers », Paris, 2012.",
        "Anna Kowalska, op. cit., p. 4.",
    )))
    assert out[3].resolved_marker == 1
    assert out[3].resolved.startswith("Anna Kowalska, « Ports")


def test_op_cit_tolerates_a_typo_in_the_author_name() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Mari Södenberg, « Japan-EU relations », 2022.", "Marie Söderberg, op.cit.")))
    assert out[2].resolved_marker == 1


def test_op_cit_takes_the_latest_matching_reference() -> None:
    out = by_marker(resolve_footnotes(notes(
        "Emil Kirchner, « First book », 2015.", "Other Person, « X », 2000.",
        "Emil Kirchner, « Second book », 2019.", "Emil Kirchner, op. cit.")))
    assert out[4].resolved_marker == 3


def test_op_cit_with_no_matching_author_is_unresolved() -> None:
    out = by_marker(resolve_footnotes(notes("Pierre Martin, « Rivers », 2012.", "Hiroshi Tanaka, *op.cit.*")))
    assert out[2].unresolved
    assert out[2].resolved is None and out[2].resolved_marker is None


def test_op_cit_does_not_point_at_another_back_reference() -> None:
    out = by_marker(resolve_footnotes(notes("Tanaka, op. cit.", "Tanaka, op. cit.")))
    assert out[1].unresolved and out[2].unresolved


# --- the real corpus ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus_notes() -> dict:
    return by_marker(list(parse_file(CORPUS).footnotes))


@pytest.mark.parametrize("marker, target, author", [
    (10, 5, "Mari Södenberg"),
    (14, 2, "EU-Japan Summit 2023"),
    (16, 15, "Mario Esteban"),
    (17, 15, "Mario Esteban"),
    (19, 9, "Elena Atanassova"),
    (20, 11, "Emil Kirchner"),
    (21, 6, "Lluç Vidal Lopez"),
])
def test_corpus_back_references_resolve(corpus_notes: dict, marker: int, target: int, author: str) -> None:
    note = corpus_notes[marker]
    assert note.resolved_marker == target
    assert note.resolved == corpus_notes[target].text
    assert author in note.resolved
    assert not note.unresolved


def test_corpus_kirchner_op_cit_points_at_an_earlier_full_kirchner_reference(corpus_notes: dict) -> None:
    target = corpus_notes[corpus_notes[20].resolved_marker]
    assert target.marker < 20
    assert target.text.startswith("Emil Kirchner, « EU-Japan security cooperation in context »")
    assert "op.cit" not in target.text and "op. cit" not in target.text


@pytest.mark.parametrize("marker", [4, 25])
def test_corpus_unresolvable_back_references_are_not_guessed(corpus_notes: dict, marker: int) -> None:
    note = corpus_notes[marker]
    assert note.unresolved
    assert note.resolved is None and note.resolved_marker is None


def test_corpus_full_references_are_left_alone(corpus_notes: dict) -> None:
    for marker in (1, 2, 3, 5, 6, 9, 11, 15, 22, 28):
        assert corpus_notes[marker].resolved is None and not corpus_notes[marker].unresolved


# --- citations and JSON ------------------------------------------------------------------

def paragraph(markers: tuple) -> Paragraph:
    return Paragraph(id="d.txt#p3", doc="d.txt", number=3, section="Intro", page=None, page_end=None,
                     text="Body.", display="Body.[2][1]", footnotes=markers)


def test_citations_for_follows_the_paragraph_marker_order_and_skips_unknown_markers() -> None:
    resolved = by_marker(resolve_footnotes(notes("Smith, « A », <https://a.org/x>.", "Ibid.",
                                                 urls={1: ("https://a.org/x",)})))
    cites = citations_for(paragraph((2, 9, 1)), resolved)
    assert [c.marker for c in cites] == [2, 1]
    assert cites[0] == Citation(marker=2, text="Ibid.", urls=("https://a.org/x",),
                                resolved="Smith, « A », <https://a.org/x>.", unresolved=False)
    assert cites[1].resolved is None


def test_answer_to_json_has_the_contract_shape() -> None:
    hit = Hit(rank=1, score=0.5, paragraph=paragraph((1,)),
              citations=(Citation(marker=1, text="Smith.", urls=("https://a.org/x",)),), highlight="Body.")
    out = answer_to_json(Answer(question="Why?", hits=(hit,), abstained=False, retriever="dense"))
    json.dumps(out)  # serialisable
    assert out["question"] == "Why?"
    assert out["abstained"] is False and out["retriever"] == "dense"
    (result,) = out["results"]
    assert {"rank", "score", "passage_id", "doc", "section", "page", "text", "citations"} <= set(result)
    assert (result["rank"], result["score"], result["passage_id"], result["doc"], result["section"],
            result["page"], result["text"]) == (1, 0.5, "d.txt#p3", "d.txt", "Intro", None, "Body.[2][1]")
    assert result["citations"] == [{"marker": 1, "text": "Smith.", "urls": ["https://a.org/x"],
                                    "resolved": None, "unresolved": False}]


def test_pages() -> None:
    assert (pages(None, None), pages(4, None), pages(4, 4), pages(4, 5)) == ("", "p. 4", "p. 4", "pp. 4–5")
