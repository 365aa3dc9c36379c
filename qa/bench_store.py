"""``qa bench --store milvus:…``: the vector stores side by side on synthetic vectors.

At each size, the same vectors (mixtures of the index's own embeddings plus noise, as the
FAISS scale curve makes them; 50 chunks per synthetic document) go into FAISS and into the
given store through the ``VectorStore`` seam, as ``qa build`` puts them there. Measured per
store: ingest rate (add and commit, index build included, on two threads), warm search latency p50/p95 for
k=10 (one question at a time), recall@10 against exact search, the same search limited to one
document, memory growth of this process and its children, and size on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from qa import store as store_mod
from qa.bench_scale import ms, recall, rss_mb, synthetic

PER_DOC = 50


def disk_mb(path: Path) -> float:
    """Return the size of a file or folder in MiB."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def process_rss_mb() -> float:
    """Return the resident memory of this process and its children in MiB (the C++ milvus-lite runs
    its engine in a child process)."""
    total, me = rss_mb(), str(os.getpid())
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[1] == me:  # the parent's pid
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE") / 2**20  # resident pages
        except (OSError, IndexError, ValueError):
            continue
    return total


def measure(spec: dict[str, str], where: Path, vectors: np.ndarray, queries: np.ndarray,
            truth: np.ndarray) -> dict[str, Any]:
    """Put ``vectors`` into the store ``spec`` names (under ``where``) and measure it."""
    import faiss

    from qa import vectors as vectors_mod

    n, dim = vectors.shape
    faiss.omp_set_num_threads(2)  # building on both cores, as qa build does; questions on one
    rss = process_rss_mb()
    start = time.perf_counter()
    store, _ = store_mod.for_build(spec, where / "index", where, None, dim, n)
    for d, s in enumerate(range(0, n, PER_DOC)):
        ids = [f"doc{d}#{i}" for i in range(s, min(n, s + PER_DOC))]
        store.add(f"doc{d}", ids, vectors[s:s + PER_DOC])
    record = store.commit()
    if store.count() != n:  # read Strong: the build is whole and searchable before the clock stops
        raise AssertionError(f"{spec['kind']}: {store.count()} vectors stored of {n}")
    ingest = time.perf_counter() - start
    vectors_mod.query_threads()
    if spec["kind"] == "milvus":  # searched as a reader process does, not as the writer right after its build
        from qa import store_milvus

        store_milvus._written.clear()
    row: dict[str, Any] = {"index_type": record.get("index_type"), "params": record.get("params"),
                           "search_params": record.get("search_params"),
                           "ingest_s": round(ingest, 2), "ingest_per_s": round(n / ingest)}
    store.search(queries[0], 10)  # warm
    found, times = [], []
    for q in queries:
        t = time.perf_counter()
        ids, _ = store.search(q, 10)
        times.append(time.perf_counter() - t)
        found.append([int(i.rsplit("#", 1)[1]) for i in ids] + [-1] * (10 - len(ids)))
    row.update(ms(times))
    row["recall@10"] = round(recall(np.array(found), truth), 4)
    docs = [f"doc{(i * 7919) % (n // PER_DOC)}" for i in range(len(queries))]
    times = []
    for q, doc in zip(queries, docs, strict=True):
        t = time.perf_counter()
        ids, _ = store.search(q, 10, docs={doc})
        times.append(time.perf_counter() - t)
        if not ids or any(not i.startswith(doc + "#") for i in ids):
            raise AssertionError(f"filtered search returned {ids[:3]} for {doc}")
    row["filtered"] = ms(times)
    local = spec["kind"] == "faiss" or spec["uri"].endswith(".db")
    # a server's memory and disk are another process's: measured by whoever runs it (docs/scale.md)
    row["rss_growth_mb"] = round(process_rss_mb() - rss, 1) if local else None
    row["disk_mb"] = (disk_mb(where / store_mod.FAISS_FILE) if spec["kind"] == "faiss"
                      else disk_mb(Path(spec["uri"])) if local else None)
    row["count"] = store.count()
    row["record"] = record
    return row


def run(spec: dict[str, str], sizes: list[int], seeds: np.ndarray, n_queries: int = 100,
        work: Path | None = None, measured: Any = None) -> dict[str, Any]:
    """Return the side-by-side measurements of FAISS and the store ``spec`` at each size;
    ``measured(name, row)`` is called after each store's measurement, while it still holds the vectors
    (a server's own memory and disk are measured there)."""
    import faiss

    out: dict[str, Any] = {"store": spec, "n_queries": n_queries, "points": []}
    for n in sizes:
        rng = np.random.default_rng(n)
        vectors = synthetic(seeds, n, rng)
        queries = synthetic(seeds, n_queries, rng)
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        _, truth = exact.search(queries, 10)
        del exact
        point: dict[str, Any] = {"n": n, "dim": int(vectors.shape[1])}
        for name, given in (("faiss", {"kind": "faiss"}), (spec["kind"], spec)):
            if name == "faiss" and spec["kind"] == "faiss" and "faiss" in point:
                continue
            s = given
            with tempfile.TemporaryDirectory(dir=work) as tmp:
                if s["kind"] == "milvus" and s["uri"].endswith(".db"):  # a fresh milvus-lite file per size
                    s = {**s, "uri": str(Path(s["uri"]).with_name(f"{Path(s['uri']).stem}-{n}.db"))}
                    old = Path(s["uri"])  # a folder (milvus-lite 3.x) or a file (2.x)
                    if old.is_dir():
                        shutil.rmtree(old, ignore_errors=True)
                    else:
                        old.unlink(missing_ok=True)
                point[name] = measure(s, Path(tmp), vectors, queries, truth)
                if measured is not None:
                    measured(name, point[name])
                if s["kind"] == "milvus":
                    from qa import store_milvus

                    store_milvus.drop(point[name]["record"])
            print(f"  {n:>9,} {name:<7} {json.dumps(point[name])}", flush=True)
        out["points"].append(point)
        del vectors
    return out


def lexical(index_dir: Path, uri: str, questions: Path | None = None) -> dict[str, Any]:
    """Return BM25 alone, bm25s (qa's lexical stage, without its query expansion) against Milvus'
    full-text search (a BM25 function over the same paragraph texts, English stop words): hit@5,
    mrr@10 on the project's question set, and latency p50/p95 per question."""
    from bm25s.stopwords import STOPWORDS_EN
    from pymilvus import DataType, Function, FunctionType

    from qa import evaluate, store_milvus
    from qa import index as index_mod
    from qa import lexical as lexical_mod

    idx = index_mod.load(index_dir)
    qs = [q for q in evaluate.load_questions(evaluate.question_file(str(questions) if questions else None)) if q.answers]
    qrels, _ = evaluate.qrels_for(qs, idx.paragraphs)
    by_marker = {(n.doc, n.marker): n for notes in idx.notes.values() for n in notes.values()}
    texts = [lexical_mod.document_text(p, by_marker) for p in idx.paragraphs]
    client = store_milvus.connect(uri)
    name = "qa_lexical_bench"
    if client.has_collection(name):
        client.drop_collection(name)
    schema = client.create_schema(auto_id=False)
    schema.add_field("id", DataType.VARCHAR, max_length=store_milvus.MAX_ID, is_primary=True)
    schema.add_field("text", DataType.VARCHAR, max_length=65535, enable_analyzer=True,
                     analyzer_params={"tokenizer": "standard",
                                      "filter": ["lowercase", {"type": "stop", "stop_words": sorted(STOPWORDS_EN)}]})
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                 output_field_names=["sparse"]))
    params = client.prepare_index_params()
    params.add_index(field_name="sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25")
    client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")
    client.insert(name, [{"id": p.id, "text": t} for p, t in zip(idx.paragraphs, texts, strict=True)])
    client.flush(name)
    client.load_collection(name)

    def bm25s_rank(question: str) -> list[str]:
        scores = lexical_mod.scores(idx.bm25, question)
        return [idx.paragraphs[i].id for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]

    def milvus_rank(question: str) -> list[str]:
        found = client.search(name, data=[question], anns_field="sparse", limit=10, output_fields=["id"],
                              search_params={"metric_type": "BM25"})
        return [str(h["id"]) for h in found[0]]

    out: dict[str, Any] = {"paragraphs": len(texts), "questions": len(qrels)}
    for label, rank in (("bm25s", bm25s_rank), ("milvus_bm25", milvus_rank)):
        rank(qs[0].question)  # warm
        rows, times = [], []
        for q in qs:
            if q.id not in qrels:
                continue
            t = time.perf_counter()
            ranked = rank(q.question)
            times.append(time.perf_counter() - t)
            rows.append(evaluate.metrics_for(ranked, qrels[q.id], 10))
        out[label] = {"hit@5": round(float(np.mean([r["hit@5"] for r in rows])), 4),
                      "mrr@10": round(float(np.mean([r["mrr@10"] for r in rows])), 4), **ms(times)}
    client.drop_collection(name)
    return out


def table(result: dict[str, Any]) -> str:
    """Return the side-by-side table as Markdown."""
    lines = ["| vectors | store | index | ingest /s | p50 ms | p95 ms | recall@10 | one-doc p50 ms | memory MB | disk MB |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for p in result["points"]:
        for name, row in p.items():
            if not isinstance(row, dict):
                continue
            lines.append(f"| {p['n']:,} | {name} | {row['index_type']} | {row['ingest_per_s']:,} | {row['p50_ms']} | "
                         f"{row['p95_ms']} | {row['recall@10']} | {row['filtered']['p50_ms']} | "
                         f"{_or_dash(row['rss_growth_mb'])} | {_or_dash(row['disk_mb'])} |")
    return "\n".join(lines)


def _or_dash(value: Any) -> str:
    return "—" if value is None else str(value)


def seeds_of(index_dir: Path) -> np.ndarray:
    """Return the index's own chunk vectors (seeds of the synthetic ones), or random unit vectors."""
    from qa import index as index_mod

    try:
        manifest = index_mod.read_manifest(index_dir)
        return np.load(index_dir / manifest["generation"] / "vectors.npy", allow_pickle=False).astype(np.float32)
    except (OSError, ValueError, KeyError, index_mod.IndexLoadError):
        x = np.random.default_rng(0).standard_normal((1000, 384)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def run_cli(args: Any) -> int:
    """``qa bench --store …``: print the side-by-side table, write bench_store.json into ``--out``."""
    spec = store_mod.parse_spec(args.store)
    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else (
        [10_000, 100_000] if args.quick else [100_000, 1_000_000])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = run(spec, sizes, seeds_of(Path(args.index)), n_queries=30 if args.quick else 100, work=out)
    (out / "bench_store.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(table(result))
    print(f"\nwrote {out / 'bench_store.json'}")
    return 0


if __name__ == "__main__":  # python -m qa.bench_store lexical INDEX milvus:PATH.db
    import sys

    if len(sys.argv) != 4 or sys.argv[1] != "lexical":
        sys.exit("usage: python -m qa.bench_store lexical INDEX_DIR milvus:PATH.db")
    print(json.dumps(lexical(Path(sys.argv[2]), store_mod.parse_spec(sys.argv[3])["uri"]), indent=1))
