"""Build benchmark: what a first ``qa build`` of a fixed folder costs, and where the cost is.

``qa bench --build DIR`` builds DIR into a fresh temporary index in a child process, as ``qa build``
would (model load included), and prints one table: pages, paragraphs, notes, chunks, the word pieces
that went through the model against each paragraph and note once, CPU seconds (the build's process
and its parse children) and wall seconds, per page, passages per second and peak memory. CPU seconds
are what to compare on a shared machine: wall time moves with the load, which the table prints too.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent


def pages(docs_dir: Path) -> int | None:
    """Return the number of PDF pages under ``docs_dir`` (None when it holds no PDF)."""
    import pypdfium2 as pdfium

    from qa.index import document_files

    pdfs = [p for p in document_files(docs_dir) if p.suffix.lower() == ".pdf"]
    if not pdfs:
        return None
    total = 0
    for path in pdfs:
        pdf = pdfium.PdfDocument(str(path))
        try:
            total += len(pdf)
        finally:
            pdf.close()
    return total


def _child(docs_dir: str, index_dir: str, backend: str | None, model: str | None) -> None:
    """Build, then print the build's counts as one JSON line (run in the measured process)."""
    from qa import index
    from qa.embed import load_embedder

    start = time.perf_counter()
    embedder = load_embedder(model, backend)
    load_s = time.perf_counter() - start
    report = index.build(Path(docs_dir), Path(index_dir), embedder, log=lambda line: None)
    built = index.load(Path(index_dir), with_search=False)
    once = sum(embedder.count_tokens(p.text) for p in built.paragraphs)
    once += sum(embedder.count_tokens(n.text) for notes in built.notes.values() for n in notes.values())
    print(json.dumps({"model": embedder.name, "load_s": load_s, "build_s": report.seconds,
                      "documents": report.documents, "paragraphs": report.paragraphs, "notes": report.footnotes,
                      "chunks": report.chunks, "embedded": report.embedded, "word_pieces": report.word_pieces,
                      "word_pieces_once": once, "vocabulary": len(built.vocab),
                      "skipped": len(report.skipped)}))


def measure(docs_dir: Path, backend: str | None = None, model: str | None = None,
            fresh_cache: bool = False) -> dict[str, Any]:
    """Return the cost of one first build of ``docs_dir`` (a child process; ``fresh_cache``: an empty
    $QA_CACHE, so the model's word table and ONNX exports are made too, as on a new install)."""
    with tempfile.TemporaryDirectory(prefix="qa-bench-build-") as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
        if fresh_cache:
            env["QA_CACHE"] = str(Path(tmp) / "cache")
        load = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "qa.bench_build", str(docs_dir), str(Path(tmp) / "index"),
                               backend or "", model or ""], env=env, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode:
            raise RuntimeError((proc.stderr.strip().splitlines() or ["the build failed"])[-1])
        r: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    n_pages = pages(docs_dir)
    r.update({"docs": str(docs_dir), "pages": n_pages, "cpu_s": round(cpu, 1), "wall_s": round(wall, 1),
              "peak_rss_mb": round(after.ru_maxrss / 1024), "load_avg": [round(load, 2), round(os.getloadavg()[0], 2)],
              "fresh_cache": fresh_cache, "passages_per_s": round(r["embedded"] / max(r["build_s"], 1e-9), 1)})
    if n_pages:
        r["cpu_s_per_page"] = round(cpu / n_pages, 3)
        r["wall_s_per_page"] = round(wall / n_pages, 3)
    return r


def table(r: dict[str, Any]) -> str:
    """Return one build's measurements as a plain-text table."""
    per_page = (f"{r['cpu_s_per_page']:.3f} CPU-s, {r['wall_s_per_page']:.3f} s wall" if r.get("pages") else "no PDF pages")
    rows = [("documents (skipped)", f"{r['documents']} ({r['skipped']})"),
            ("pages", f"{r['pages'] or '—'}"),
            ("paragraphs / notes", f"{r['paragraphs']:,} / {r['notes']:,}"),
            ("chunks (texts embedded)", f"{r['chunks']:,} ({r['embedded']:,})"),
            ("word pieces embedded / each paragraph and note once",
             f"{r['word_pieces']:,} / {r['word_pieces_once']:,} = {r['word_pieces'] / max(r['word_pieces_once'], 1):.2f}×"),
            ("vocabulary words (embedded for the query expansion)", f"{r['vocabulary']:,}"),
            ("CPU, build process + parse children", f"{r['cpu_s']:.1f} s"),
            ("wall (model load / build)", f"{r['wall_s']:.1f} s ({r['load_s']:.1f} s / {r['build_s']:.1f} s)"),
            ("per page", per_page),
            ("passages/s (texts embedded / build s)", f"{r['passages_per_s']:.1f}"),
            ("peak memory (largest process)", f"{r['peak_rss_mb']:,} MB"),
            ("model", r["model"] + (", empty cache (first use)" if r["fresh_cache"] else "")),
            ("load average (start, end)", f"{r['load_avg'][0]}, {r['load_avg'][1]}")]
    width = max(len(a) for a, _ in rows)
    return "\n".join([f"qa bench --build {r['docs']}"] + [f"{a:<{width}}  {b}" for a, b in rows])


def run_cli(docs_dir: Path, out: Path, backend: str | None = None, model: str | None = None,
            fresh_cache: bool = False) -> int:
    """``qa bench --build DIR``: measure, print the table, write build.json into ``out``; return the exit code."""
    from qa.index import document_files

    document_files(docs_dir)  # a missing folder is said at once
    result = measure(docs_dir, backend, model, fresh_cache)
    out.mkdir(parents=True, exist_ok=True)
    (out / "build.json").write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(table(result))
    print(f"\nwrote {out / 'build.json'}")
    return 0


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3] or None, sys.argv[4] or None)
