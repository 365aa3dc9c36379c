"""The web chat through gradio_client: /chat, /search, /feedback, /upload, the document route.

One app is started in-process on a free loopback port over a tiny corpus (two
plain documents, a hostile one and a PDF) indexed with the fake embedder. The
rendering helpers are tested directly.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import pdfmaker
import pytest
from conftest import CORPUS, REPO, SMALL_TXT, FakeEmbedder, _guarded_connect
from gradio_client.exceptions import AppError

from qa import output, questions
from qa.errors import InputError
from qa.parse import KINDS, parse_file
from qa.search import search
from qa.web import ui

NOTES_MD = ("# Orchards\n\nApple trees bloom in April in the northern orchards.[^a]\n\n"
            "Pears ripen later, in September.\n\n[^a]: Orchard survey, <https://example.org/orchards>.\n")
EVIL_MD = (
    "# Trapdoor\n\n"
    "The trapdoor manual says <script>alert('xss')</script> and <img src=x onerror=alert(2)> "
    "and [click me](javascript:alert(3)) and ![pixel](http://evil.example/pixel.png) here.[^1]\n\n"
    "[^1]: Trapdoor source <script>alert(5)</script>, see javascript:alert(4) and <http://evil.example/note>.\n"
)
FILLER = " ".join(["The survey of the coast continued for many weeks along the cliffs and beaches."] * 9)
LIGHTHOUSE = (f"Coastal Survey\n\nIntroduction\n\n{FILLER}\n\n{FILLER}\n\n{FILLER}\n\n{FILLER}\n\n{FILLER}\n\n"
              "Lighthouses\n\nThe lighthouse of Korsholm was lit in 1887 by the lamp keepers guild.¹\n\n"
              "¹ Guild archive, <https://example.org/korsholm-1887>.\n")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    """A launched chat over a tiny corpus: yields (chat, base url, gradio client, work dir)."""
    from gradio_client import Client

    work = tmp_path_factory.mktemp("ui")
    docs = work / "docs"
    docs.mkdir()
    (docs / "harbours.txt").write_text(SMALL_TXT, encoding="utf-8")
    (docs / "notes.md").write_text(NOTES_MD, encoding="utf-8")
    (docs / "trapdoor.md").write_text(EVIL_MD, encoding="utf-8")
    source = work / "coast.txt"
    source.write_text(LIGHTHOUSE, encoding="utf-8")
    pdfmaker.fpdf_pdf(parse_file(source), docs / "coast.pdf")
    (work / "secret.txt").write_text("TOP-SECRET-OUTSIDE-DOCS", encoding="utf-8")
    (docs / ".hidden.txt").write_text("TOP-SECRET-HIDDEN", encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:  # launching must not call out either
        mp.setattr(socket.socket, "connect", _guarded_connect)
        mp.setenv("QA_FEEDBACK", str(work / "feedback" / "questions.jsonl"))
        chat = ui.prepare(docs, work / "index", embedder=FakeEmbedder())
        demo = ui.launch(chat, host="127.0.0.1", port=_free_port(), block=False, quiet=True)
        url = demo.local_url
        client = Client(url, verbose=False)
    yield chat, url, client, work
    demo.close()


def _get(url: str, path: str) -> tuple[int, bytes, dict[str, str]]:
    """GET a raw path (no client-side normalisation of ../ or %2e) from the app."""
    host, port = url.split("//")[1].strip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    conn.request("GET", path)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, body, {k.lower(): v for k, v in resp.getheaders()}


# --- rendering ------------------------------------------------------------------

@pytest.mark.parametrize("name,expected", [
    ("report.PDF", "report.pdf"), ("../../etc/passwd.txt", "passwd.txt"), ("..\\..\\win.md", "win.md"),
    (".hidden.md", "hidden.md"), ("a b<script>.txt", "a-b-script.txt"), ("Ünïcode notes.md", "Ünïcode-notes.md"),
    ("....txt", "document.txt"), ("Order.DOCX", "Order.docx"), ("thesis.odt", "thesis.odt"), ("page.HTM", "page.htm"),
    ("book.epub", "book.epub"),
])
def test_safe_filename(name, expected):
    assert ui.safe_filename(name) == expected


@pytest.mark.parametrize("name", ["run.exe", "noext", "archive.tar.gz", "page.rtf"])
def test_safe_filename_refuses_other_types(name):
    with pytest.raises(InputError, match="unsupported file type"):
        ui.safe_filename(name)


def test_import_does_not_load_gradio():
    out = subprocess.run([sys.executable, "-c", "import sys, qa.web.ui; print('gradio' in sys.modules)"],
                         capture_output=True, text=True, cwd=REPO, timeout=60, check=False)
    assert out.stdout.strip() == "False", out.stderr


# --- the running app -----------------------------------------------------------

def test_search_endpoint_is_the_cli_json(served):
    chat, _, client, _ = served
    got = client.predict("When was the harbour of Vellmar opened?", 3, api_name="/search")
    want = output.answer_to_json(search(chat.index, FakeEmbedder(), "When was the harbour of Vellmar opened?", 3))
    assert got == json.loads(json.dumps(want))
    top = got["results"][0]
    assert top["passage_id"] == "harbours.txt#p2" and "1911" in top["text"]
    assert top["citations"][0]["urls"] == ["https://example.org/report-1911.pdf"]


def test_chat_endpoint_shows_passage_highlight_and_linked_footnotes(served):
    _, _, client, _ = served
    reply = client.predict("When was the harbour of Vellmar opened?", api_name="/chat")
    first = reply.split("<details", 1)[0]
    assert "harbours.txt" in first and "Introduction" in first
    assert "<mark>The harbour of Vellmar was opened in 1911 by the river authority.</mark>" in first
    refs = re.findall(r'<sup class="qa-ref"><a href="#([^"]+)"', first)
    assert refs and all(f'id="{r}"' in first for r in refs)
    assert '<a class="qa-url" href="https://example.org/report-1911.pdf" target="_blank" rel="noopener noreferrer">' in first
    assert reply.count("<details") >= 2  # the next passages are collapsible
    ids = re.findall(r'id="([^"]+)"', reply)
    assert len(ids) == len(set(ids))


def test_ibid_note_shows_its_resolved_source(served):
    _, _, client, _ = served
    reply = client.predict("How many people does the harbour employ today?", api_name="/chat")
    block = next(b for b in reply.split("\n") if "employs 400 people" in b)
    assert "Ibid." in block and "refers to: River Authority" in block


class _Tags(HTMLParser):
    """Collects every tag and attribute of a reply, as a browser would parse it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def test_hostile_document_is_shown_as_text(served):
    _, _, client, _ = served
    reply = client.predict("What does the trapdoor manual say?", api_name="/chat")
    assert "trapdoor.md" in reply
    tags = _tags(reply)
    assert {t for t, _ in tags} <= {"div", "span", "p", "mark", "sup", "a", "ol", "li", "details", "summary",
                                   "button", "strong", "em"}
    for tag, attrs in tags:
        assert not any(name.startswith("on") or name in ("src", "style", "srcset") for name in attrs), (tag, attrs)
        if "href" in attrs:
            assert attrs["href"].startswith(("#", "http://", "https://", "qa/doc/")), attrs
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in reply
    assert "&lt;img src=x onerror=alert(2)&gt;" in reply
    assert "![pixel](http://evil.example/pixel.png)" in reply  # a Markdown image stays text
    hrefs = [a["href"] for t, a in tags if t == "a"]
    assert "http://evil.example/note" in hrefs  # an http(s) URL in a note is a link, followed only on click
    assert not any("javascript" in h or "pixel.png" in h for h in hrefs)


def test_hostile_question_is_not_echoed_raw(served):
    _, _, client, _ = served
    result = client.predict("<img src=x onerror=alert(1)> harbour", 2, api_name="/search")
    assert result["results"]  # answered, as data: the JSON is not HTML
    reply = client.predict("<img src=x onerror=alert(1)> harbour", api_name="/chat")
    assert "<img" not in reply


@pytest.mark.parametrize("question,needle", [
    ("", "question: empty"),
    ("   \n\t ", "question: empty"),
    ("x" * 100_000, "question: too long"),
    ("\x00\x07\x1b", "question: empty"),
])
def test_bad_questions_get_one_line_messages(served, question, needle):
    _, _, client, _ = served
    reply = client.predict(question, api_name="/chat")
    assert 'class="qa-error"' in reply and needle in reply
    assert "\n" not in reply and "Traceback" not in reply
    result = client.predict(question, 5, api_name="/search")
    assert result["results"] == [] and result["abstained"] is True
    assert needle in result["error"] and "\n" not in result["error"]
    assert result["question"] == question[:2000] + ("…" if len(question) > 2000 else "")  # its head only


def test_control_characters_inside_a_question_are_dropped(served):
    _, _, client, _ = served
    result = client.predict("When\x00 was the harbour\x1b of Vellmar opened?\x07", 3, api_name="/search")
    assert result["question"] == "When was the harbour of Vellmar opened?"
    assert result["results"][0]["passage_id"] == "harbours.txt#p2"


@pytest.mark.parametrize("k", [0, -1, 101, 10**9])
def test_bad_k_gets_a_message(served, k):
    _, _, client, _ = served
    result = client.predict("harbour", k, api_name="/search")
    assert result["results"] == [] and "k: must be between 1 and 100" in result["error"]


@pytest.mark.parametrize("k", [2.7, float("inf"), float("nan")])
def test_a_k_that_is_not_a_whole_number_gets_a_message(served, k):
    chat, _, client, _ = served
    result = client.predict("harbour", k, api_name="/search") if k == 2.7 else chat.search_json("harbour", k)
    assert result["results"] == [] and result["error"].startswith("k: expected a whole number between 1 and 100")


def test_a_question_with_a_lone_surrogate_is_answered_through_the_api(served):
    chat, _, _, _ = served
    result = chat.search_json("When was the harbour\ud800 of Vellmar opened?", 3)
    assert "error" not in result and result["results"][0]["passage_id"] == "harbours.txt#p2"
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # serialisable as the API sends it


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "127.0.0.1.evil.example", "attacker.test:7860"])
def test_a_foreign_host_header_is_refused(served, host):
    _, url, _, _ = served
    name, port = url.split("//")[1].strip("/").split(":")
    conn = http.client.HTTPConnection(name, int(port), timeout=30)
    conn.request("GET", "/config", headers={"Host": host, "Origin": f"http://{host}"})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 421 and host.encode() not in body and b"harbour" not in body
    assert _get(url, "/config")[0] == 200  # the server's own address still works


def test_the_feedback_file_is_bounded_and_its_path_not_shown(served, monkeypatch):
    from qa.web import chat as chat_mod

    chat, _, client, _ = served
    question = "Which harbour handles grain and timber?"
    passage = client.predict(question, 1, api_name="/search")["results"][0]["passage_id"]
    msg = chat.feedback_json(question, passage)
    assert msg.startswith("saved as fb-") and str(chat.feedback_path) not in msg and "/" not in msg
    monkeypatch.setattr(chat_mod, "MAX_FEEDBACK", len(questions.read_rows(chat.feedback_path)))
    before = chat.feedback_path.read_text(encoding="utf-8")
    full = chat.feedback_json("Another question about harbours?", passage)
    assert full.startswith("error: the feedback file is full") and str(chat.feedback_path) not in full
    assert chat.feedback_path.read_text(encoding="utf-8") == before


def test_abstained_answer_says_not_found_and_offers_closest(served):
    chat, _, client, _ = served
    candidates = ["Quantum chromodynamics lattice gauge", "qqq zzz", "xq"]
    question = next(q for q in candidates if chat.ask(q, 3).abstained)  # the fake embedder's far-off questions
    result = client.predict(question, 3, api_name="/search")
    assert result["abstained"] is True and len(result["results"]) == 3
    reply = client.predict(question, api_name="/chat")
    assert reply.startswith('<div class="qa-notfound"><strong>Not found in your documents.</strong>')
    assert reply.count('<span class="qa-tag">closest match</span>') == 5
    answered = client.predict("When was the harbour of Vellmar opened?", api_name="/chat")
    assert "Not found" not in answered and "closest match" not in answered


def test_document_filter_keeps_only_chosen_documents(served):
    chat, _, _, _ = served
    answer = chat.ask("When do apple trees bloom?", 3, docs=["harbours.txt"])
    assert answer.hits and {h.paragraph.doc for h in answer.hits} == {"harbours.txt"}
    assert [h.rank for h in answer.hits] == list(range(1, len(answer.hits) + 1))
    assert chat.ask("When do apple trees bloom?", 3, docs=["notes.md"]).hits[0].paragraph.doc == "notes.md"


def test_pdf_passage_links_to_the_file_at_its_page(served):
    _, url, client, _ = served
    result = client.predict("When was the lighthouse of Korsholm lit?", 3, api_name="/search")
    top = result["results"][0]
    assert top["doc"] == "coast.pdf" and isinstance(top["page"], int)
    reply = client.predict("When was the lighthouse of Korsholm lit?", api_name="/chat")
    assert f'href="qa/doc/coast.pdf#page={top["page"]}"' in reply
    status, body, headers = _get(url, "/qa/doc/coast.pdf")
    assert status == 200 and body.startswith(b"%PDF") and headers["content-type"] == "application/pdf"
    assert headers["content-disposition"].startswith("inline")


def test_text_documents_are_served_as_inert_plain_text(served):
    _, url, _, _ = served
    status, body, headers = _get(url, "/qa/doc/trapdoor.md")
    assert status == 200 and b"<script>" in body
    assert headers["content-type"].startswith("text/plain") and headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in headers["content-security-policy"]


def test_the_library_lists_titles_and_serves_its_references(served):
    chat, url, _, _ = served
    assert chat.documents()["harbours.txt"]["title"] == "Tiny Report on Harbours"
    blocks, _ = chat.reply("When was the harbour of Vellmar opened?", 1)
    assert "— Tiny Report on Harbours, Introduction" in blocks[0]  # Copy with citation names the title
    assert '<span class="qa-doc" title="harbours.txt">Tiny Report on Harbours</span>' in blocks[0]  # so does the passage
    listing = ui.documents_html(chat)
    assert "Tiny Report on Harbours" in listing and "harbours.txt" in listing
    assert "&lt;script&gt;" in listing or "<script" not in listing  # titles are document text: escaped
    status, body, headers = _get(url, "/qa/library.bib")
    assert status == 200 and headers["content-disposition"].startswith("attachment")
    assert "title = {Tiny Report on Harbours}" in body.decode() and "note = {file: harbours.txt}" in body.decode()
    status, body, headers = _get(url, "/qa/library.json")
    items = json.loads(body)
    assert status == 200 and {item["note"] for item in items} >= {"file: harbours.txt", "file: coast.pdf"}


@pytest.mark.parametrize("path", [
    "/qa/doc/../secret.txt", "/qa/doc/..%2Fsecret.txt", "/qa/doc/%2e%2e/secret.txt", "/qa/doc/%2e%2e%2fsecret.txt",
    "/qa/doc/harbours.txt/../../secret.txt", "/qa/doc//etc/passwd", "/qa/doc/%2Fetc%2Fpasswd",
    "/qa/doc/..%5Csecret.txt", "/qa/doc/.hidden.txt", "/qa/doc/", "/qa/doc/../index/manifest.json",
    "/qa/doc/....//secret.txt", "/qa/doc/harbours.txt%00.pdf",
])
def test_file_route_never_leaves_the_indexed_documents(served, path):
    _, url, _, _ = served
    status, body, _ = _get(url, path)
    assert status != 200 or (b"SECRET" not in body and b"root:" not in body and b"generation" not in body)
    assert b"TOP-SECRET" not in body


def test_gradio_file_route_does_not_expose_the_disk(served):
    _, url, _, work = served
    for target in (work / "secret.txt", work / "docs" / ".hidden.txt", Path("/etc/passwd")):
        for prefix in ("/gradio_api/file=", "/file="):
            status, body, _ = _get(url, prefix + str(target))
            assert b"TOP-SECRET" not in body and b"root:x:0" not in body, (prefix, target, status)


def test_page_and_theme_load_nothing_from_outside(served):
    _, url, _, _ = served
    status, page, _ = _get(url, "/")
    assert status == 200
    status, css, _ = _get(url, "/theme.css")
    assert status == 200
    for text in (page, css):
        assert b"fonts.googleapis" not in text and b"fonts.gstatic" not in text
    assert not re.search(rb'<(script|link)[^>]+(src|href)="(https?:)?//', page)
    assert not re.search(rb"@import url\(['\"]?https?:", css)


def test_feedback_appends_a_question_qa_eval_can_read(served):
    from qa.evaluate import load_questions

    chat, _, client, _ = served
    question = "When do the apple trees bloom?"
    passage = client.predict(question, 1, api_name="/search")["results"][0]
    msg = client.predict(question, passage["passage_id"], True, api_name="/feedback")
    assert msg.startswith("saved as fb-")
    again = client.predict(question, passage["passage_id"], True, api_name="/feedback")
    assert again.startswith("already saved")
    assert "noted" in client.predict("Other question?", passage["passage_id"], False, api_name="/feedback")
    assert "unknown passage" in client.predict(question, "nope#p9", True, api_name="/feedback")
    rows = [json.loads(line) for line in chat.feedback_path.read_text(encoding="utf-8").splitlines()]
    mine = [r for r in rows if r["question"] == question]
    assert len(mine) == 1 and not any(r["question"] == "Other question?" for r in rows)
    row = mine[0]
    assert set(row) == {"id", "question", "type", "answers", "passage_id", "sources", "footnote", "split"}
    assert row["type"] == "feedback" and row["split"] == "feedback" and row["sources"] == [] and row["footnote"] is None
    clean = chat.index.paragraphs[chat.index.by_id[row["passage_id"]]].text
    assert row["answers"][0] in clean and "[" not in row["answers"][0]
    loaded = load_questions(chat.feedback_path)
    assert any(q.id == row["id"] and q.type == "feedback" for q in loaded)


def test_upload_adds_a_document_answerable_at_once(served, tmp_path):
    from gradio_client import handle_file

    _, _, client, work = served
    new = tmp_path / "windmills.md"
    new.write_text("# Windmills\n\nThe windmill of Ostergaard grinds rye since 1742.[^1]\n\n"
                   "[^1]: Mill register, <https://example.org/mills>.\n", encoding="utf-8")
    status, listing, _ = client.predict([handle_file(str(new))], api_name="/upload")
    assert "windmills.md: added, 1 passage, 1 footnote; ask away" in status
    assert "windmills.md" in listing and (work / "docs" / "windmills.md").is_file()
    top = client.predict("Which windmill grinds rye?", 1, api_name="/search")["results"][0]
    assert top["doc"] == "windmills.md" and top["citations"][0]["urls"] == ["https://example.org/mills"]
    status, _, _ = client.predict([handle_file(str(new))], api_name="/upload")
    assert "already in your documents as windmills.md" in status
    other = tmp_path / "other" / "windmills.md"
    other.parent.mkdir()
    other.write_text("# Watermills\n\nThe watermill of Brede turns since 1650.\n", encoding="utf-8")
    status, _, _ = client.predict([handle_file(str(other))], api_name="/upload")
    assert "saved as windmills-2.md" in status
    assert "1742" in (work / "docs" / "windmills.md").read_text(encoding="utf-8")  # not overwritten


def test_bad_uploads_get_a_message_and_change_nothing(served, tmp_path):
    from gradio_client import handle_file

    chat, _, client, work = served
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 200)
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    before = sorted(p.name for p in (work / "docs").iterdir())
    generation = chat.index.manifest["generation"]
    for name, reason in (("binary.txt", "binary"), ("empty.md", "no text"), ("broken.pdf", "broken.pdf: ")):
        status, _, _ = client.predict([handle_file(str(tmp_path / name))], api_name="/upload")
        assert reason in status and "added" not in status, status
        assert "Traceback" not in status and str(tmp_path) not in status and "gradio" not in status
    with pytest.raises(AppError, match="Invalid file type"):  # refused by the upload button itself
        client.predict([handle_file(str(tmp_path / "tool.exe"))], api_name="/upload")
    assert sorted(p.name for p in (work / "docs").iterdir()) == before
    assert chat.index.manifest["generation"] == generation


def test_remove_takes_a_document_out_of_answers_and_keeps_its_file(served, tmp_path):
    from gradio_client import handle_file

    chat, _, client, work = served
    new = tmp_path / "ferries.md"
    new.write_text("# Ferries\n\nThe ferry to Aeroe leaves at dawn from Svendborg.\n", encoding="utf-8")
    client.predict([handle_file(str(new))], api_name="/upload")
    assert client.predict("Where does the ferry to Aeroe leave from?", 1, api_name="/search")["results"][0]["doc"] \
        == "ferries.md"
    status, listing, _, _ = client.predict("ferries.md", api_name="/remove")
    assert "ferries.md: removed from your documents; the file is kept as docs/.removed/ferries.md" in status
    assert "ferries.md" not in listing and "ferries.md" not in chat.documents()
    assert not (work / "docs" / "ferries.md").exists()
    assert "Svendborg" in (work / "docs" / ".removed" / "ferries.md").read_text(encoding="utf-8")  # moved, not deleted
    top = client.predict("Where does the ferry to Aeroe leave from?", 3, api_name="/search")["results"]
    assert all(hit["doc"] != "ferries.md" for hit in top)
    status, _, _, _ = client.predict("../outside.md", api_name="/remove")
    assert "not in your documents" in status


def test_twenty_clients_at_once_all_get_right_answers(served):
    from gradio_client import Client

    _, url, _, _ = served
    cases = [("When was the harbour of Vellmar opened?", "harbours.txt#p2"),
             ("When do apple trees bloom in the northern orchards?", "notes.md#p1"),
             ("What do the fishing boats bring back at dawn?", "harbours.txt#p4"),
             ("When was the lighthouse of Korsholm lit?", None)]

    def ask(n: int) -> tuple[str | None, str | None, float]:
        question, want = cases[n % len(cases)]
        start = time.perf_counter()
        got = Client(url, verbose=False).predict(question, 3, api_name="/search")["results"][0]
        if want is None:
            return got["doc"], "coast.pdf", time.perf_counter() - start
        return got["passage_id"], want, time.perf_counter() - start

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=20) as pool:
        results = [f.result(timeout=120) for f in [pool.submit(ask, n) for n in range(20)]]
    wall = time.perf_counter() - start
    assert [got for got, _, _ in results] == [want for _, want, _ in results]
    slowest = max(t for _, _, t in results)
    print(f"\n20 concurrent clients: all correct, wall {wall:.2f}s, slowest client {slowest:.2f}s")


def test_server_listens_on_loopback_only(served):
    _, url, _, _ = served
    assert url.startswith("http://127.0.0.1:")
    import inspect

    assert inspect.signature(ui.serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(ui.launch).parameters["host"].default == "127.0.0.1"


def test_add_documents_takes_paths_and_explains_bad_files(served, tmp_path):
    chat, _, _, work = served
    bad = tmp_path / "notes copy.md"
    bad.write_bytes(b"\x00" * 64)
    lines = chat.add_documents([bad])
    assert lines == ["notes copy.md: looks like a binary file, not text; remove it or convert it to .txt"]
    assert not (work / "docs" / "notes-copy.md").exists()
    assert chat.add_documents([]) == [f"no file received; choose {KINDS} files"]


def test_app_py_without_documents_or_index_says_so_in_one_line(tmp_path):
    env = {**__import__("os").environ, "GRADIO_SERVER_PORT": str(_free_port())}
    out = subprocess.run([sys.executable, str(REPO / "app.py"), "--docs", str(tmp_path / "nothing"),
                          "--index", str(tmp_path / "index")], capture_output=True, text=True, env=env, timeout=120,
                         check=False)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "documents folder not found" in out.stderr
    assert "Traceback" not in out.stderr


def test_app_py_on_a_port_in_use_says_so_in_one_line(tmp_path):
    port = _free_port()
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", port))
        busy.listen()
        env = {**__import__("os").environ, "GRADIO_SERVER_PORT": str(port)}
        out = subprocess.run([sys.executable, str(REPO / "app.py"), "--docs", str(tmp_path / "nothing"),
                              "--index", str(tmp_path / "index")], capture_output=True, text=True, env=env, timeout=120,
                             check=False)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().count("\n") == 0 and f"port {port} on 127.0.0.1 is in use" in out.stderr
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr


@pytest.mark.slow
def test_real_model_chat_answers_the_eec_question(tmp_path):
    """The real model on a copy of the shipped paper: serve's build-if-missing path, then /search and /chat."""
    import realmodel
    from gradio_client import Client

    docs = tmp_path / "docs"
    shutil.copytree(CORPUS.parent, docs)
    chat = ui.prepare(docs, tmp_path / "index", feedback=tmp_path / "fb.jsonl",
                      embedder=realmodel.embedder())
    demo = ui.launch(chat, port=_free_port(), block=False, quiet=True)
    try:
        client = Client(demo.local_url, verbose=False)
        question = "When did the EEC open its delegation in Tokyo?"
        top = client.predict(question, 5, api_name="/search")["results"][0]
        assert "European Economic Community (EEC) delegation in Tokyo in 1974" in top["text"]
        reply = client.predict(question, api_name="/chat")
        first = reply.split("<details", 1)[0]
        assert "in 1974" in first and "<mark>" in first
        refs = re.findall(r'<sup class="qa-ref"><a href="#([^"]+)"', first)
        assert refs and all(f'id="{r}"' in first for r in refs)
    finally:
        demo.close()


def test_the_chats_first_build_makes_the_models_word_table_and_searches_use_it(tmp_path: Path) -> None:
    class WithTable(FakeEmbedder):
        def __init__(self) -> None:
            self.tables, self.looked_up = 0, []

        def build_word_table(self) -> int:
            self.tables += 1
            return 3

        def encode_words(self, words: list[str]):
            self.looked_up.append(list(words))
            return self.encode(words)

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "harbours.txt").write_text(SMALL_TXT, encoding="utf-8")
    model = WithTable()
    chat = ui.prepare(docs, tmp_path / "index", embedder=model, feedback=tmp_path / "fb.jsonl")
    assert model.tables == 1  # the chat's first build makes it
    chat.reply("When did the quayside of Vellmar welcome ships?")
    assert any("quayside" in words for words in model.looked_up)


def test_the_page_has_the_chats_theme_css_and_script_and_no_runs_link(served):
    _, url, _, _ = served
    status, body, _ = _get(url, "/config")
    config = json.loads(body)
    assert status == 200
    assert ui.static_text("chat.css").strip()[:200] in (config.get("css") or "")
    assert ui.static_text("chat.js").strip()[:100] in (config.get("js") or "")
    assert config.get("footer_links") == ["api", "settings"]
    status, theme_css, _ = _get(url, "/theme.css")
    assert status == 200 and b"system-ui" in theme_css


def _raw(url: str, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes, dict]:
    name, port = url.split("//")[1].strip("/").split(":")
    conn = http.client.HTTPConnection(name, int(port), timeout=30)
    conn.request(method, path, body=body or None, headers=headers)
    resp = conn.getresponse()
    out = resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return out


def _multipart(name: str, data: bytes) -> tuple[bytes, str]:
    boundary = "qa-test-boundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            f"Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.mark.parametrize("origin", ["http://evil.example", "http://localhost:1", "null"])
def test_another_sites_page_cannot_post_files_or_read_answers(served, origin):
    _, url, _, _ = served
    own = url.split("//")[1].strip("/")
    body, kind = _multipart("planted.txt", b"PLANTED-BY-A-WEB-PAGE")
    status, _, _ = _raw(url, "POST", "/gradio_api/upload", {"Host": own, "Origin": origin, "Content-Type": kind}, body)
    assert status == 403
    status, _, headers = _raw(url, "OPTIONS", "/gradio_api/upload", {
        "Host": own, "Origin": origin, "Access-Control-Request-Method": "POST"})
    assert headers.get("access-control-allow-origin") != origin  # Gradio's default reflects any localhost page
    status, _, _ = _raw(url, "POST", "/gradio_api/upload", {"Host": own, "Origin": f"http://{own}",
                                                             "Content-Type": kind}, body)
    assert status == 200  # the chat's own page may


def test_x_forwarded_host_is_not_believed(served):
    _, url, _, _ = served
    own = url.split("//")[1].strip("/")
    status, body, _ = _raw(url, "GET", "/config", {"Host": own, "X-Forwarded-Host": "evil.example"})
    assert status == 200 and b"evil.example" not in body


def test_a_slow_first_answer_does_not_stop_the_chat_starting(monkeypatch):
    """Gradio's own start-up check gives up after one 3 s timeout ("When localhost is not accessible, a
    shareable link must be created", seen at load 20); the chat waits for its own address instead."""
    import httpx
    from gradio import networking

    calls = []

    def head(url, timeout=None, **kwargs):
        calls.append(url)
        if len(calls) < 3:
            raise httpx.ReadTimeout("busy")
        return httpx.Response(200)

    monkeypatch.setattr(networking, "url_ok", networking.url_ok)  # restored after the test
    monkeypatch.setattr(httpx, "head", head)
    monkeypatch.setattr(ui.time, "sleep", lambda seconds: None)
    ui._patient_start(seconds=30)
    assert networking.url_ok("http://127.0.0.1:7860/") is True and len(calls) == 3
