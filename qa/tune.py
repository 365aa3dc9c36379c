"""Tune stage: the dev questions of a question set → an index's retrieval settings (``qa eval --tune``).

Each dev question is embedded and searched once (``search.gather``); every candidate setting then
re-scores that evidence (``search.rank``), so the search costs numpy work, not model calls. The
search is a coordinate search over a small, coarse grid (``GRID``), starting from the generic
defaults (so the same index and questions always give the same settings): each knob in turn takes
the grid value that scores best with the others fixed, and moves only when that gains at least half
a question's worth on the objective (a coarse guard against fitting the dev questions' noise); rounds
repeat until nothing moves.

Objective (hybrid retriever, answerable dev questions): the mean of ``hit@5`` and ``mrr@10``.
Then the abstention threshold on the best dense cosine is calibrated on the dev questions only: it
abstains on as many unanswerable ones as any threshold that abstains on at most 3% of the answerable
ones, placed midway between the last unanswerable score it catches and the next answerable score
(``evaluate.calibrate``).
Test questions are never read here: ``run_cli`` scores them before and after, for the report only.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from qa import search as search_mod
from qa import settings as settings_mod
from qa.embed import TextEmbedder
from qa.evaluate import UNANSWERABLE, calibrate, metrics_for, qrels_for
from qa.questions import Question
from qa.settings import Settings

TUNE_SPLIT = "dev"
MAX_FALSE_ABSTAIN = 0.03
MAX_ROUNDS = 4
OBJECTIVE = "mean of hit@5 and mrr@10 over the answerable dev questions (hybrid)"
# Coarse on purpose: the held-out questions, not these, decide whether a setting is good.
GRID: dict[str, tuple[float, ...]] = {
    "dense_weight": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
    "bm25_saturation": (2.0, 3.0, 5.0, 8.0, 12.0),
    "expansion_weight": (0.0, 0.3, 0.6, 1.0, 1.5),
    "expansion_min_sim": (0.4, 0.5, 0.6),
    "note_penalty": (0.0, 0.05, 0.1, 0.15, 0.2),
}


@dataclass(frozen=True)
class Tuning:
    """What a tuning chose: the settings, the objective before (generic defaults) and after, the abstention
    calibration on dev, the moves made, and how many dev questions it read."""

    settings: Settings
    objective_start: float
    objective: float
    calibration: dict[str, float]
    moves: list[str]
    dev_answerable: int
    dev_unanswerable: int


def answerable(q: Question) -> bool:
    """Return True when the question has an answer in the documents."""
    return q.type != UNANSWERABLE and bool(q.answers)


def tune(index: Any, embedder: TextEmbedder, questions: list[Question], grid: dict[str, tuple[float, ...]] | None = None,
         start: Settings = settings_mod.DEFAULT) -> Tuning:
    """Return the settings chosen on the ``dev`` questions of ``questions`` (the others are ignored)."""
    grid = GRID if grid is None else grid
    dev = [q for q in questions if q.split == TUNE_SPLIT]
    qrels, _ = qrels_for(dev, index.paragraphs)
    scored = [q for q in dev if answerable(q) and qrels.get(q.id)]
    unanswerable = [q for q in dev if not answerable(q)]
    if not scored:
        raise ValueError(f"no answerable {TUNE_SPLIT} questions whose gold text is in the index")
    evidence = {q.id: search_mod.gather(index, embedder, search_mod.clean_question(q.question), "hybrid",
                                        None, start.pool_depth) for q in dev}

    def objective(settings: Settings) -> float:
        total = 0.0
        for q in scored:
            order, _, _, _ = search_mod.rank(index, evidence[q.id], settings)
            m = metrics_for([index.paragraphs[row].id for row in order[:10]], qrels[q.id], 10)
            total += (m["hit@5"] + m["mrr@10"]) / 2
        return total / len(scored)

    current, best = start, objective(start)
    first, min_gain, moves = best, 0.5 / len(scored), []
    for _ in range(MAX_ROUNDS):
        moved = False
        for name, values in grid.items():
            now = getattr(current, name)
            tried = [(objective(_with(current, name, v)), v) for v in values if v != now]
            if not tried:
                continue
            score, value = max(tried, key=lambda t: (t[0], -abs(t[1] - now)))  # ties: the nearer value
            if score >= best + min_gain:
                moves.append(f"{name} {now:g} → {value:g}: {best:.4f} → {score:.4f}")
                current, best, moved = _with(current, name, value), score, True
        if not moved:
            break
    signals = {}
    for q in dev:
        order, _, dense, _ = search_mod.rank(index, evidence[q.id], current)
        missing = bool(order) and search_mod.lacks_quantity(index, evidence[q.id].question, order[0])
        signals[q.id] = (search_mod.top_dense(dense), answerable(q), missing)
    calibration: dict[str, float] = {}
    if unanswerable:
        current, calibration = _abstention(current, signals)
    return Tuning(current, first, best, calibration, moves, len(scored), len(unanswerable))


def _abstention(settings: Settings, signals: dict[str, tuple[float, bool, bool]]) -> tuple[Settings, dict[str, float]]:
    """Return the settings with the abstention threshold calibrated on ``signals`` ({qid: (best dense cosine,
    answerable, lacks the amount asked for)}) and the quantity check on when it abstains on more unanswerable
    questions within the cap, off otherwise; and the calibration figures."""
    n_ans = sum(a for _, a, _ in signals.values())
    n_unans = len(signals) - n_ans
    best: tuple[float, Settings, dict[str, float]] | None = None
    for check in (False, True):
        scores = {qid: (-1.0 if check and missing else top, a) for qid, (top, a, missing) in signals.items()}
        threshold = calibrate(scores, MAX_FALSE_ABSTAIN)["threshold"]
        abstained = {qid: (check and missing) or top < threshold for qid, (top, a, missing) in signals.items()}
        lost = sum(abstained[qid] for qid, (_, a, _) in signals.items() if a) / n_ans
        caught = sum(abstained[qid] for qid, (_, a, _) in signals.items() if not a) / n_unans
        if lost <= MAX_FALSE_ABSTAIN and (best is None or caught > best[0]):
            figures = {"threshold": threshold, "quantity_check": float(check),
                       "unanswerable_recall": round(caught, 4), "answerable_abstained": round(lost, 4)}
            best = (caught, replace(settings, abstain_below=max(threshold, -1.0), quantity_check=check), figures)
    if best is None:  # unreachable: without the check, calibrate keeps within the cap
        return settings, {}
    return best[1], best[2]


def _with(settings: Settings, name: str, value: float) -> Settings:
    """Return ``settings`` with one knob set (as the knob's own type: an int stays an int)."""
    kind = settings_mod.LIMITS[name][0]
    changes: dict[str, Any] = {name: kind(value)}
    return replace(settings, **changes)


def file_sha256(path: Path) -> str:
    """Return the sha256 hex digest of a file (the question set a tuning read)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def run_cli(index_dir: Path, question_set: str | None = None, k: int = 10, retriever: str = "all",
            as_json: bool = False) -> int:
    """Run ``qa eval --tune``: tune the index's settings on the dev split, store them with the index, and
    print dev and test figures before and after; return the exit code."""
    from qa import report
    from qa.embed import load_embedder
    from qa.evaluate import evaluate
    from qa.index import model_for, open_index
    from qa.questions import load_questions, question_file
    from qa.search import check_k

    k = check_k(k)
    path = question_file(question_set)
    questions = load_questions(path)
    embedder = load_embedder(model_for(index_dir))
    index = open_index(index_dir, embedder)
    before, before_source = index.settings, index.settings_source
    result = tune(index, embedder, questions)
    tuned = {"questions": question_set or "paper", "questions_sha256": file_sha256(path), "split": TUNE_SPLIT,
             "objective": OBJECTIVE, "objective_start": round(result.objective_start, 4),
             "objective_after": round(result.objective, 4), "moves": result.moves,
             "abstention": {"max_answerable_abstained": MAX_FALSE_ABSTAIN, **result.calibration},
             "grid": {name: list(values) for name, values in GRID.items()},
             "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    written = settings_mod.write(index_dir, index.manifest, result.settings, tuned)
    names = ["hybrid", "dense", "bm25"] if retriever == "all" else [retriever]
    splits = sorted({q.split for q in questions} & {"dev", "test"}) or [TUNE_SPLIT]
    rows = []
    for split in splits:
        subset = [q for q in questions if q.split == split]
        for label, settings in (("before", before), ("after", result.settings)):
            for name in names:
                rows.append((split, label, evaluate(index, embedder, subset, name, k, settings)))
    if as_json:
        print(json.dumps({"file": str(written), "before": {"source": before_source, **asdict(before)},
                          "settings": asdict(result.settings), "tuned": tuned,
                          "results": [{"split": split, "settings": label, **r.summary()} for split, label, r in rows]},
                         indent=1, ensure_ascii=False))
        return 0
    print(f"{len(questions)} questions, index {index_dir}/ (model {index.model}); tuned on "
          f"{result.dev_answerable} answerable and {result.dev_unanswerable} unanswerable {TUNE_SPLIT} questions\n")
    print(f"before: {before_source}\n  {settings_mod.describe(before)}")
    print(f"after:  {written}\n  {settings_mod.describe(result.settings)}")
    print(f"objective ({OBJECTIVE}): {result.objective_start:.4f} at the generic defaults → {result.objective:.4f}")
    for move in result.moves:
        print(f"  {move}")
    if result.calibration:
        c = result.calibration
        check = ", with the quantity check" if c.get("quantity_check") else ", without the quantity check"
        print(f"abstention threshold {c['threshold']:.4f}{check}, on dev: abstains on {c['unanswerable_recall']:.0%} of "
              f"unanswerable, {c['answerable_abstained']:.1%} of answerable (at most {MAX_FALSE_ABSTAIN:.0%})")
    print()
    print(report.tuning_table(rows))
    return 0

