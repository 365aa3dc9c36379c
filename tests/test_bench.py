"""bench: the measurements run at toy sizes and produce a table, JSON and a plot (no timing assertions)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from qa import bench, bench_scale


def seeds(n: int = 200, dim: int = 384) -> np.ndarray:
    x = np.random.default_rng(0).standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_synthetic_vectors_are_unit_and_reproducible() -> None:
    a = bench_scale.synthetic(seeds(), 1000, np.random.default_rng(1))
    b = bench_scale.synthetic(seeds(), 1000, np.random.default_rng(1))
    assert a.shape == (1000, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(a, b)


def test_percentiles_and_recall() -> None:
    assert bench_scale.ms([0.001, 0.002, 0.003]) == {"p50_ms": 2.0, "p95_ms": 3.0}
    assert bench_scale.recall(np.array([[1, 2], [3, 4]]), np.array([[2, 1], [3, 5]])) == 0.75


def test_scale_point_at_toy_size(tmp_path: Path) -> None:
    point = bench_scale.scale_point(seeds(), 2000, n_queries=20, efs=(16, 64), nprobes=(8,))
    assert point["n"] == 2000 and point["dim"] == 384
    for kind in ("flat", "hnsw", "ivf"):
        row = point[kind]
        assert {"build_s", "disk_mb", "p50_ms", "p95_ms", "recall@10"} <= set(row)
        assert 0.0 <= row["recall@10"] <= 1.0
    assert point["flat"]["recall@10"] == 1.0  # exact search is its own ground truth
    assert set(point["hnsw"]["sweep"]) == {"ef16", "ef64"}
    assert bench_scale.crossover([point]) is not None


def test_incremental_rebuild_reembeds_only_the_changed_document(fake_embedder: object) -> None:
    paragraphs = [f"Paragraph {i} says something about topic {i % 7} in several words." for i in range(12)]
    r = bench.incremental(paragraphs, fake_embedder, per_doc=1)
    assert r["documents"] == 50 and r["chunks"] >= 50
    assert 0 < r["reembedded_chunks"] < r["chunks"]


def test_table_json_and_plot_shapes(tmp_path: Path) -> None:
    result = {
        "machine": bench.machine(), "quick": True,
        "cold_start": {"qa_help_s": 0.1, "import_sentence_transformers_s": 2.0, "import_qa_search_s": 0.3,
                       "qa_search_s": 4.0, "model_load_s": 3.0, "app_serves_s": 9.0, "help_vs_st_import": 20.0},
        "warm_query": {r: {"p50_ms": 5.0, "p95_ms": 8.0} for r in ("dense", "bm25", "hybrid")},
        "throughput": {"torch": {"model": "m", "passages": 10, "passages_per_s": 50.0, "model_load_s": 1.0,
                                 "peak_rss_mb": 500, "vs_torch": 1.0},
                       "onnx": {"error": "needs the fast extra"}},
        "incremental": {"documents": 50, "chunks": 100, "full_build_s": 5.0, "one_changed_s": 0.2,
                        "reembedded_chunks": 3, "speedup": 25.0},
        "scale": [bench_scale.scale_point(seeds(), 2000, n_queries=10, efs=(16,), nprobes=(8,))],
        "memory": {"questions": 50, "after_warmup_mb": 400.0, "marks_mb": [401.0, 402.0], "growth_last_half_mb": 1.0},
        "hnsw_from_suggested": 100000,
        "settings": {"APPROX_FROM": 100000, "HNSW_EF_SEARCH": 64, "HNSW_M": 32, "IVF_NPROBE": 32},
    }
    text = bench.table(result)
    lines = text.splitlines()
    assert lines[0].startswith("measurement")
    for needle in ("qa --help", "warm query hybrid", "memory over 50 questions", "build torch", "build onnx", "rebuild 1 changed",
                   "2,000 flat", "2,000 hnsw", "2,000 ivf"):
        assert any(needle in line for line in lines), needle
    json.loads(json.dumps(result))  # JSON-able as written by qa bench
    bench.plot(result, tmp_path / "bench.png")
    assert (tmp_path / "bench.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_subcommand_is_offered_without_heavy_imports() -> None:
    from qa.cli import parser

    args = parser().parse_args(["bench", "--quick", "--out", "x"])
    assert args.quick and args.out == "x" and args.command == "bench"


def test_memory_over_questions_reports_rss_marks(small_docs: Path, tmp_path: Path, fake_embedder: object) -> None:
    from qa import index

    index.build(small_docs, tmp_path / "idx", fake_embedder, log=lambda line: None)
    m = bench.memory_over_questions(small_docs, tmp_path / "idx", fake_embedder, n=25)
    assert m["questions"] == 25 and len(m["marks_mb"]) == 5 and all(x > 0 for x in m["marks_mb"])
    assert m["after_warmup_mb"] > 0


def test_upload_bench_text_repeats_no_passage_and_holds_the_needle(tmp_path: Path) -> None:
    from qa import bench_upload
    from qa.chunk import chunk_document
    from qa.parse import parse_file

    source = (Path(__file__).parent / "data" / "corpus").glob("*.txt")
    text = bench_upload.big_text("\n\n".join(p.read_text(encoding="utf-8") for p in sorted(source)), 0.2)
    assert 0.19 * 2**20 < len(text.encode("utf-8")) < 0.25 * 2**20
    assert text.count(bench_upload.NEEDLE) == 1
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    doc = parse_file(path)
    chunks = chunk_document(doc.paragraphs, doc.footnotes, lambda t: len(t.split()), 60)
    texts = [c.text for c in chunks]
    assert len(texts) > 500
    assert len(set(texts)) == len(texts)  # a build that embeds each distinct text once must embed them all


def test_upload_bench_cpu_seconds_reads_this_process() -> None:
    import os

    from qa import bench_upload

    assert bench_upload.cpu_seconds(os.getpid()) > 0
    assert bench_upload.cpu_seconds(2**22 + 1) == 0.0


def test_build_bench_table_and_page_count(tmp_path: Path) -> None:
    from fpdf import FPDF

    from qa import bench_build

    pdf = FPDF()
    for _ in range(3):
        pdf.add_page()
    pdf.output(str(tmp_path / "a.pdf"))
    (tmp_path / "b.txt").write_text("Some text.\n", encoding="utf-8")
    assert bench_build.pages(tmp_path) == 3
    (tmp_path / "a.pdf").unlink()
    assert bench_build.pages(tmp_path) is None
    r = {"docs": "d", "documents": 2, "skipped": 0, "pages": 3, "paragraphs": 5, "notes": 2, "chunks": 20,
         "embedded": 18, "word_pieces": 400, "word_pieces_once": 160, "vocabulary": 90, "cpu_s": 3.0, "wall_s": 2.0,
         "load_s": 1.0, "build_s": 1.0, "cpu_s_per_page": 1.0, "wall_s_per_page": 0.667, "passages_per_s": 18.0,
         "peak_rss_mb": 600, "model": "m", "fresh_cache": False, "load_avg": [1.0, 1.2]}
    text = bench_build.table(r)
    assert "400 / 160 = 2.50×" in text and "1.000 CPU-s, 0.667 s wall" in text and "600 MB" in text
