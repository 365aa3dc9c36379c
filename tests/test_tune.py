"""tune: dev questions → settings stored with the index, on the tiny corpus with the fake embedder."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import FakeEmbedder, use_fake_model

from qa import cli, index, tune
from qa.evaluate import evaluate
from qa.questions import Question
from qa.search import search
from qa.settings import DEFAULT

DEV = [
    Question("h1", "When was the harbour of Vellmar opened?", "fact", ("opened in 1911",)),
    Question("h2", "Who paid for rebuilding the docks after the flood?", "pagesplit", ("money from the regional council",)),
    Question("h3", "Which fish come back with the boats?", "fact", ("herring and cod",)),
    Question("h4", "How many people work at the harbour today?", "numeric", ("employs 400 people",)),
    Question("o1", "When do apple trees bloom?", "fact", ("bloom in April",), ("Orchard survey",)),
    Question("o2", "Which fruit ripens in September?", "paraphrase", ("Pears ripen later",)),
    Question("u1", "What is the capital of Peru?", "unanswerable", ()),
    Question("u2", "Who won the football cup in 1990?", "unanswerable", ()),
]
TEST = [
    Question("t1", "What goods does the harbour handle?", "fact", ("grain and timber",), split="test"),
    Question("t2", "How tall is the lighthouse?", "unanswerable", (), split="test"),
]


@pytest.fixture
def built(small_docs: Path, tmp_path: Path) -> Path:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None)
    return tmp_path / "idx"


def test_the_objective_is_what_qa_eval_measures_with_the_chosen_settings(built: Path) -> None:
    idx = index.load(built)
    result = tune.tune(idx, FakeEmbedder(), DEV + TEST)
    measured = evaluate(idx, FakeEmbedder(), DEV, "hybrid", 10, result.settings)
    assert result.objective == pytest.approx((measured.overall["hit@5"] + measured.overall["mrr@10"]) / 2, abs=1e-9)
    start = evaluate(idx, FakeEmbedder(), DEV, "hybrid", 10, DEFAULT)
    assert result.objective_start == pytest.approx((start.overall["hit@5"] + start.overall["mrr@10"]) / 2, abs=1e-9)
    assert result.objective >= result.objective_start
    assert (result.dev_answerable, result.dev_unanswerable) == (6, 2)


def test_a_knob_moves_only_for_a_gain_and_to_the_best_grid_value(built: Path) -> None:
    idx = index.load(built)
    grid = {"dense_weight": (0.0, 0.5, 1.0)}
    result = tune.tune(idx, FakeEmbedder(), DEV, grid=grid)
    scores = {w: tune.tune(idx, FakeEmbedder(), DEV, grid={}, start=replace(DEFAULT, dense_weight=w)).objective
              for w in grid["dense_weight"]}
    assert scores[result.settings.dense_weight] == max(scores.values())
    if result.settings.dense_weight != DEFAULT.dense_weight:
        assert scores[result.settings.dense_weight] >= scores[DEFAULT.dense_weight] + 0.5 / 6
        assert result.moves and result.moves[0].startswith("dense_weight 0.5 → ")
    else:
        assert result.moves == []


def test_abstention_is_calibrated_on_dev_within_three_percent(built: Path) -> None:
    idx = index.load(built)
    result = tune.tune(idx, FakeEmbedder(), DEV + TEST)
    tops = {q.id: search(idx, FakeEmbedder(), q.question, settings=result.settings).scores["top_dense"] for q in DEV}
    # 6 answerable dev questions: 3% of them is 0, so none may abstain; every unanswerable one scoring
    # under all of them is caught.
    answerable = [tops[q.id] for q in DEV if q.answers]
    assert result.settings.abstain_below <= min(answerable)
    assert all(not search(idx, FakeEmbedder(), q.question, settings=result.settings).abstained for q in DEV if q.answers)
    for q in DEV:
        if not q.answers and tops[q.id] < min(answerable):
            assert search(idx, FakeEmbedder(), q.question, settings=result.settings).abstained
    assert result.calibration["threshold"] == result.settings.abstain_below


def test_test_questions_do_not_change_the_chosen_settings(built: Path) -> None:
    idx = index.load(built)
    alone = tune.tune(idx, FakeEmbedder(), DEV)
    # Test questions that would pull every knob elsewhere if they were read: answerable ones worded like
    # other paragraphs, unanswerable ones worded exactly like a paragraph (they would lower the threshold).
    misleading = [Question(f"x{i}", p.text, "fact", ("no such text anywhere",), split="test")
                  for i, p in enumerate(idx.paragraphs)]
    misleading += [Question(f"y{i}", p.text, "unanswerable", (), split="test") for i, p in enumerate(idx.paragraphs)]
    assert tune.tune(idx, FakeEmbedder(), DEV + TEST + misleading).settings == alone.settings
    assert tune.tune(idx, FakeEmbedder(), misleading + DEV).settings == alone.settings


HAVE_MILVUS = importlib.util.find_spec("pymilvus") is not None and importlib.util.find_spec("milvus_lite") is not None


@pytest.mark.parametrize("kind", ["faiss", pytest.param("milvus", marks=[pytest.mark.slow, pytest.mark.skipif(
    not HAVE_MILVUS, reason="pymilvus/milvus-lite not installed: pip install 'qa[milvus]'")])])
def test_tuning_reads_the_vectors_through_the_store_interface(kind: str, small_docs: Path, tmp_path: Path) -> None:
    spec = "faiss" if kind == "faiss" else f"milvus:{tmp_path / 'vectors.db'}"
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None, store=spec)
    idx = index.load(tmp_path / "idx")
    searched: list[int] = []
    real = idx.store.search

    def counting(vector, k, docs=None):  # type: ignore[no-untyped-def]
        searched.append(k)
        return real(vector, k, docs)

    idx.store.search = counting
    result = tune.tune(idx, FakeEmbedder(), DEV + TEST)
    assert len(searched) == len(DEV)  # each dev question searched once, then re-scored; test questions never
    measured = evaluate(idx, FakeEmbedder(), DEV, "hybrid", 10, result.settings)
    assert result.objective == pytest.approx((measured.overall["hit@5"] + measured.overall["mrr@10"]) / 2, abs=1e-9)
    if kind != "faiss":
        index.build(small_docs, tmp_path / "ref", FakeEmbedder(), log=lambda line: None)
        assert tune.tune(index.load(tmp_path / "ref"), FakeEmbedder(), DEV + TEST).settings == result.settings


def test_tuning_needs_answerable_dev_questions(built: Path) -> None:
    with pytest.raises(ValueError, match="no answerable dev questions"):
        tune.tune(index.load(built), FakeEmbedder(), TEST)


@pytest.fixture
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_model(monkeypatch, lambda name=None, *a, **kw: FakeEmbedder())
    monkeypatch.delenv("QA_MODEL", raising=False)


def write_questions(path: Path, questions: list[Question]) -> Path:
    rows = [{"id": q.id, "question": q.question, "type": q.type, "answers": list(q.answers),
             "sources": list(q.sources), "split": q.split} for q in questions]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_qa_eval_tune_stores_the_settings_that_search_and_eval_then_use(
        built: Path, tmp_path: Path, fake_model: None, capsys: pytest.CaptureFixture) -> None:
    questions = write_questions(tmp_path / "q.jsonl", DEV + TEST)
    manifest = (built / "manifest.json").read_bytes()
    assert cli.main(["eval", "--tune", "--questions", str(questions), "--index", str(built), "--retriever", "hybrid"]) == 0
    out = capsys.readouterr().out
    assert "before: defaults for fake-hash-64" in out and f"after:  {built / 'settings.json'}" in out
    assert "dev   before   hybrid" in out and "test  after    hybrid" in out
    stored = json.loads((built / "settings.json").read_text(encoding="utf-8"))
    assert stored["model"] == "fake-hash-64" and stored["tuned"]["split"] == "dev"
    assert stored["tuned"]["questions_sha256"] == tune.file_sha256(questions)
    assert (built / "manifest.json").read_bytes() == manifest  # the index itself is untouched
    idx = index.load(built)
    expected = tune.tune(idx, FakeEmbedder(), DEV + TEST).settings
    assert idx.settings == expected
    # qa eval says which settings it used, and uses them.
    assert cli.main(["eval", "--questions", str(questions), "--index", str(built), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["settings"]
    assert shown["source"].startswith(str(built / "settings.json")) and shown["abstain_below"] == expected.abstain_below
    # qa search abstains by the stored threshold.
    assert cli.main(["search", "What is the capital of Peru?", "--json", "--index", str(built)]) == 0
    answer = json.loads(capsys.readouterr().out)
    top = search(idx, FakeEmbedder(), "What is the capital of Peru?").scores["top_dense"]
    assert answer["abstained"] == (top < expected.abstain_below)


def test_qa_eval_tune_json_and_usage(built: Path, tmp_path: Path, fake_model: None,
                                     capsys: pytest.CaptureFixture) -> None:
    questions = write_questions(tmp_path / "q.jsonl", DEV + TEST)
    assert cli.main(["eval", "--tune", "--questions", str(questions), "--index", str(built), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["file"] == str(built / "settings.json") and data["before"]["source"] == "defaults for fake-hash-64"
    assert {(r["split"], r["settings"], r["retriever"]) for r in data["results"]} == \
        {(s, b, r) for s in ("dev", "test") for b in ("before", "after") for r in ("hybrid", "dense", "bm25")}
    assert cli.main(["eval", "--tune", "--split", "test", "--index", str(built)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--tune tunes on the dev split" in err[0]


def test_the_quantity_check_is_kept_only_when_it_catches_more_within_the_cap(built: Path) -> None:
    idx = index.load(built)
    # Asks an amount the harbour's opening paragraph (years only) does not state, worded like that paragraph.
    ships = Question("u3", "How many ships does the harbour of Vellmar have, opened by the river authority?",
                     "unanswerable", ())
    on = tune.tune(idx, FakeEmbedder(), [*DEV, ships])
    off = tune.tune(idx, FakeEmbedder(), DEV)
    assert on.settings.quantity_check is True and on.calibration["quantity_check"] == 1.0
    assert on.calibration["unanswerable_recall"] > off.calibration["unanswerable_recall"] or \
        off.settings.quantity_check
    assert search(idx, FakeEmbedder(), ships.question, settings=on.settings).abstained
    # An answerable amount question whose passage states no number: the check would lose it, over the cap (0 of 7).
    goods = Question("h5", "How many kinds of goods does the harbour of Vellmar handle?", "fact",
                     ("It handles grain and timber",))
    assert search(idx, FakeEmbedder(), goods.question, settings=on.settings).scores["quantity_missing"]
    assert tune.tune(idx, FakeEmbedder(), [*DEV, ships, goods]).settings.quantity_check is False
