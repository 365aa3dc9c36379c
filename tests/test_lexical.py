"""Lexical stage: content words, the expansion vocabulary, BM25 scores and embedding-based expansion."""

from __future__ import annotations

import numpy as np
from conftest import FakeEmbedder

from qa import lexical

TEXTS = [
    "The harbour was opened in 1911 by the river authority.",
    "Fishing boats return with herring and cod at dawn.",
    "The demise of the old docks followed the flood.",
]


def test_words_are_lower_case_content_words_without_stopwords_or_numbers() -> None:
    assert lexical.words("Was THE harbour opened, in 1911?") == ["harbour", "opened"]
    assert lexical.words("EU-Japan ties") == ["eu-japan", "ties"]


def test_vocabulary_is_most_frequent_first_and_deterministic() -> None:
    vocab = lexical.vocabulary([*TEXTS, "harbour harbour"])
    assert vocab[0] == "harbour"
    assert vocab == lexical.vocabulary([*TEXTS, "harbour harbour"])
    assert "the" not in vocab and "1911" not in vocab


def test_bm25_scores_rank_the_matching_text_first_and_are_zero_without_a_match() -> None:
    retriever = lexical.build(TEXTS)
    scores = lexical.scores(retriever, "When was the harbour opened?")
    assert scores.shape == (3,) and int(np.argmax(scores)) == 0 and scores[1] == 0
    assert not lexical.scores(retriever, "zebra xylophone").any()
    assert not lexical.scores(retriever, "the of and").any()  # stopwords only


def test_bm25_round_trip_through_plain_files(tmp_path) -> None:
    retriever = lexical.build(TEXTS)
    lexical.save(retriever, tmp_path / "bm25")
    assert not list((tmp_path / "bm25").glob("*.pkl"))
    again = lexical.load(tmp_path / "bm25", 3)
    q = "fishing boats at dawn"
    assert np.allclose(lexical.scores(retriever, q), lexical.scores(again, q))


def test_expansion_adds_the_scores_of_a_similar_corpus_word() -> None:
    retriever = lexical.build(TEXTS)
    vocab = lexical.vocabulary(TEXTS)
    vectors = np.zeros((len(vocab), 4), dtype=np.float32)
    vectors[:, 3] = 1.0
    vectors[vocab.index("demise")] = [1, 0, 0, 0]
    question_word = np.array([[0.9, 0.436, 0, 0]], dtype=np.float32)  # cosine 0.9 with "demise"
    extra = lexical.expansion_scores(retriever, vocab, vectors, ["killing"], question_word)
    assert int(np.argmax(extra)) == 2 and extra[0] == 0 and extra[1] == 0
    none = lexical.expansion_scores(retriever, vocab, vectors, ["killing"], question_word, min_sim=0.95)
    assert not none.any()


def test_vocab_vectors_round_trip_as_float16(tmp_path) -> None:
    vocab = lexical.vocabulary(TEXTS)
    vectors = FakeEmbedder().encode(vocab)
    lexical.save_vocab(vocab, vectors, tmp_path)
    words, loaded = lexical.load_vocab(tmp_path, vectors.shape[1])
    assert words == vocab and loaded.dtype == np.float32
    assert np.allclose(loaded, vectors, atol=1e-3)
    assert lexical.load_vocab(tmp_path / "missing", 64)[0] == []


def test_signs_are_indexed_with_the_words_they_stand_for() -> None:
    from qa.records import Paragraph

    def para(text: str) -> Paragraph:
        return Paragraph(id=f"d#{text[:3]}", doc="d", number=1, section="Credits", page=None, page_end=None,
                         text=text, display=text, footnotes=())

    texts = [lexical.document_text(para(t), {}) for t in
             ("© 2024 The Harbour Trust", "The Harbour Trust was founded in 1911.", "Tariffs fell by 99% in 2019.")]
    assert texts[0].endswith("copyright") and "copyright" not in texts[1] and texts[2].endswith("percent")
    scores = lexical.scores(lexical.build(texts), "Who holds the copyright of the report?")
    assert int(np.argmax(scores)) == 0 and scores[1] == 0


def test_a_note_cited_again_and_again_is_indexed_once() -> None:
    from qa.records import Footnote, Paragraph

    note = Footnote(doc="d", marker=1, text="Smith, The long history of harbours.", urls=())
    paragraph = Paragraph(id="d#p1", doc="d", number=1, section=None, page=None, page_end=None,
                          text="Harbours grew.", display="Harbours grew.", footnotes=(1,) * 20_000)
    assert lexical.document_text(paragraph, {("d", 1): note}) == "Harbours grew. Smith, The long history of harbours."
