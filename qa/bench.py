"""Benchmark: start-up, query latency, build speed, incremental rebuild and the FAISS scale curve.

``qa bench`` runs everything side by side on one machine in one run, prints one
table and writes ``bench.json`` + ``bench.png`` into ``--out``. Targets are
ratios and curves measured here, never timed unit tests. The scale curve uses
synthetic *vectors* where text does not matter: mixtures of two real corpus
embeddings plus noise, L2-normalised (cheap to make, shaped like real
embeddings rather than uniform noise, which no approximate index handles well).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.bench_scale import crossover, ms, rss_mb, scale_point
from qa.embed import TextEmbedder

QUESTIONS = ["When did the EEC open a delegation in Tokyo?", "What limits Japan's security cooperation with the EU?",
             "Which agreement did Japan and the European Union sign?", "nuclear deterrence in Asia",
             "Why did the strategic partnership stall?", "What role does NATO play for Japan?"]
REPO = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], Any], reps: int) -> list[float]:
    out = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _env() -> dict[str, str]:
    return {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}


def _wall(cmd: list[str], reps: int, cwd: Path | None = None) -> float:
    """Return the median wall time of a command (it must succeed)."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=_env(), check=True, capture_output=True, timeout=600)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def time_app(index_dir: Path, docs_dir: Path, timeout: float = 300) -> float:
    """Return seconds from ``python app.py`` to its first HTTP answer on a free loopback port."""
    port = free_port()
    env = {**_env(), "GRADIO_SERVER_PORT": str(port), "QA_INDEX": str(index_dir), "QA_DOCS": str(docs_dir),
           "GRADIO_ANALYTICS_ENABLED": "False"}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while time.perf_counter() - start < timeout:
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
                    if r.status < 500:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("app.py did not serve in time")
    finally:
        proc.kill()
        proc.wait()


def cold_start(index_dir: Path, docs_dir: Path, reps: int = 3, app: bool = True) -> dict[str, float]:
    """Seconds for: ``qa --help``, the first import of sentence-transformers, ``qa search``, ``python app.py``."""
    py = sys.executable
    out = {"qa_help_s": _wall([py, "-m", "qa", "--help"], reps),
           "import_sentence_transformers_s": _wall([py, "-c", "import sentence_transformers"], reps),
           "import_qa_search_s": _wall([py, "-c", "import qa.search, qa.cli"], reps),
           "qa_search_s": _wall([py, "-m", "qa", "search", QUESTIONS[0], "--index", str(index_dir)], max(1, reps - 1))}
    out["model_load_s"] = _wall([py, "-c", "from qa.embed import load_embedder; load_embedder()"], max(1, reps - 1))
    if app:
        out["app_serves_s"] = time_app(index_dir, docs_dir)
    out["help_vs_st_import"] = round(out["import_sentence_transformers_s"] / out["qa_help_s"], 1)
    return {k: round(v, 3) for k, v in out.items()}


def warm_queries(idx: Any, embedder: Any, reps: int = 50) -> dict[str, dict[str, float]]:
    """p50/p95 of ``qa.search.search`` per retriever on a loaded index (after a warm-up)."""
    from qa.search import search

    out = {}
    for retriever in ("dense", "bm25", "hybrid"):
        for q in QUESTIONS:
            search(idx, embedder, q, 5, retriever)
        out[retriever] = ms(timed(_round_robin(idx, embedder, retriever), reps))
    memo = _Memo(embedder)  # the same hybrid search with the question's vectors already made: all but the model
    for q in QUESTIONS:
        search(idx, memo, q, 5, "hybrid")
    out["hybrid_without_model"] = ms(timed(_round_robin(idx, memo, "hybrid"), reps))
    return out


def _round_robin(idx: Any, embedder: Any, retriever: str) -> Callable[[], Any]:
    """Return a call that searches the next of ``QUESTIONS`` (in turn) for the top 5."""
    from qa.search import search

    questions = itertools.cycle(QUESTIONS)
    return lambda: search(idx, embedder, next(questions), 5, retriever)


class _Memo:
    """An embedder that answers from what a real one encoded once (to time search without the model)."""

    def __init__(self, model: TextEmbedder) -> None:
        self.model = model
        self.name, self.dimension, self.max_tokens = model.name, model.dimension, model.max_tokens
        self.fingerprint = model.fingerprint
        self.seen: dict[tuple[str, ...], np.ndarray] = {}

    def _remember(self, kind: str, texts: list[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        key = (kind, *texts)
        if key not in self.seen:
            self.seen[key] = encode(texts)
        return self.seen[key]

    def count_tokens(self, text: str) -> int:
        return self.model.count_tokens(text)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._remember("query", texts, self.model.encode_queries)

    def encode_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        return self._remember("passage", texts, self.model.encode_passages)

    def encode_words(self, words: list[str]) -> np.ndarray:
        return self._remember("words", words, self.model.encode_words)

    def build_word_table(self) -> int:
        return 0


_CHILD = """
import json, resource, sys, time
from qa.embed import load_embedder
texts = json.load(open(sys.argv[1]))
start = time.perf_counter(); e = load_embedder(backend=sys.argv[2]); load = time.perf_counter() - start
e.encode_passages(texts[:8])
start = time.perf_counter(); e.encode_passages(texts); seconds = time.perf_counter() - start
print(json.dumps({"name": e.name, "load_s": load, "seconds": seconds,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def throughput(texts: list[str], backends: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Passages embedded per second and peak memory, each backend in its own process."""
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "texts.json"
        file.write_text(json.dumps(texts))
        for backend in backends:
            proc = subprocess.run([sys.executable, "-c", _CHILD, str(file), backend], env=_env(),
                                  capture_output=True, text=True, timeout=1800, check=False)
            if proc.returncode:
                out[backend] = {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:200]}
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            out[backend] = {"model": r["name"], "passages": len(texts),
                            "passages_per_s": round(len(texts) / r["seconds"], 1),
                            "model_load_s": round(r["load_s"], 2), "peak_rss_mb": round(r["peak_rss_mb"])}
    base = out.get("torch", {}).get("passages_per_s")
    for r in out.values():
        if base and "passages_per_s" in r:
            r["vs_torch"] = round(r["passages_per_s"] / base, 2)
    return out


def make_docs(paragraphs: list[str], folder: Path, n_docs: int = 50, per_doc: int = 2) -> list[Path]:
    """Write ``n_docs`` small documents made of the corpus's paragraphs (cycled) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for d in range(n_docs):
        body = [paragraphs[(d * per_doc + i) % len(paragraphs)] for i in range(per_doc)]
        path = folder / f"report-{d:02d}.txt"
        path.write_text(f"Report {d}\n\n" + "\n\n".join(body) + "\n", encoding="utf-8")
        files.append(path)
    return files


def incremental(paragraphs: list[str], embedder: Any, per_doc: int = 2) -> dict[str, float]:
    """Seconds for a full build of 50 documents vs a rebuild after one of them changed."""
    from qa import index

    with tempfile.TemporaryDirectory() as tmp:
        docs, idx_dir = Path(tmp) / "docs", Path(tmp) / "index"
        files = make_docs(paragraphs, docs, 50, per_doc)
        embedder.build_word_table()  # once per model, not part of either build
        quiet = lambda line: None  # noqa: E731
        full = index.build(docs, idx_dir, embedder, log=quiet)
        with open(files[7], "a", encoding="utf-8") as f:
            f.write("\nA new closing paragraph was added to this report after the first build.\n")
        again = index.build(docs, idx_dir, embedder, log=quiet)
    return {"documents": 50, "chunks": full.chunks, "full_build_s": round(full.seconds, 3),
            "one_changed_s": round(again.seconds, 3), "reembedded_chunks": again.embedded,
            "speedup": round(full.seconds / again.seconds, 1)}


# --- scale curve -----------------------------------------------------------------------------

def run(docs_dir: Path, index_dir: Path, sizes: Sequence[int], quick: bool = False,
        backends: Sequence[str] | None = None, app: bool = True, hnsw_up_to: int = 300_000,
        log: Callable[[str], None] = lambda line: print(line, file=sys.stderr, flush=True)) -> dict[str, Any]:
    """Run every measurement on a copy of the index; return the results as one JSON-able dict."""
    private = Path(tempfile.mkdtemp(prefix="qa-bench-"))  # a copy: a rebuild elsewhere must not move it under us
    shutil.copytree(index_dir, private / "index")
    try:
        return _run(docs_dir, private / "index", sizes, quick, backends, app, hnsw_up_to, log)
    finally:
        shutil.rmtree(private, ignore_errors=True)


def memory_over_questions(docs_dir: Path, index_dir: Path, embedder: Any, n: int = 500) -> dict[str, Any]:
    """Return the process RSS (MB) after a warm-up and every n/5 chat replies to distinct questions."""
    from qa.web.chat import Chat

    with tempfile.TemporaryDirectory() as tmp:
        chat = Chat(docs_dir, index_dir, embedder, feedback=Path(tmp) / "feedback.jsonl")
        questions = [p.text.split(". ")[0][:200] for p in chat.index.paragraphs] or ["a question"]
        for q in questions[:20]:
            chat.reply(q)
        start, marks = rss_mb(), []
        for i in range(n):
            chat.reply(f"{questions[i % len(questions)]} ({i})")
            if (i + 1) % max(1, n // 5) == 0:
                marks.append(round(rss_mb(), 1))
    return {"questions": n, "after_warmup_mb": round(start, 1), "marks_mb": marks,
            "growth_last_half_mb": round(marks[-1] - marks[len(marks) // 2 - 1], 1) if len(marks) > 1 else 0.0}


def _run(docs_dir: Path, index_dir: Path, sizes: Sequence[int], quick: bool, backends: Sequence[str] | None,
         app: bool, hnsw_up_to: int, log: Callable[[str], None]) -> dict[str, Any]:
    from qa import index as index_mod
    from qa.embed import load_embedder

    result: dict[str, Any] = {"machine": machine(), "quick": quick, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    log("bench: cold start …")
    result["cold_start"] = cold_start(index_dir, docs_dir, reps=2 if quick else 3, app=app)
    log("bench: warm queries …")
    embedder = load_embedder(index_mod.model_for(index_dir))
    embedder.encode_queries(["warm-up"])  # makes the ONNX export the question path reads
    questions = load_embedder(embedder.name, questions=True)  # what qa search uses
    idx = index_mod.open_index(index_dir, questions)
    result["warm_query"] = warm_queries(idx, questions, reps=30 if quick else 100)
    result["retrieval_settings"] = {"source": idx.settings_source, **dataclasses.asdict(idx.settings)}  # what was timed
    log("bench: memory over many questions …")
    result["memory"] = memory_over_questions(docs_dir, index_dir, questions, n=200 if quick else 500)
    texts = [c.text for c in idx.chunks][: 96 if quick else None]
    backends = backends or available_backends()
    log(f"bench: build throughput ({', '.join(backends)}) …")
    result["throughput"] = throughput(texts, backends)
    log("bench: incremental rebuild …")
    result["incremental"] = incremental([p.text for p in idx.paragraphs], embedder, per_doc=1 if quick else 2)
    seeds = np.ascontiguousarray(np.concatenate([idx.chunk_vectors(), idx.vocab_vectors]), dtype=np.float32)
    del idx, embedder, questions
    result["scale"] = []
    from threadpoolctl import threadpool_limits

    with threadpool_limits(None):  # index building may use every core again
        for n in sizes:
            log(f"bench: scale {n:,} vectors …")
            kinds = ("flat", "hnsw", "ivf") if n <= hnsw_up_to else ("flat", "ivf")
            result["scale"].append(scale_point(seeds, n, n_queries=100 if quick else 200, kinds=kinds))
    result["hnsw_from_suggested"] = crossover(result["scale"])
    from qa import vectors as vectors_mod

    result["settings"] = {"APPROX_FROM": vectors_mod.APPROX_FROM, "HNSW_EF_SEARCH": vectors_mod.HNSW_EF_SEARCH,
                          "HNSW_M": vectors_mod.HNSW_M, "IVF_NPROBE": vectors_mod.IVF_NPROBE}
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return result


def available_backends() -> list[str]:
    """Return the embedding backends this install offers (onnxruntime and OpenVINO come with the default install)."""
    import importlib.util

    onnx = importlib.util.find_spec("onnxruntime") is not None
    return ["torch"] + (["onnx", "onnx-int8"] if onnx else []) + (
        ["openvino"] if onnx and importlib.util.find_spec("openvino") else [])


def machine() -> dict[str, Any]:
    cpu = ""
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    memory_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": memory_gb,
            "python": sys.version.split()[0], "load_avg_at_start": [round(x, 2) for x in os.getloadavg()]}


def table(r: dict[str, Any]) -> str:
    """Return the results as one plain-text table: measurement, value, target."""
    rows: list[tuple[str, str, str]] = []
    c = r.get("cold_start", {})
    if c:
        rows += [("cold: qa --help", f"{c['qa_help_s']:.2f} s", ""),
                 ("cold: import sentence_transformers", f"{c['import_sentence_transformers_s']:.2f} s", ""),
                 ("cold: --help vs that import", f"{c['help_vs_st_import']:.1f}×", "≥ 10×"),
                 ("cold: model load", f"{c['model_load_s']:.2f} s", ""),
                 ("cold: qa search (1 question)", f"{c['qa_search_s']:.2f} s", "")]
        if "app_serves_s" in c:
            rows.append(("cold: python app.py until it serves", f"{c['app_serves_s']:.2f} s", ""))
    for name, w in r.get("warm_query", {}).items():
        rows.append((f"warm query {name.replace('_', ' ')} p50 / p95", f"{w['p50_ms']:.1f} / {w['p95_ms']:.1f} ms",
                     "p50 ≤ 10 ms" if name == "hybrid" else ""))
    m = r.get("memory")
    if m:
        rows.append((f"memory over {m['questions']} questions (RSS)",
                     f"{m['after_warmup_mb']:.0f} → {m['marks_mb'][-1]:.0f} MB, last half +{m['growth_last_half_mb']:.1f} MB",
                     "flat"))
    for name, t in r.get("throughput", {}).items():
        if "error" in t:
            rows.append((f"build {name}", t["error"], ""))
        else:
            rows.append((f"build {name}: passages/s (peak RSS)",
                         f"{t['passages_per_s']:.1f} ({t['peak_rss_mb']} MB) ×{t.get('vs_torch', 1):.2f}",
                         "≥ 2× torch" if name != "torch" else ""))
    i = r.get("incremental")
    if i:
        rows.append(("rebuild 1 changed of 50 docs vs full",
                     f"{i['one_changed_s']:.2f} s vs {i['full_build_s']:.2f} s = {i['speedup']:.0f}×", "≥ 10×"))
    for p in r.get("scale", []):
        for kind in ("flat", "hnsw", "ivf"):
            k = p.get(kind)
            if k:
                rows.append((f"scale {p['n']:>9,} {kind}: p50/p95, recall@10",
                             f"{k['p50_ms']:.2f}/{k['p95_ms']:.2f} ms, {k['recall@10']:.3f}; build {k['build_s']:.1f} s,"
                             f" {k['disk_mb']:.0f} MB", "p50 ≤ 20 ms, R ≥ 0.95" if p["n"] >= 10**6 and kind != "flat" else ""))
    if r.get("hnsw_from_suggested"):
        rows.append(("exact search reaches 10 ms at", f"{r['hnsw_from_suggested']:,} vectors",
                     f"approximate (IVF) from {r['settings']['APPROX_FROM']:,}"))
    width = max(len(a) for a, _, _ in rows)
    vwidth = max(len(b) for _, b, _ in rows)
    lines = [f"{'measurement':<{width}}  {'value':<{vwidth}}  target", "-" * (width + vwidth + 16)]
    lines += [f"{a:<{width}}  {b:<{vwidth}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def plot(r: dict[str, Any], path: Path) -> None:
    """Draw the scale curve, warm latencies, cold start and build throughput into one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(12, 8))
    a = ax[0, 0]
    for kind, style in (("flat", "o-"), ("hnsw", "s-"), ("ivf", "^-")):
        pts = [(p["n"], p[kind]["p50_ms"], p[kind]["recall@10"]) for p in r.get("scale", []) if kind in p]
        if pts:
            a.plot([x for x, _, _ in pts], [y for _, y, _ in pts], style, label=kind)
            for x, y, rec in pts:
                if kind != "flat":
                    a.annotate(f"R={rec:.2f}", (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    a.axhline(20, color="grey", ls=":", lw=1)
    a.set(xscale="log", yscale="log", xlabel="vectors (synthetic, 384-d)", ylabel="query p50 (ms, 1 thread)",
          title="Scale curve: FAISS query latency (R = recall@10 vs exact)")
    a.legend()
    a = ax[0, 1]
    w = r.get("warm_query", {})
    names = list(w)  # dense, bm25, hybrid, hybrid_without_model
    labels = [n.replace("_without_model", "\n(no model)") for n in names]
    a.bar([f"{n}\np50" for n in labels], [w[n]["p50_ms"] for n in names], color="tab:blue")
    a.bar([f"{n}\np95" for n in labels], [w[n]["p95_ms"] for n in names], color="tab:orange")
    a.set_yscale("log")
    a.tick_params(axis="x", labelsize=7)
    a.axhline(10, color="grey", ls=":", lw=1)
    a.set(ylabel="ms", title="Warm query latency on the corpus (qa.search.search)")
    a = ax[1, 0]
    c = {k: v for k, v in r.get("cold_start", {}).items() if k.endswith("_s")}
    a.barh(list(c), list(c.values()), color="tab:green")
    a.set(xlabel="seconds", title="Cold start")
    a = ax[1, 1]
    t = {k: v["passages_per_s"] for k, v in r.get("throughput", {}).items() if "passages_per_s" in v}
    a.bar(list(t), list(t.values()), color="tab:purple")
    a.set(ylabel="passages / s", title="Build throughput per embedding backend")
    m = r.get("machine", {})
    fig.suptitle(f"qa bench — {m.get('cpu', '')}, {m.get('cores')} cores, load avg {m.get('load_avg_at_start')}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_cli(docs_dir: Path, index_dir: Path, out: Path, quick: bool = False, sizes: Sequence[int] | None = None) -> int:
    """``qa bench``: run, print the table, write bench.json and bench.png into ``out``; return the exit code."""
    from qa.index import read_manifest

    sizes = sizes or ([10_000, 100_000] if quick else [10_000, 100_000, 1_000_000])
    read_manifest(index_dir)  # no index to measure: says how to build one
    result = run(docs_dir, index_dir, sizes, quick=quick)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    plot(result, out / "bench.png")
    print(table(result))
    print(f"\nwrote {out / 'bench.json'} and {out / 'bench.png'}")
    shutil.rmtree(out / ".tmp", ignore_errors=True)
    return 0
