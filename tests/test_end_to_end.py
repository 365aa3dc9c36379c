"""End to end (slow): the real model on the real corpus, one index built per session and shared."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import realmodel
from conftest import CORPUS, QUESTIONS

from qa import index
from qa.evaluate import evaluate, load_questions
from qa.output import answer_to_json
from qa.search import search

pytestmark = pytest.mark.slow

DOC = CORPUS.name
ROUND_TRIP_QUESTIONS = [
    "When did the EEC open its delegation in Tokyo?",
    "What did the EU declare in January 2024 after the EU-Japan summit of July 13, 2023?",
    "Which Japanese cabinet approved the right to collective self-defence?",
    "What did Japan re-export to its American ally?",
    "Who is the author of the paper?",
]


@pytest.fixture(scope="session")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real corpus indexed with the real model, once; tests must not modify it."""
    folder = tmp_path_factory.mktemp("real") / "index"
    index.build(CORPUS.parent, folder, realmodel.embedder(), log=lambda line: None)
    return folder


@pytest.fixture(scope="session")
def loaded(real_index: Path) -> index.Index:
    return index.load(real_index)


def ask(idx: index.Index, question: str, k: int = 5):
    return search(idx, realmodel.embedder(), question, k)


def test_the_1974_passage_ranks_first_for_the_eec_delegation(loaded: index.Index) -> None:
    answer = ask(loaded, "When did the EEC open its delegation in Tokyo?")
    first = answer.hits[0].paragraph
    assert "European Economic Community (EEC) delegation in Tokyo in 1974" in first.text
    assert not answer.abstained


def test_the_july_13_2023_summit_passage_carries_footnote_1(loaded: index.Index) -> None:
    answer = ask(loaded, "What did the EU declare in January 2024 after the EU-Japan summit of July 13, 2023?")
    hit = next(h for h in answer.hits if "EU-Japan summit on July 13, 2023" in h.paragraph.text)
    assert hit.rank <= 2
    note = next(c for c in hit.citations if c.marker == 1)
    assert note.text.startswith("Kyodo")
    assert any(url.startswith("https://www.japantimes.co.jp/") for url in note.urls)
    assert "[1]" in hit.paragraph.display and "[1]" not in hit.paragraph.text


def test_save_and_load_give_identical_results(loaded: index.Index, real_index: Path, tmp_path: Path) -> None:
    before = [answer_to_json(ask(loaded, q)) for q in ROUND_TRIP_QUESTIONS]
    copy = tmp_path / "index"
    shutil.copytree(real_index, copy)
    # Rebuilding with nothing changed loads the index and saves it again, embedding nothing.
    report = index.build(CORPUS.parent, copy, realmodel.embedder(), log=lambda line: None)
    assert report.embedded == 0
    assert [answer_to_json(ask(index.load(copy), q)) for q in ROUND_TRIP_QUESTIONS] == before


def test_the_index_is_current_and_complete(loaded: index.Index) -> None:
    assert index.stale(loaded.manifest, CORPUS.parent) == []
    assert loaded.manifest["model"] == "all-MiniLM-L6-v2+openvino" and loaded.manifest["dim"] == 384  # the default
    assert loaded.manifest["counts"]["footnotes"] == 28
    assert sorted(m for p in loaded.paragraphs for m in p.footnotes) == list(range(1, 29))


def test_every_chunk_fits_the_model_window(loaded: index.Index) -> None:
    model = realmodel.embedder()
    too_long = [(c.id, model.count_tokens(c.text)) for c in loaded.chunks
                if model.count_tokens(c.text) > model.max_tokens]
    assert too_long == []


def test_fact_questions_hit_at_5_is_at_least_90_percent(loaded: index.Index) -> None:
    facts = [q for q in load_questions(QUESTIONS) if q.type == "fact"]
    assert len(facts) >= 30
    result = evaluate(loaded, realmodel.embedder(), facts, "hybrid", k=10)
    assert result.gold_missing == []
    assert result.overall["hit@5"] >= 0.9, result.failures
