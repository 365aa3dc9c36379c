"""search: question → ranked paragraphs, on the tiny corpus with the fake embedder."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_TXT, FakeEmbedder

from qa import index
from qa.errors import InputError
from qa.output import answer_to_json
from qa.search import DEFAULT, RETRIEVERS, check_k, clean_question, search

SMALL_MD = ("# Orchards\n\nApple trees bloom in April in the northern orchards.[^a]\n\n"
            "Pears ripen later, in September.\n\n[^a]: Orchard survey, <https://example.org/orchards>.\n")

QUESTIONS = [
    "When was the harbour of Vellmar opened?",
    "Who paid to rebuild the docks after the flood of 1953?",
    "What time does the fish market open?",
    "When do apple trees bloom in the northern orchards?",
]


@pytest.fixture
def built(small_docs: Path, tmp_path: Path) -> Path:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None)
    return tmp_path / "idx"


@pytest.fixture(scope="module")
def idx(tmp_path_factory: pytest.TempPathFactory) -> index.Index:
    """One read-only index of the tiny corpus for the tests that only search."""
    docs = tmp_path_factory.mktemp("docs")
    (docs / "harbours.txt").write_text(SMALL_TXT, encoding="utf-8")
    (docs / "notes.md").write_text(SMALL_MD, encoding="utf-8")
    index.build(docs, docs.parent / "idx", FakeEmbedder(), log=lambda line: None)
    return index.load(docs.parent / "idx")


def run(idx: index.Index, question: str, k: int = 5, retriever: str = "hybrid", **kw):
    return search(idx, FakeEmbedder(), question, k, retriever, **kw)


def results(idx: index.Index) -> list[dict]:
    return [answer_to_json(run(idx, q, k=10, retriever=r)) for q in QUESTIONS for r in RETRIEVERS]


# --- round trip ----------------------------------------------------------------------------

def test_save_and_load_give_the_same_answers(built: Path, small_docs: Path, tmp_path: Path) -> None:
    before = results(index.load(built))
    shutil.copytree(built, tmp_path / "copy")
    assert results(index.load(tmp_path / "copy")) == before
    # A rebuild with nothing changed writes the loaded data out again: same answers after reloading.
    report = index.build(small_docs, built, FakeEmbedder(), log=lambda line: None)
    assert report.embedded == 0
    assert results(index.load(built)) == before


def test_two_fresh_builds_answer_identically(built: Path, small_docs: Path, tmp_path: Path) -> None:
    index.build(small_docs, tmp_path / "again", FakeEmbedder(), log=lambda line: None)
    assert results(index.load(tmp_path / "again")) == results(index.load(built))


# --- ranking -------------------------------------------------------------------------------

@pytest.mark.parametrize("retriever", RETRIEVERS)
@pytest.mark.parametrize("question, expected", [
    ("The harbour of Vellmar was opened in 1911 by the river authority", "harbours.txt#p2"),
    ("the docks were rebuilt after the flood of 1953", "harbours.txt#p3"),
    ("Fishing boats leave at dawn and return with herring and cod", "harbours.txt#p4"),
    ("Apple trees bloom in April in the northern orchards", "notes.md#p1"),
    ("Pears ripen later, in September", "notes.md#p2"),
])
def test_exact_wording_finds_the_paragraph(idx: index.Index, retriever: str, question: str, expected: str) -> None:
    answer = run(idx, question, retriever=retriever)
    assert answer.retriever == retriever
    assert answer.hits[0].paragraph.id == expected


def test_one_result_per_paragraph_ranked_by_score(idx: index.Index) -> None:
    answer = run(idx, "harbour docks fish orchards", k=50)
    ids = [h.paragraph.id for h in answer.hits]
    assert len(ids) == len(set(ids))
    assert set(ids) <= {p.id for p in idx.paragraphs}
    assert [h.rank for h in answer.hits] == list(range(1, len(ids) + 1))
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_k_is_respected(idx: index.Index, k: int) -> None:
    assert len(run(idx, "harbour", k=k).hits) == k


def test_hits_carry_their_citations_with_urls(idx: index.Index) -> None:
    answer = run(idx, "The harbour of Vellmar was opened in 1911 by the river authority")
    hits = {h.paragraph.id: h for h in answer.hits}
    (cite1,) = hits["harbours.txt#p2"].citations
    assert cite1.marker == 1 and cite1.text.startswith("River Authority")
    assert cite1.urls == ("https://example.org/report-1911.pdf",)
    (cite2,) = hits["harbours.txt#p3"].citations  # "Ibid." carries the source it points to
    assert cite2.text == "Ibid." and cite2.resolved.startswith("River Authority")
    assert cite2.urls == ("https://example.org/report-1911.pdf",)
    apple = run(idx, "Apple trees bloom in April").hits[0]
    assert [(c.marker, c.urls) for c in apple.citations] == [("a", ("https://example.org/orchards",))]


def test_a_paragraph_without_footnotes_has_no_citations(idx: index.Index) -> None:
    hit = run(idx, "Pears ripen later, in September").hits[0]
    assert hit.paragraph.id == "notes.md#p2" and hit.citations == ()


# --- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x01\x07\x1b", None, 42])
def test_empty_or_non_text_questions_are_refused(idx: index.Index, question: object) -> None:
    with pytest.raises(InputError, match="question"):
        run(idx, question)  # type: ignore[arg-type]


def test_a_huge_question_is_refused(idx: index.Index) -> None:
    with pytest.raises(InputError, match="too long"):
        run(idx, "harbour " * 12_800)  # 100 KB


def test_control_characters_inside_a_question_are_removed(idx: index.Index) -> None:
    dirty = run(idx, "When was\x00 the harbour\x1b of Vellmar\x07 opened?\r\n")
    clean = run(idx, "When was the harbour of Vellmar opened?")
    assert dirty.question == "When was the harbour of Vellmar opened?"
    assert answer_to_json(dirty) == answer_to_json(clean)
    assert clean_question("a\tb\u0085c") == "a b c"


@pytest.mark.parametrize("k", [0, -1, 101, "five", None, 2.5j, 2.7, float("inf"), float("nan"), True, "1e3", "2.5"])
def test_bad_k_is_refused(idx: index.Index, k: object) -> None:
    with pytest.raises(InputError, match="k"):
        run(idx, "harbour", k=k)  # type: ignore[arg-type]


def test_check_k_accepts_numbers_in_range() -> None:
    assert (check_k(1), check_k("7"), check_k(100), check_k(5.0), check_k(" 3 ")) == (1, 7, 100, 5, 3)


def test_a_question_with_lone_surrogates_is_answered(idx: index.Index) -> None:
    """Broken UTF-16 from an API client, or undecodable bytes in argv (Python's surrogateescape)."""
    dirty = run(idx, "When was the harbour\ud800 of Vellmar\udce9 opened?")
    assert dirty.question == "When was the harbour of Vellmar opened?"
    assert dirty.hits[0].paragraph.id == "harbours.txt#p2"


def test_an_unknown_retriever_is_refused(idx: index.Index) -> None:
    with pytest.raises(InputError, match="retriever"):
        run(idx, "harbour", retriever="magic")


# --- abstention ----------------------------------------------------------------------------

def test_abstention_follows_the_threshold_on_both_sides(idx: index.Index) -> None:
    question = "Which volcano erupted on the moon of Jupiter?"
    top = run(idx, question).scores["top_dense"]
    assert -1.0 <= top <= 1.0
    above = dataclasses.replace(DEFAULT, abstain_below=top + 0.01)
    below = dataclasses.replace(DEFAULT, abstain_below=top - 0.01)
    assert run(idx, question, settings=above).abstained is True
    assert run(idx, question, settings=below).abstained is False
    assert run(idx, question, settings=dataclasses.replace(DEFAULT, abstain_below=2.0)).abstained is True
    assert run(idx, question, settings=dataclasses.replace(DEFAULT, abstain_below=-2.0)).abstained is False


def test_an_abstaining_answer_still_lists_the_closest_passages(idx: index.Index) -> None:
    answer = run(idx, "harbour", settings=dataclasses.replace(DEFAULT, abstain_below=2.0))
    assert answer.abstained and len(answer.hits) == 5


@pytest.mark.parametrize("retriever", RETRIEVERS)
def test_a_document_filter_keeps_only_that_documents_passages(idx: index.Index, fake_embedder: FakeEmbedder,
                                                              retriever: str) -> None:
    question = "When do apple trees bloom in the orchards?"
    unfiltered = search(idx, fake_embedder, question, 5, retriever)
    assert {h.paragraph.doc for h in unfiltered.hits} == {"harbours.txt", "notes.md"}
    only = search(idx, fake_embedder, question, 5, retriever, docs={"harbours.txt"})
    assert only.hits and {h.paragraph.doc for h in only.hits} == {"harbours.txt"}
    assert [h.rank for h in only.hits] == list(range(1, len(only.hits) + 1))


def test_new_question_words_come_from_the_embedders_word_table(idx: index.Index) -> None:
    class WithTable(FakeEmbedder):
        """A model with a word table: only the question itself is encoded."""

        def __init__(self) -> None:
            self.encoded: list[list[str]] = []
            self.looked_up: list[list[str]] = []

        def encode(self, texts: list[str], progress: bool = False):
            self.encoded.append(list(texts))
            return super().encode(texts)

        def encode_words(self, words: list[str]):
            self.looked_up.append(list(words))
            return super().encode(words)

    question = "When did the quayside of Vellmar welcome ships?"  # quayside, welcome: not in the corpus
    model = WithTable()
    with_table = search(idx, model, question, 5)
    assert model.encoded == [[question]]
    assert model.looked_up and {"quayside", "welcome"} <= set(model.looked_up[0])
    assert "vellmar" not in model.looked_up[0]  # a corpus word is read from the index
    plain = search(idx, FakeEmbedder(), question, 5)  # encoded instead: same vectors, same answer
    assert answer_to_json(with_table) == answer_to_json(plain)


def test_a_titled_chunk_highlights_the_paragraphs_first_sentence(idx: index.Index) -> None:
    from qa.chunk import split_sentences
    from qa.search import highlight

    chunk_row = next(i for i, c in enumerate(idx.chunks) if c.kind == "titled")
    row = next(i for i, p in enumerate(idx.paragraphs) if p.id == idx.chunks[chunk_row].paragraph_id)
    paragraph = idx.paragraphs[row]
    assert idx.chunks[chunk_row].text.startswith(f"{paragraph.section}: ")
    assert highlight(idx, row, chunk_row, "anything at all") == split_sentences(paragraph.text)[0]


def test_a_note_chunk_counts_less_than_the_paragraphs_own_text(idx: index.Index) -> None:
    from qa.search import pool

    note_row = next(i for i, c in enumerate(idx.chunks) if c.kind == "note")
    par = int(idx.chunk_paragraph[note_row])
    query = FakeEmbedder().encode([idx.chunks[note_row].text])[0]  # the footnote's own words
    ids, sims = idx.store.search(query, 200, None)
    plain, best = pool(idx, ids, sims, 0.0)
    assert best[par] == note_row and plain[par] > 0.99
    lowered, _ = pool(idx, ids, sims, 0.1)
    own = max(float(np.dot(query, FakeEmbedder().encode([c.text])[0]))
              for c in idx.chunks if c.paragraph_id == idx.paragraphs[par].id and c.kind != "note")
    assert lowered[par] == pytest.approx(max(plain[par] - 0.1, own), abs=1e-5)
    assert DEFAULT.note_penalty == 0.1


@pytest.mark.parametrize("question, asks", [
    ("How many people work at the harbour?", True), ("How much did the docks cost?", True),
    ("What share of the trade goes north?", True), ("What was the total value of the grain trade?", True),
    ("What was the budget in euros?", True), ("When was the harbour opened?", False),
    ("Who paid for the docks?", False), ("How did the harbour change?", False),
])
def test_asks_quantity(question: str, asks: bool) -> None:
    from qa.search import asks_quantity

    assert asks_quantity(question) is asks


@pytest.mark.parametrize("text, plain, units", [
    ("The harbour employs 400 people.", True, False), ("Trade fell by 9% in a year.", True, True),
    ("It cost 3 billion euros.", True, True), ("Two thirds of the boats are old.", True, False),
    ("The harbour opened in 1911 and was rebuilt in 1953.", False, False),  # years are no amount
    ("The G7 and the Sakhalin-2 project.", False, False), ("Ibid., p. 12, 2019.", True, False),
    ("No number here.", False, False),
])
def test_states_quantity(text: str, plain: bool, units: bool) -> None:
    from qa.search import states_quantity

    assert states_quantity(text) is plain
    assert states_quantity(text, units_only=True) is units


def test_the_quantity_check_abstains_when_the_best_passage_states_no_amount(idx: index.Index) -> None:
    on = dataclasses.replace(DEFAULT, abstain_below=-1.0, quantity_check=True)
    # The opening paragraph states only years: it does not say how many ships the harbour has.
    answer = run(idx, "How many ships does the harbour of Vellmar have?", settings=on)
    assert "opened in 1911" in answer.hits[0].paragraph.text
    assert answer.abstained and answer.scores["quantity_missing"] and len(answer.hits) == 5
    assert not run(idx, "How many ships does the harbour of Vellmar have?",
                   settings=dataclasses.replace(on, quantity_check=False)).abstained
    # The paragraph stating "400 people" answers an amount; a question asking no amount is never checked.
    assert not run(idx, "How many people does the harbour employ today?", settings=on).abstained
    assert not run(idx, "When was the harbour of Vellmar opened?", settings=on).abstained


def test_an_amount_asked_in_a_currency_needs_a_passage_naming_one(idx: index.Index) -> None:
    from qa.search import lacks_quantity

    row = next(i for i, p in enumerate(idx.paragraphs) if "employs 400 people" in p.text)
    assert not lacks_quantity(idx, "How many people does the harbour employ?", row)
    assert lacks_quantity(idx, "How much did the harbour earn in euros?", row)  # 400 people is no sum of money
    assert lacks_quantity(idx, "How much money did the harbour earn?", row)
    assert not lacks_quantity(idx, "Who paid for the docks?", row)  # asks no amount: never checked


class _Uncountable(str):
    """A question whose characters may not be looked at one by one (iterating raises)."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise AssertionError("walked the characters of a question that is too long")


def test_a_huge_question_is_refused_before_its_characters_are_looked_at() -> None:
    with pytest.raises(InputError, match="too long") as raised:
        clean_question(_Uncountable("harbour " * 5_000_000))  # 40 MB
    assert len(str(raised.value)) < 200  # the message never repeats the question


def test_an_unknown_document_in_the_filter_is_not_echoed_whole(idx: index.Index) -> None:
    with pytest.raises(InputError, match="docs: no document") as raised:
        search(idx, FakeEmbedder(), "When was the harbour opened?", docs=["x" * 1_000_000 + "\n"])
    assert len(str(raised.value)) < 600 and "\n" not in str(raised.value)
