"""Benchmark: questions from many clients while a big upload is indexed in the chat.

``python -m qa.bench_upload [--mb 20] [--clients 30] [--think 1.0] [--tiny] [--out DIR]`` copies the
documents folder into a temporary one, starts the chat on it (``app.py``, 127.0.0.1 only,
the real model) in a child process, makes a text file of about ``--mb`` MB from the
corpus's paragraphs (each varied, so every passage is new, plus one sentence found only
there), uploads it through ``/upload``, and meanwhile runs ``--clients`` clients, each
asking the project's questions through ``/search`` in a loop (``--think`` seconds between
its questions) until the upload is indexed. It prints and writes (``bench_upload.json``)
how many questions were asked and answered, their p50/p95/max latency, the upload's
indexing time, the server's peak memory, and whether the big file's passages are found
when indexing ends. A benchmark, not a test: its figures depend on the machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
NEEDLE = "The zeppelin hangar of Quokkaville was painted turquoise in 1899 by the Brask brothers."
NEEDLE_QUESTION = "What colour was the zeppelin hangar of Quokkaville painted?"


def big_text(source: str, mb: float, seed: int = 1) -> str:
    """Return about ``mb`` MB of text made of the source's paragraphs, every sentence varied (so no
    passage or window repeats another and a build cannot skip any as already embedded), with the
    needle inside."""
    from qa.chunk import split_sentences

    paras = [split_sentences(" ".join(p.split())) for p in source.split("\n\n")
             if len(p) > 200 and p.lstrip()[:1] not in "¹²³⁴⁵⁶⁷⁸⁹"]
    rng = random.Random(seed)
    out: list[str] = []
    size, n = 0, 0
    while size < mb * 2**20:
        n += 1
        words = " ".join(f"{s} (case {n}.{j})" for j, s in enumerate(rng.choice(paras), start=1)).split()
        if n % 40 == 1:
            out.append(f"Section {n // 40 + 1}")
        out.append(" ".join(words))
        if n == 10:
            out.append(NEEDLE)
        size += len(out[-1].encode("utf-8")) + 2
    return "\n\n".join(out) + "\n"


def tiny_text(mb: float) -> str:
    """Return about ``mb`` MB of one-word sentences ("Aa. Aa. …", the hostile upload of issue 21: every
    sentence a passage), the needle first so that it is indexed whatever the document limits cut."""
    return NEEDLE + "\n\n" + "Aa. " * int(mb * 2**20 / 4) + "\n"


def free_port() -> int:
    """Return a free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """Return a process's peak resident memory in MB (VmHWM), 0 when gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """Return a process's CPU time so far (user + system, its threads included) in seconds, 0 when gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ask(port: int, question: str, k: int, session: str) -> dict[str, Any]:
    """Return the chat's /search answer to one question, asked as a browser's script would: two plain
    HTTP requests (post the question, read the event stream), none of gradio_client's machinery, so
    30 clients cost the machine little next to the server they measure. Each client keeps one
    ``session`` as a browser tab does: Gradio keeps the last 2,000 sessions' event queues, so a new
    session per question would push the upload's own session out within a minute."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("POST", "/gradio_api/call/search", json.dumps({"data": [question, k], "session_hash": session}),
                     {"Content-Type": "application/json"})
        event = json.loads(conn.getresponse().read())["event_id"]
        conn.request("GET", f"/gradio_api/call/search/{event}")
        stream = conn.getresponse().read().decode("utf-8")
    finally:
        conn.close()
    kind = ""
    for line in stream.splitlines():
        if line.startswith("event:"):
            kind = line.split(":", 1)[1].strip()
        elif line.startswith("data:") and kind in ("complete", "error"):
            data = json.loads(line.split(":", 1)[1])
            if kind == "error":
                return {"error": f"server error: {data}"}
            return data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {"error": "no answer"}
    return {"error": "the event stream ended without an answer"}


def percentile(values: list[float], q: float) -> float:
    """Return the q-th percentile (nearest rank) of values, 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def run(mb: float, clients: int, think: float, out_dir: Path, docs_src: Path, max_minutes: float,
        max_index_minutes: float, tiny: bool = False) -> dict[str, Any]:
    """Run the benchmark; return its figures."""
    from gradio_client import Client, handle_file

    work = Path(tempfile.mkdtemp(prefix="qa-bench-upload-"))
    docs = work / "docs"
    shutil.copytree(docs_src, docs)
    source = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(docs_src.glob("*.txt")))
    upload = work / "upload" / f"big{mb:g}mb.txt"
    upload.parent.mkdir()
    upload.write_text(tiny_text(mb) if tiny else big_text(source, mb), encoding="utf-8")
    from qa.questions import load_questions, question_file

    questions = [q.question for q in load_questions(question_file("paper"))]
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    log = open(work / "server.log", "w", encoding="utf-8")  # noqa: SIM115 (the server writes it until the finally below)
    server = subprocess.Popen([sys.executable, str(REPO / "app.py"), "--docs", str(docs), "--index",
                               str(work / "index"), "--port", str(port), "--feedback", str(work / "fb.jsonl")],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 600
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the chat did not start; see {work / 'server.log'}") from None
                time.sleep(0.5)
        done = threading.Event()
        latencies: list[float] = []
        errors: list[str] = []
        lock = threading.Lock()

        def client(n: int) -> None:
            rng = random.Random(n)
            stop_at = time.monotonic() + max_minutes * 60
            while not done.is_set() and time.monotonic() < stop_at:
                question = rng.choice(questions)
                start = time.perf_counter()
                try:
                    problem = ask(port, question, 5, f"qa-bench-{n}").get("error")
                except Exception as exc:  # counted, never hidden
                    problem = f"{type(exc).__name__}: {exc}"
                elapsed = time.perf_counter() - start
                with lock:
                    latencies.append(elapsed)
                    if problem:
                        errors.append(str(problem))
                done.wait(think)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        start = time.perf_counter()
        cpu_start = (cpu_seconds(server.pid), time.process_time())
        finished: list[Any] = []

        def send() -> None:
            finished.append(Client(url, verbose=False).predict([handle_file(str(upload))], api_name="/upload")[0])
            finished.append(time.perf_counter() - start)
            done.set()

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        for t in threads:  # until the upload is indexed, or the clients' time is up
            t.join()
        asked_s = time.perf_counter() - start
        cpu_asking = (cpu_seconds(server.pid) - cpu_start[0], time.process_time() - cpu_start[1])
        figures: dict[str, Any] = {
            "upload_mb": round(upload.stat().st_size / 2**20, 1), "clients": clients, "think_s": think,
            "questions": len(latencies), "errors": len(errors), "error_examples": errors[:3],
            "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
            "max_s": round(max(latencies, default=0.0), 3), "asked_for_s": round(asked_s, 1),
            "server_cpu_s_while_asked": round(cpu_asking[0], 1), "clients_cpu_s_while_asked": round(cpu_asking[1], 1),
            "load_average_while_asked": os.getloadavg(),
        }
        # The questions' figures now, in case the wait for the indexing below is cut short.
        print(json.dumps(figures, ensure_ascii=False), flush=True)
        sender.join(max(0.0, max_index_minutes * 60 - asked_s))
        status, indexing_s = (finished[0], finished[1]) if len(finished) == 2 else ("not finished", None)
        top = ask(port, NEEDLE_QUESTION, 3, "qa-bench-needle").get("results") or []
        found = bool(top) and top[0]["doc"] == upload.name and "turquoise" in top[0]["text"]
        figures.update({
            "indexing_s": None if indexing_s is None else round(indexing_s, 1),
            "load_average": os.getloadavg(),
            "upload_status": status, "needle_found": found, "server_peak_rss_mb": round(peak_rss_mb(server.pid)),
        })
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench_upload.json").write_text(json.dumps(figures, indent=1, ensure_ascii=False), encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run from the command line; print the figures."""
    p = argparse.ArgumentParser(prog="python -m qa.bench_upload", description=__doc__.split("\n\n")[0])
    p.add_argument("--mb", type=float, default=20.0, help="size of the uploaded text file (default: 20)")
    p.add_argument("--clients", type=int, default=30, help="clients asking at once (default: 30)")
    p.add_argument("--think", type=float, default=1.0, help="seconds between one client's questions (default: 1)")
    p.add_argument("--max-minutes", type=float, default=180.0, help="clients stop after this long in any case")
    p.add_argument("--max-index-minutes", type=float, default=240.0, help="the upload is waited for this long")
    p.add_argument("--docs", default=str(REPO / "docs_src"), help="documents to copy (default: docs_src/)")
    p.add_argument("--out", default="bench_out", help="folder for bench_upload.json (default: bench_out/)")
    p.add_argument("--tiny", action="store_true", help="upload one-word sentences ('Aa. Aa. …'), every one a "
                   "passage: the document limits' worst case, instead of varied paragraphs")
    args = p.parse_args(argv)
    figures = run(args.mb, args.clients, args.think, Path(args.out), Path(args.docs), args.max_minutes,
                  args.max_index_minutes, args.tiny)
    for key, value in figures.items():
        print(f"{key:20} {value}")
    ok = figures["errors"] == 0 and figures["p95_s"] < 3 and figures["needle_found"] and figures["indexing_s"]
    print("every question answered, p95 < 3 s, big file searchable:", "yes" if ok else "NO")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
