"""evaluate: metrics on hand-made rankings, gold matching, question files, calibration, outputs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import FakeEmbedder

from qa import index
from qa.errors import InputError
from qa.evaluate import Question, calibrate, evaluate, load_questions, metrics_for, qrels_for, question_file
from qa.report import table, tick_labels, write_out

# --- metrics -------------------------------------------------------------------------------

def test_metrics_for_a_hit_at_rank_three_of_two_relevant() -> None:
    m = metrics_for(["a", "x", "b", "y", "z"], {"b": 1, "c": 1}, k=5)
    assert m["hit@1"] == 0.0
    assert m["hit@5"] == 1.0
    assert m["recall@5"] == 0.5
    assert m["mrr@10"] == pytest.approx(1 / 3)
    assert m["ndcg@10"] == pytest.approx((1 / math.log2(4)) / (1 + 1 / math.log2(3)))


def test_metrics_for_a_perfect_ranking() -> None:
    m = metrics_for(["a", "b", "x"], {"a": 1, "b": 1}, k=2)
    assert m == {"hit@1": 1.0, "hit@5": 1.0, "recall@2": 1.0, "mrr@10": 1.0, "ndcg@10": pytest.approx(1.0)}


def test_metrics_for_a_hit_past_the_cut_offs() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["gold"]
    m = metrics_for(ranked, {"gold": 1}, k=10)
    assert m == {"hit@1": 0.0, "hit@5": 0.0, "recall@10": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}


def test_metrics_for_rank_six() -> None:
    m = metrics_for(["a", "b", "c", "d", "e", "gold"], {"gold": 1}, k=10)
    assert (m["hit@5"], m["recall@10"], m["mrr@10"]) == (0.0, 1.0, pytest.approx(1 / 6))
    assert m["ndcg@10"] == pytest.approx(1 / math.log2(7))


def test_metrics_for_no_relevant_passages() -> None:
    m = metrics_for(["a", "b"], {}, k=5)
    assert m == {"hit@1": 0.0, "hit@5": 0.0, "recall@5": 0.0, "mrr@10": 0.0, "ndcg@10": 0.0}


# --- gold → qrels --------------------------------------------------------------------------

def test_qrels_match_substrings_ignoring_whitespace_quotes_and_case() -> None:
    paragraphs = [
        SimpleNamespace(id="d#p1", text="The doctrine of “hard security” was   adopted in Japan’s 2013 strategy."),
        SimpleNamespace(id="d#p2", text="Nothing relevant here."),
        SimpleNamespace(id="d#p3", text='Again the "HARD security" doctrine was adopted.'),
    ]
    questions = [
        Question("q1", "What was adopted?", "fact", ('"hard security" was\nadopted in Japan\'s',)),
        Question("q2", "Which doctrine?", "fact", ('the "hard security" doctrine',)),
        Question("q3", "Not there?", "fact", ("no such words",)),
        Question("q4", "Unanswerable?", "unanswerable", ()),
    ]
    qrels, missing = qrels_for(questions, paragraphs)
    assert qrels == {"q1": {"d#p1": 1}, "q2": {"d#p3": 1}, "q3": {}}
    assert missing == ["q3"]


def test_qrels_ignore_footnote_markers_in_the_gold() -> None:
    paragraphs = [SimpleNamespace(id="d#p1", text="The summit was held on July 13, 2023. The EU declared")]
    qrels, _ = qrels_for([Question("q", "?", "fact", ("July 13, 2023.[1] The EU",))], paragraphs)
    assert qrels == {"q": {"d#p1": 1}}


# --- question files ------------------------------------------------------------------------

def write_lines(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_questions_reads_fields_and_splits(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path / "q.jsonl",
        json.dumps({"id": "a", "question": "When?", "type": "fact", "answers": ["in 1911"], "split": "dev"}),
        "",
        json.dumps({"id": "b", "question": "Who?", "answers": [], "split": "test"}),
        json.dumps({"question": "Where?", "answers": ["here"], "sources": ["Smith"]}),
    )
    questions = load_questions(path)
    assert questions[0] == Question("a", "When?", "fact", ("in 1911",), (), "dev")
    assert (questions[1].type, questions[1].answers, questions[1].split) == ("unanswerable", (), "test")
    assert (questions[2].id, questions[2].type, questions[2].sources) == ("4", "fact", ("Smith",))
    assert [q.id for q in load_questions(path, split="test")] == ["b"]


@pytest.mark.parametrize("bad", ["{not json", '"just a string"', "[1, 2]", '{"id": "z", "answers": []}',
                                 '{"id": "z", "question": "Q", "answers": 5}'])
def test_load_questions_rejects_a_malformed_line_naming_file_and_line(tmp_path: Path, bad: str) -> None:
    path = write_lines(tmp_path / "q.jsonl", json.dumps({"id": "a", "question": "Q", "answers": ["x"]}), bad)
    with pytest.raises(InputError) as exc:
        load_questions(path)
    assert f"{path}:2:" in str(exc.value)


def test_load_questions_rejects_duplicate_ids_naming_the_line(tmp_path: Path) -> None:
    row = json.dumps({"id": "same", "question": "Q", "answers": ["x"]})
    path = write_lines(tmp_path / "q.jsonl", row, json.dumps({"id": "other", "question": "Q", "answers": []}), row)
    with pytest.raises(InputError, match=rf"{path}:3: duplicate id 'same'"):
        load_questions(path)


def test_load_questions_rejects_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_questions(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="no questions"):
        load_questions(write_lines(tmp_path / "empty.jsonl", ""))
    path = write_lines(tmp_path / "q.jsonl", json.dumps({"id": "a", "question": "Q", "answers": [], "split": "dev"}))
    with pytest.raises(InputError, match="split 'test'"):
        load_questions(path, split="test")


# --- calibration ---------------------------------------------------------------------------

def test_calibrate_picks_the_highest_threshold_within_the_false_abstain_cap() -> None:
    answerable = [0.40, 0.50, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85, 0.90, 0.95]
    unanswerable = [0.20, 0.45, 0.55]
    top = {f"a{i}": (s, True) for i, s in enumerate(answerable)} | {f"u{i}": (s, False) for i, s in enumerate(unanswerable)}
    result = calibrate(top, max_false=0.1)
    # The cap (0.5) catches 0.20 and 0.45; the threshold is midway between 0.45 and the next answerable, 0.5.
    assert result == {"threshold": 0.475, "unanswerable_recall": pytest.approx(2 / 3, abs=1e-4),
                      "answerable_abstained": 0.1}
    strict = calibrate(top, max_false=0.0)
    assert strict["threshold"] == 0.3 and strict["answerable_abstained"] == 0.0  # midway between 0.20 and 0.40
    assert strict["unanswerable_recall"] == pytest.approx(1 / 3, abs=1e-4)


def test_calibrate_loses_no_answerable_question_that_catches_nothing_more() -> None:
    # Abstaining below 0.8 (the cap at 20%) would lose 0.7 too and catch no more than abstaining below 0.65.
    top = {f"a{i}": (s, True) for i, s in enumerate([0.7, 0.8, 0.85, 0.9, 0.95])} | \
        {"u1": (0.3, False), "u2": (0.6, False), "u3": (0.9, False)}
    result = calibrate(top, max_false=0.2)
    assert result["threshold"] == 0.65 and result["answerable_abstained"] == 0.0
    assert result["unanswerable_recall"] == pytest.approx(2 / 3, abs=1e-4)
    nothing = calibrate({"a": (0.5, True), "b": (0.6, True), "u": (0.9, False)}, max_false=0.5)
    assert nothing["threshold"] == 0.5 and nothing["unanswerable_recall"] == 0.0 and nothing["answerable_abstained"] == 0.0


@pytest.mark.parametrize("cap", [0.0, 0.03, 0.1, 0.25, 0.5])
def test_calibrate_never_exceeds_the_cap(cap: float) -> None:
    top = {f"a{i}": ((i * 37 % 101) / 101, True) for i in range(60)}
    top |= {f"u{i}": ((i * 53 % 97) / 200, False) for i in range(20)}
    result = calibrate(top, max_false=cap)
    assert result["answerable_abstained"] <= cap
    abstained = sum(s < result["threshold"] for s, a in top.values() if a) / 60
    assert abstained == pytest.approx(result["answerable_abstained"], abs=1e-4)


def test_the_calibrated_threshold_is_rounded_down_so_its_rate_holds() -> None:
    # 0.37006 rounded to 4 places would be 0.3701 and abstain on the question at the threshold too.
    top = {f"a{i}": (s, True) for i, s in enumerate([0.30001, 0.37006, 0.5, 0.6])} | {"u": (0.36994, False)}
    result = calibrate(top, max_false=0.25)
    assert result["threshold"] == 0.37 and result["answerable_abstained"] == 0.25
    assert sum(s < result["threshold"] for s, a in top.values() if a) == 1


def test_calibrate_needs_both_kinds_of_question() -> None:
    assert calibrate({"a": (0.5, True)}) == {}
    assert calibrate({"u": (0.5, False)}) == {}


# --- evaluate on the tiny corpus -------------------------------------------------------------

TINY_QUESTIONS = [
    Question("h1", "When was the harbour of Vellmar opened?", "fact", ("opened in 1911",)),
    Question("h2", "Who paid for rebuilding the docks?", "pagesplit", ("money from the regional council",)),
    Question("h3", "Which fish come back with the boats?", "fact", ("herring and cod",)),
    Question("o1", "When do apple trees bloom?", "fact", ("bloom in April",), ("Orchard survey",)),
    Question("u1", "What is the capital of Peru?", "unanswerable", ()),
]


@pytest.fixture
def tiny(small_docs: Path, tmp_path: Path) -> index.Index:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None)
    return index.load(tmp_path / "idx")


def test_evaluate_on_the_tiny_corpus_is_deterministic(tiny: index.Index) -> None:
    first = evaluate(tiny, FakeEmbedder(), TINY_QUESTIONS, "hybrid", k=5)
    second = evaluate(tiny, FakeEmbedder(), TINY_QUESTIONS, "hybrid", k=5)
    assert first == second
    assert first.questions == 5
    assert first.overall["n"] == 4  # the unanswerable question is not in the ranking metrics
    assert first.by_type["fact"]["n"] == 3 and first.by_type["pagesplit"]["n"] == 1
    assert first.qrels == {"h1": {"harbours.txt#p2": 1}, "h2": {"harbours.txt#p3": 1},
                           "h3": {"harbours.txt#p4": 1}, "o1": {"notes.md#p1": 1}}
    assert first.gold_missing == []
    assert set(first.run) == {q.id for q in TINY_QUESTIONS}
    assert first.abstention["unanswerable"] == 1
    assert 0.0 <= first.overall["hit@5"] <= 1.0
    assert first.by_type["fact"]["n_source"] == 1


def test_evaluate_scores_a_perfect_retriever_as_perfect(tiny: index.Index) -> None:
    # Questions worded exactly like their paragraphs: every retriever finds them first.
    exact = [Question(f"e{p.number}{p.doc}", p.text, "fact", (p.text,)) for p in tiny.paragraphs if len(p.text) > 40]
    for retriever in ("hybrid", "dense", "bm25"):
        result = evaluate(tiny, FakeEmbedder(), exact, retriever, k=5)
        assert result.overall["hit@1"] == 1.0, result.failures
        assert result.overall["mrr@10"] == 1.0 and result.failures == []


def test_write_out_writes_qrels_runs_metrics_and_chart(tiny: index.Index, tmp_path: Path) -> None:
    results = [evaluate(tiny, FakeEmbedder(), TINY_QUESTIONS, r, k=5) for r in ("hybrid", "bm25")]
    out = tmp_path / "out"
    paths = write_out(results, out)
    names = {p.name for p in paths}
    assert {"qrels.json", "qrels.trec", "run.hybrid.json", "run.hybrid.trec", "run.bm25.json", "run.bm25.trec",
            "eval.png"} <= names
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert json.loads((out / "qrels.json").read_text(encoding="utf-8")) == results[0].qrels
    assert "h1 0 harbours.txt#p2 1" in (out / "qrels.trec").read_text(encoding="utf-8").splitlines()
    assert json.loads((out / "run.hybrid.json").read_text(encoding="utf-8")) == results[0].run
    first = (out / "run.bm25.trec").read_text(encoding="utf-8").splitlines()[0].split()
    assert first[1] == "Q0" and first[3] == "1" and first[5] == "qa-bm25"
    assert (out / "eval.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert tick_labels(results[0]) == ["fact (n=3)", "pagesplit (n=1)"]  # each category says how many it holds


def test_table_lists_every_retriever_and_type(tiny: index.Index) -> None:
    results = [evaluate(tiny, FakeEmbedder(), TINY_QUESTIONS, r, k=5) for r in ("hybrid", "dense")]
    text = table(results)
    assert "hit@1" in text and "hit@5" in text and "recall@5" in text
    assert "hybrid" in text and "dense" in text
    assert any(line.startswith("fact") for line in text.splitlines())
    assert any(line.startswith("pagesplit") for line in text.splitlines())


def test_question_sets_by_name_or_path(tmp_path: Path) -> None:
    assert question_file(None) == question_file("paper")
    assert question_file("paper").name == "questions.jsonl" and question_file("paper").is_file()
    assert question_file("realpdf").name == "questions_realpdf.jsonl" and question_file("realpdf").is_file()
    mine = tmp_path / "mine.jsonl"
    assert question_file(str(mine)) == mine
    with pytest.raises(InputError, match="not found"):
        load_questions(question_file(str(tmp_path / "missing.jsonl")))


@pytest.mark.parametrize("name, answerable, unanswerable", [("paper", 152, 30), ("realpdf", 60, 20)])
def test_shipped_question_sets_have_both_splits_and_unanswerables(name: str, answerable: int,
                                                                   unanswerable: int) -> None:
    questions = load_questions(question_file(name))
    unans = [q for q in questions if q.type == "unanswerable"]
    assert all(not q.answers and not q.sources for q in unans)
    assert len(questions) - len(unans) >= answerable and len(unans) >= unanswerable
    for kind in {q.type for q in questions}:
        assert {q.split for q in questions if q.type == kind} == {"dev", "test"}, kind


def test_realpdf_questions_cover_every_document() -> None:
    rows = [json.loads(line) for line in question_file("realpdf").read_text(encoding="utf-8").splitlines()]
    per_doc: dict[str, int] = {}
    for row in rows:
        if row["answers"]:
            per_doc[row["doc"]] = per_doc.get(row["doc"], 0) + 1
    assert len(per_doc) == 20 and min(per_doc.values()) >= 3
    assert {row["type"] for row in rows} >= {"fact", "paraphrase", "footnote", "citation", "frontback"}
