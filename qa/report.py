"""Report stage of ``qa eval``: results → a side-by-side table, failures, ranx files, a chart.

Takes the ``EvalResult`` of each retriever ``evaluate.evaluate`` returns; writes qrels/run files in the
formats ranx and trec_eval read (JSON ``{qid: {doc_id: score}}`` and TREC lines).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qa.evaluate import EvalResult

METRICS = ("hit@1", "hit@5", "recall@{k}", "mrr@10", "ndcg@10", "source@5")


def table(results: list[EvalResult]) -> str:
    """Return a text table: one row per question type and retriever, metrics side by side."""
    k = results[0].k
    names = [m.format(k=k) for m in METRICS]
    head = f"{'questions':<16}{'retriever':<10}{'n':>4}" + "".join(f"{n:>11}" for n in names)
    lines = [head, "-" * len(head)]
    groups = [("all answerable", "overall"), ("non-paraphrase", "non_paraphrase")] + \
        [(t, t) for t in results[0].by_type]
    for label, key in groups:
        for i, r in enumerate(results):
            row = getattr(r, key) if key in ("overall", "non_paraphrase") else r.by_type.get(key, {"n": 0})
            cells = "".join(f"{'' if row.get(n) is None else format(row[n], '.3f'):>11}" for n in names)
            lines.append(f"{label if i == 0 else '':<16}{r.retriever:<10}{row.get('n', 0):>4}{cells}")
    lines.append("")
    unanswerable = results[0].abstention["unanswerable"]
    lines.append(f"abstention on {unanswerable} unanswerable questions: abstained on (precision), and on answerable;"
                 " calibrated threshold (would abstain on unanswerable, answerable)")
    for r in results:
        a, c = r.abstention, r.calibration
        lines.append(f"  {r.retriever:<8}{a['recall']:>5.0%} ({a['precision']:.2f}), {a['answerable_abstained']:.1%}; "
                     f"{c.get('threshold', float('nan')):.3f} ({c.get('unanswerable_recall', 0):.0%}, "
                     f"{c.get('answerable_abstained', 0):.1%})")
    return "\n".join(lines)


TUNING_COLUMNS = (("all", "hit@1"), ("all", "hit@5"), ("all", "mrr@10"), ("non_paraphrase", "hit@1"),
                  ("non_paraphrase", "mrr@10"), ("paraphrase", "hit@1"), ("paraphrase", "hit@5"), ("all", "source@5"))


def tuning_table(rows: list[tuple[str, str, EvalResult]]) -> str:
    """Return a text table of (split, "before"/"after", result) rows: the issue's headline metrics and abstention."""
    heads = [f"{'para ' if group == 'paraphrase' else 'non-para ' if group == 'non_paraphrase' else ''}{m}"
             for group, m in TUNING_COLUMNS] + ["abstain unans", "abstain ans"]
    head = f"{'split':<6}{'settings':<9}{'retriever':<10}{'n':>4}" + "".join(f"{h:>{max(len(h) + 2, 8)}}" for h in heads)
    lines = [head, "-" * len(head)]
    for split, label, r in rows:
        cells = []
        for (group, metric), h in zip(TUNING_COLUMNS, heads, strict=False):
            row = r.overall if group == "all" else r.non_paraphrase if group == "non_paraphrase" else \
                r.by_type.get(group, {})
            value = row.get(metric)
            cells.append(f"{'' if value is None else format(value, '.3f'):>{max(len(h) + 2, 8)}}")
        a = r.abstention
        cells.append(f"{a['recall']:>15.0%}" if a["unanswerable"] else f"{'':>15}")
        cells.append(f"{a['answerable_abstained']:>13.1%}")
        lines.append(f"{split:<6}{label:<9}{r.retriever:<10}{r.overall.get('n', 0):>4}" + "".join(cells))
    return "\n".join(lines)


def failures_text(result: EvalResult, limit: int = 40) -> str:
    """Return the failures of one retriever as readable lines."""
    lines = [f"\nFailures ({result.retriever}): {len(result.failures)}"]
    for f in result.failures[:limit]:
        why = "source not attached in top 5" if f["source_missing"] and f["rank"] == 1 else f"gold at rank {f['rank']}"
        lines.append(f"- {f['id']} [{f['type']}] {f['question']}\n    expected: {f['expected'][:2]} ({why})"
                     f"\n    first: {f['first']}: {f['first_text']}")
    if result.gold_missing:
        lines.append(f"gold text not found in the index for: {', '.join(result.gold_missing)}")
    return "\n".join(lines)


def write_out(results: list[EvalResult], out: Path) -> list[Path]:
    """Write ranx-compatible qrels/run JSON and TREC files plus a PNG chart; return the paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "qrels.json"]
    written[0].write_text(json.dumps(results[0].qrels, indent=1), encoding="utf-8")
    with open(out / "qrels.trec", "w", encoding="utf-8") as f:
        for qid, rels in results[0].qrels.items():
            for pid, rel in rels.items():
                f.write(f"{qid} 0 {pid} {rel}\n")
    written.append(out / "qrels.trec")
    for r in results:
        name = r.retriever
        (out / f"run.{name}.json").write_text(json.dumps(r.run, indent=1), encoding="utf-8")
        with open(out / f"run.{name}.trec", "w", encoding="utf-8") as f:
            for qid, scores in r.run.items():
                for rank, (pid, score) in enumerate(scores.items(), start=1):
                    f.write(f"{qid} Q0 {pid} {rank} {score:.6f} qa-{name}\n")
        written += [out / f"run.{name}.json", out / f"run.{name}.trec"]
        summary = {key: getattr(r, key) for key in ("retriever", "k", "overall", "non_paraphrase", "by_type",
                                                     "abstention", "calibration", "failures")}
        (out / f"metrics.{name}.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False), encoding="utf-8")
        written.append(out / f"metrics.{name}.json")
    written.append(chart(results, out / "eval.png"))
    return written


def tick_labels(result: EvalResult) -> list[str]:
    """Return the chart's category labels with how many questions each holds ("fact (n=40)")."""
    return [f"{t} (n={int(m.get('n', 0))})" for t, m in result.by_type.items()]


def chart(results: list[EvalResult], path: Path) -> Path:
    """Draw hit@1 and hit@5 per question type for each retriever into a PNG; return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    types = list(results[0].by_type)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    width = 0.8 / len(results)
    for ax, metric in zip(axes, ("hit@1", "hit@5"), strict=True):
        for i, r in enumerate(results):
            values = [r.by_type[t].get(metric, 0) for t in types]
            ax.bar(np.arange(len(types)) + i * width, values, width, label=r.retriever)
        ax.set_xticks(np.arange(len(types)) + width * (len(results) - 1) / 2, tick_labels(results[0]),
                      rotation=30, ha="right")
        ax.set_title(metric)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    # the legend above the bars, never over them
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=len(results), frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
