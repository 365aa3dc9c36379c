"""Evaluate stage: a question set → retrieval metrics, per retriever and question type.

Gold is stored independently of chunking: each question lists answer-bearing
substrings of the document text (``answers``) and, for citation questions,
substrings of the source (``sources``). Qrels are derived by finding the
paragraphs that contain an answer, so the set survives any re-chunking.
Metrics use the field's names: ``hit@1``, ``hit@5``, ``recall@k``, ``mrr@10``,
``ndcg@10`` (as ranx / BEIR / trec_eval), plus ``source@5`` (the right source is
attached to a top-5 passage) and abstention precision/recall. Same inputs, same
numbers.
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.embed import TextEmbedder
from qa.questions import Question, load_questions, question_file
from qa.records import Answer

if TYPE_CHECKING:
    from qa.index import Index
    from qa.search import Settings

UNANSWERABLE = "unanswerable"
TYPE_ORDER = ("fact", "paraphrase", "numeric", "footnote", "citation", "pagesplit", "frontback", "feedback")


def normalise(text: str) -> str:
    """Return text folded for gold matching: straight quotes, single spaces, lower case."""
    text = text.translate(str.maketrans("’‘“”\u00a0", "''\"\" "))
    text = re.sub(r"\[\d+\]", "", text)
    return re.sub(r"\s+", " ", text).strip().lower()


def qrels_for(questions: list[Question], paragraphs: list[Any]) -> tuple[dict[str, dict[str, int]], list[str]]:
    """Return (qrels {qid: {passage_id: 1}}, ids of answerable questions whose gold matched nothing)."""
    texts = [(p.id, normalise(p.text)) for p in paragraphs]
    qrels: dict[str, dict[str, int]] = {}
    missing: list[str] = []
    for q in questions:
        if not q.answers:
            continue
        rel = {pid: 1 for pid, text in texts for a in q.answers if normalise(a) in text}
        qrels[q.id] = rel
        if not rel:
            missing.append(q.id)
    return qrels, missing


def metrics_for(ranked: list[str], relevant: dict[str, int], k: int) -> dict[str, float]:
    """Return hit@1, hit@5, recall@k, mrr@10 and ndcg@10 of one ranked list."""
    rel = set(relevant)
    first = next((i for i, pid in enumerate(ranked) if pid in rel), None)
    dcg = sum(1 / math.log2(i + 2) for i, pid in enumerate(ranked[:10]) if pid in rel)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(rel), 10)))
    return {
        "hit@1": float(first == 0),
        "hit@5": float(first is not None and first < 5),
        f"recall@{k}": len(rel & set(ranked[:k])) / len(rel) if rel else 0.0,
        "mrr@10": 1 / (first + 1) if first is not None and first < 10 else 0.0,
        "ndcg@10": dcg / idcg if idcg else 0.0,
    }


def source_found(answer: Answer, sources: tuple[str, ...], depth: int = 5) -> bool:
    """Return True when a citation of a top-``depth`` hit contains one of the gold sources."""
    wanted = [normalise(s) for s in sources]
    for hit in answer.hits[:depth]:
        for c in hit.citations:
            have = normalise(" ".join([c.text, c.resolved or "", *c.urls]))
            if any(w in have for w in wanted):
                return True
    return False


@dataclass(frozen=True)
class EvalResult:
    """One retriever's scores on a question set: metrics overall and per type, abstention, the
    calibrated threshold, the failures, and the run and qrels (ranx / trec_eval shapes)."""

    retriever: str
    k: int
    questions: int
    overall: dict[str, float]
    non_paraphrase: dict[str, float]
    by_type: dict[str, dict[str, float]]
    abstention: dict[str, float]
    calibration: dict[str, float]
    gold_missing: list[str]
    failures: list[dict[str, Any]]
    run: dict[str, dict[str, float]] = field(repr=False)
    qrels: dict[str, dict[str, int]] = field(repr=False)

    def summary(self) -> dict[str, Any]:
        """Return everything but the run and the qrels, as the ``qa eval --json`` object shows it."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("run", "qrels")}


def evaluate(index: Index, embedder: TextEmbedder, questions: list[Question], retriever: str = "hybrid",
             k: int = 10, settings: Settings | None = None) -> EvalResult:
    """Return one retriever's metrics overall and per type, abstention figures, the run and the failures."""
    from qa.search import search

    qrels, missing = qrels_for(questions, index.paragraphs)
    per_type: dict[str, list[dict[str, float]]] = defaultdict(list)
    run: dict[str, dict[str, float]] = {}
    failures: list[dict[str, Any]] = []
    top_dense: dict[str, tuple[float, bool]] = {}
    abstain_flags: list[tuple[bool, bool]] = []  # (answerable, abstained)
    for q in questions:
        answer = search(index, embedder, q.question, max(k, 10), retriever, settings)  # None: the index's
        run[q.id] = {h.paragraph.id: float(h.score) for h in answer.hits}
        answerable = q.type != UNANSWERABLE and bool(q.answers)
        # An answer abstained on for lacking the amount asked for counts as the lowest score (always abstained).
        score = -1.0 if answer.scores.get("quantity_missing") else float(answer.scores.get("top_dense", 0.0))
        top_dense[q.id] = (score, answerable)
        abstain_flags.append((answerable, answer.abstained))
        if not answerable:
            continue
        m = _score(q, answer, qrels.get(q.id, {}), k)
        per_type[q.type].append(m)
        if m["hit@1"] < 1 or m.get("source@5", 1) < 1:
            failures.append(_failure(q, answer, qrels.get(q.id, {}), m))
    return EvalResult(
        retriever=retriever, k=k, questions=len(questions),
        overall=_mean([m for ms in per_type.values() for m in ms]),
        non_paraphrase=_mean([m for t, ms in per_type.items() if t != "paraphrase" for m in ms]),
        by_type={t: _mean(per_type[t]) for t in _ordered(per_type)},
        abstention=_abstention(abstain_flags), calibration=calibrate(top_dense),
        gold_missing=missing, failures=failures, run=run, qrels=qrels,
    )


def _score(q: Question, answer: Answer, relevant: dict[str, int], k: int) -> dict[str, float]:
    """Return the metrics of one answerable question (``source@5`` when it names sources)."""
    m = metrics_for([h.paragraph.id for h in answer.hits], relevant, k)
    if q.sources:
        m["source@5"] = float(source_found(answer, q.sources))
    return m


def _failure(q: Question, answer: Answer, relevant: dict[str, int], m: dict[str, float]) -> dict[str, Any]:
    """Return what ``qa eval`` shows of a question missed at rank 1 (or whose source was not attached)."""
    first = answer.hits[0].paragraph if answer.hits else None
    return {
        "id": q.id, "type": q.type, "question": q.question, "expected": list(q.answers),
        "gold": sorted(relevant), "rank": _rank([h.paragraph.id for h in answer.hits], relevant),
        "first": first.id if first else None,
        "first_text": (first.text[:160] + "…") if first and len(first.text) > 160 else (first.text if first else None),
        "source_missing": m.get("source@5", 1) < 1,
    }


def _rank(ranked: list[str], relevant: dict[str, int]) -> int | None:
    return next((i + 1 for i, pid in enumerate(ranked) if pid in relevant), None)


def _ordered(per_type: dict[str, Any]) -> list[str]:
    return [t for t in TYPE_ORDER if t in per_type] + sorted(t for t in per_type if t not in TYPE_ORDER)


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    if not rows:
        return {"n": 0}
    keys = sorted({key for r in rows for key in r}, key=lambda s: (s.split("@")[0], s))
    out: dict[str, float] = {"n": len(rows)}
    for key in keys:
        values = [r[key] for r in rows if key in r]
        out[key] = round(sum(values) / len(values), 4)
        if key == "source@5":
            out["n_source"] = len(values)
    return out


def _abstention(flags: list[tuple[bool, bool]]) -> dict[str, float]:
    """Precision/recall of abstaining on unanswerable questions, and the false-abstain rate."""
    unans = [abst for answerable, abst in flags if not answerable]
    ans = [abst for answerable, abst in flags if answerable]
    abstained = sum(abst for _, abst in flags)
    correct = sum(unans)
    return {
        "unanswerable": len(unans),
        "recall": round(correct / len(unans), 4) if unans else 0.0,
        "precision": round(correct / abstained, 4) if abstained else 0.0,
        "answerable_abstained": round(sum(ans) / len(ans), 4) if ans else 0.0,
    }


def calibrate(top_dense: dict[str, tuple[float, bool]], max_false: float = 0.03) -> dict[str, float]:
    """Return the abstention threshold that abstains most on unanswerable questions
    while abstaining on at most ``max_false`` of answerable ones (abstain when score < threshold)."""
    ans = sorted(s for s, a in top_dense.values() if a)
    unans = sorted(s for s, a in top_dense.values() if not a)
    if not ans or not unans:
        return {}
    allowed = math.floor(max_false * len(ans))
    highest = ans[allowed] if allowed < len(ans) else ans[-1]  # the cap: the (allowed+1)-th answerable score
    # Of the thresholds that catch as many unanswerable questions as the cap does, take the one midway
    # between the last unanswerable caught and the next answerable score: the same share caught, no more
    # answerable ones lost, and a margin on both sides for questions not seen here.
    caught = [s for s in unans if s < highest]
    if caught:
        above = min(s for s in ans if s > caught[-1])
        threshold = (caught[-1] + above) / 2
    else:
        threshold = ans[0]  # nothing to catch: lose no answerable question
    # Rounded down to 4 places (still above what it must catch), so the stored value keeps these rates.
    rounded = math.floor(round(float(threshold) * 1e4, 6)) / 1e4
    threshold = rounded if not caught or rounded > caught[-1] else float(threshold)
    return {
        "threshold": threshold,
        "unanswerable_recall": round(sum(s < threshold for s in unans) / len(unans), 4),
        "answerable_abstained": round(sum(s < threshold for s in ans) / len(ans), 4),
    }


def run_cli(index_dir: Path | None, question_set: str | None = None, k: int = 10, retriever: str = "all",
            split: str | None = None, as_json: bool = False, out: Path | None = None,
            docs: Path | None = None, default_index: Path = Path("index")) -> int:
    """Run ``qa eval``: score retrievers on a question set (a file or a set's name) over the set's own documents
    (``qa.evalset``; ``index_dir`` to score a given index instead), print a table or JSON; return the exit code."""
    from qa import evalset, report
    from qa.embed import load_embedder
    from qa.index import model_for, open_index
    from qa.search import check_k

    k = check_k(k)
    path = question_file(question_set)
    questions = load_questions(path, split)
    target = evalset.choose(question_set, path, index_dir, docs, default_index)
    if target.warning:
        evalset.say(f"warning: {target.warning}")
    embedder = load_embedder(model_for(target.index_dir))
    index = open_index(target.index_dir, embedder)
    names = ["hybrid", "dense", "bm25"] if retriever == "all" else [retriever]
    results = [evaluate(index, embedder, questions, name, k) for name in names]
    if out:
        paths = report.write_out(results, out)
        if not as_json:
            print(f"wrote {len(paths)} files to {out}/ (qrels, runs, metrics, eval.png)")
    from dataclasses import asdict

    from qa.settings import describe

    documents = sorted(index.manifest.get("documents", {}))
    if as_json:
        slim = [r.summary() for r in results]
        print(json.dumps({"questions": len(questions), "results": slim,
                          "settings": {"source": index.settings_source, **asdict(index.settings)},
                          "index": str(target.index_dir), "own_documents": target.own, "documents": documents,
                          "warning": target.warning},
                         indent=1, ensure_ascii=False))
    else:
        print(f"{len(questions)} questions, index {target.index_dir}/ (model {index.model})")
        whose = "the question set's own" if target.own else "as given"
        print(f"documents ({whose}): {len(documents)}: {', '.join(documents[:4])}{', …' if len(documents) > 4 else ''}")
        if target.warning:
            print(f"WARNING: {target.warning}")
        print(f"settings: {index.settings_source}\n  {describe(index.settings)}\n")
        print(report.table(results))
        print(report.failures_text(results[0]))
    return 0
