"""Web chat: a Gradio app over the loaded index — ask, read passages with their footnotes,
add documents, and say which passage was the right one.

``Chat`` holds the loaded state (index, embedder, documents folder, feedback file)
and does the work without Gradio; ``app`` lays it out as Gradio Blocks; ``launch``
starts it on 127.0.0.1 with analytics off, system fonts only and a bounded queue;
``serve`` (``qa serve`` / ``python app.py``) first builds the index when it is
missing or stale. Answers come from ``search``; ``render`` turns them into safe HTML.
Gradio is imported inside functions, so ``import qa.ui`` stays cheap.

API endpoints for ``gradio_client``: ``/chat`` (message → reply HTML), ``/search``
(question, k → the ``qa search --json`` object), ``/feedback`` (question,
passage_id, helpful → message) and ``/upload`` (files → message, …).
"""


import itertools
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import traceback
import unicodedata
from pathlib import Path
from typing import Any

from qa import cite, render
from qa import index as index_mod
from qa.errors import IndexLoadError, InputError, QAError
from qa.records import Answer, Hit, Paragraph
from qa.search import MAX_K, check_k, clean_question, search

DEFAULT_K = 5
SLIDER_MAX_K = 20
CONCURRENCY = 4  # searches at once; embedding a question is serialised anyway (see _Serialised)
UPLOAD_TYPES = (".txt", ".md", ".markdown", ".pdf")
SNIPPET_CHARS = 120
_GENERIC_SECTIONS = {"summary", "abstract", "introduction", "conclusion", "conclusions", "notes",
                     "references", "bibliography", "contents", "acknowledgements"}


class _Serialised:
    """An embedder whose calls run one at a time: a Hugging Face fast tokenizer must not be
    used from two threads at once ("Already borrowed"), and the queue runs several searches."""

    def __init__(self, embedder: Any) -> None:
        self.inner = embedder
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        with self._lock:
            return self.inner.count_tokens(text)

    def encode(self, texts: list[str], progress: bool = False) -> Any:
        with self._lock:
            return self.inner.encode(texts, progress=progress)


def default_feedback_path(index_dir: Path) -> Path:
    """Return $QA_FEEDBACK, else feedback/questions.jsonl next to the index folder."""
    env = os.environ.get("QA_FEEDBACK")
    return Path(env) if env else Path(index_dir).resolve().parent / "feedback" / "questions.jsonl"


class Chat:
    """What the web chat serves: a loaded index and embedder, the documents folder, the feedback file."""

    def __init__(self, docs_dir: Path, index_dir: Path, embedder: Any, feedback: Path | None = None) -> None:
        self.docs_dir, self.index_dir = Path(docs_dir), Path(index_dir)
        self.embedder = embedder if isinstance(embedder, _Serialised) else _Serialised(embedder)
        self.feedback_path = Path(feedback) if feedback else default_feedback_path(self.index_dir)
        self.index = index_mod.load(self.index_dir)
        self._build_lock = threading.Lock()
        self._feedback_lock = threading.Lock()
        self._ids = itertools.count(1)

    # --- asking ---------------------------------------------------------------

    def ask(self, question: object, k: object = DEFAULT_K, docs: list[str] | None = None) -> Answer:
        """Return the answer to a question, limited to ``docs`` when given (raises InputError)."""
        question = clean_question(question)
        k = check_k(k)
        idx = self.index  # one snapshot: an upload may swap self.index meanwhile
        return search(idx, self.embedder, question, k, docs=frozenset(docs) if docs else None)

    def reply(self, question: object, k: object = DEFAULT_K, docs: list[str] | None = None) -> tuple[list[str], list[Hit]]:
        """Return the chat reply as HTML blocks (one per passage) and the hits they show."""
        try:
            answer = self.ask(question, k, docs)
        except QAError as exc:
            return [render.error_html(str(exc))], []
        except Exception as exc:  # never a traceback in the chat; the console gets it
            traceback.print_exc(file=sys.stderr)
            return [render.error_html(f"internal error ({type(exc).__name__}); the server console has details")], []
        uid = f"qa{next(self._ids)}"
        return render.answer_blocks(answer, uid, self.file_url), list(answer.hits)

    def search_json(self, question: object, k: object = DEFAULT_K) -> dict[str, Any]:
        """Return the ``qa search --json`` object, or the same shape with an "error" line."""
        try:
            return cite.answer_to_json(self.ask(question, k))
        except QAError as exc:
            error = str(exc)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            error = f"internal error ({type(exc).__name__}); the server console has details"
        shown = question if isinstance(question, str) else ""
        return {"question": shown, "error": error, "results": [], "abstained": True}

    # --- documents ------------------------------------------------------------

    def documents(self) -> dict[str, dict[str, Any]]:
        """Return the indexed documents with their counts, from the manifest."""
        return dict(self.index.manifest.get("documents", {}))

    def file_url(self, paragraph: Paragraph) -> str | None:
        """Return the chat's link to a passage's original file (PDFs at the page)."""
        return render.file_href(paragraph.doc, paragraph.page) if paragraph.doc in self.documents() else None

    def document_file(self, doc: str) -> Path | None:
        """Return the file of an indexed document, or None: only indexed files inside the docs folder."""
        if doc not in self.documents():
            return None
        root = self.docs_dir.resolve()
        path = (root / doc).resolve()
        if not path.is_relative_to(root) or not path.is_file() or path.suffix.lower() not in UPLOAD_TYPES:
            return None
        return path

    def add_documents(self, files: list[Any]) -> list[str]:
        """Copy uploaded files into the docs folder, update the index, reload it; return one line per file."""
        lines: list[str] = []
        staged: list[tuple[Path, str, str]] = []  # (upload, original name, doc name)
        for f in files or []:
            upload = Path(f if isinstance(f, (str, os.PathLike)) else getattr(f, "path", None) or f.name)
            name = upload.name
            try:
                doc = safe_filename(name)
                _check_readable(upload, name, doc)
            except QAError as exc:
                lines.append(str(exc))
                continue
            same = next((p for p in index_mod.document_files(self.docs_dir)
                         if p.stat().st_size == upload.stat().st_size
                         and index_mod.file_hash(p) == index_mod.file_hash(upload)), None)
            if same is not None:
                lines.append(f"{name}: already in your documents as {same.relative_to(self.docs_dir).as_posix()}")
                continue
            staged.append((upload, name, doc))
        if not staged:
            return lines or ["no file received; choose .txt, .md or .pdf files"]
        with self._build_lock:
            added = [(name, self._copy_in(upload, doc)) for upload, name, doc in staged]
            try:
                report = index_mod.build(self.docs_dir, self.index_dir, self.embedder)
            except QAError as exc:
                for _, path in added:
                    path.unlink(missing_ok=True)
                return lines + [f"{name}: not added: {exc}" for name, _ in added]
            skipped = dict(report.skipped)
            for name, path in added:
                doc = path.relative_to(self.docs_dir).as_posix()
                if doc in skipped:  # unreadable after all: take it back out
                    path.unlink(missing_ok=True)
                    lines.append(f"{name}: not added: {skipped[doc].replace(str(path), doc)}")
            self.index = index_mod.load(self.index_dir)
            counts = self.documents()
            for name, path in added:
                doc = path.relative_to(self.docs_dir).as_posix()
                if doc in counts:
                    c = counts[doc]
                    renamed = f" (saved as {doc})" if doc != name else ""
                    lines.append(f"{name}: added{renamed}, {c['paragraphs']} passages, {c['footnotes']} footnotes; ask away")
        return lines

    def _copy_in(self, upload: Path, doc: str) -> Path:
        """Copy an upload into the docs folder under a free name (a hidden temp name first, then renamed)."""
        self.docs_dir.mkdir(parents=True, exist_ok=True)
        stem, suffix = os.path.splitext(doc)
        fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=self.docs_dir)
        os.close(fd)
        shutil.copyfile(upload, tmp)
        for n in itertools.count(1):
            dest = self.docs_dir / (doc if n == 1 else f"{stem}-{n}{suffix}")
            try:
                _claim(Path(tmp), dest)
            except FileExistsError:
                continue
            return dest
        raise AssertionError("unreachable")

    # --- feedback -------------------------------------------------------------

    def record_feedback(self, question: object, passage_id: str) -> tuple[dict[str, Any], bool]:
        """Append "this passage answers this question" to the feedback file; return (row, is_new)."""
        question = clean_question(question)
        row_no = self.index.by_id.get(passage_id)
        if row_no is None:
            raise InputError(f"passage_id: unknown passage '{passage_id}'")
        paragraph = self.index.paragraphs[row_no]
        with self._feedback_lock:
            rows = read_jsonl(self.feedback_path)
            for row in rows:
                if row.get("question") == question and row.get("passage_id") == passage_id:
                    return row, False
            row = {"id": f"fb-{len(rows) + 1}", "question": question, "type": "feedback",
                   "answers": [snippet(paragraph.text)], "passage_id": passage_id,
                   "sources": [], "footnote": None, "split": "feedback"}
            self.feedback_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.feedback_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return row, True

    def feedback_json(self, question: object, passage_id: object, helpful: object = True) -> str:
        """The /feedback endpoint: record a helpful passage; a 👎 alone records nothing."""
        if helpful is not True:
            return "noted; give the passage that does answer the question a 👍 to save it"
        try:
            row, new = self.record_feedback(question, str(passage_id))
        except QAError as exc:
            return f"error: {exc}"
        return f"saved as {row['id']} in {self.feedback_path}" if new else f"already saved as {row['id']}"

    def example_questions(self, n: int = 3) -> list[str]:
        """Return a few questions built from section titles, for the empty chat."""
        seen: list[str] = []
        for p in self.index.paragraphs:
            title = (p.section or "").strip()
            if title and title.lower() not in _GENERIC_SECTIONS and title not in seen and len(title) <= 80:
                seen.append(title)
        return [f"What do the documents say about “{t}”?" for t in seen[:n]]


def _claim(tmp: Path, dest: Path) -> None:
    """Give ``tmp`` the name ``dest`` unless that name exists (then FileExistsError): never overwrites."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        raise
    except OSError:  # no hard links here: reserve the name exclusively, then move onto it
        os.close(os.open(dest, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        os.replace(tmp, dest)
        return
    os.unlink(tmp)


def safe_filename(name: str) -> str:
    """Return a plain file name for an upload (no folders, no leading dot), or raise InputError."""
    base = unicodedata.normalize("NFKC", name.replace("\\", "/").rsplit("/", 1)[-1])
    stem, dot, ext = base.rpartition(".")
    suffix = dot + ext if dot else ""
    if suffix.lower() not in UPLOAD_TYPES:
        raise InputError(f"{base or 'file'}: unsupported file type '{suffix}'; upload .txt, .md or .pdf")
    stem = re.sub(r"[^\w.-]+", "-", stem).strip(".-_")[:80] or "document"
    return stem + suffix.lower()


def _check_readable(upload: Path, name: str, doc: str) -> None:
    """Parse an upload before it goes near the docs folder: a bad file changes nothing."""
    from qa.parse import parse_file

    try:
        parse_file(upload, doc)
    except QAError as exc:
        raise InputError(str(exc).replace(str(upload), name)) from None
    except Exception as exc:  # a reader library's own error on a corrupt file
        raise InputError(f"{name}: could not read the file ({type(exc).__name__}); is it damaged?") from None


def snippet(text: str) -> str:
    """Return the first ~120 characters of a passage's clean text, cut at a word (an eval "answer")."""
    if len(text) <= SNIPPET_CHARS:
        return text
    cut = text[:SNIPPET_CHARS]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Return the JSON objects of a JSONL file (none when it does not exist; bad lines skipped)."""
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict):
            rows.append(row)
    return rows


# --- Gradio -------------------------------------------------------------------

def app(chat: Chat) -> Any:
    """Return the Gradio Blocks of the chat (not launched)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    def respond(message: str, history: list, meta: list, k: float, docs: list[str] | None):
        history, meta = list(history or []), list(meta or [])
        question = message if isinstance(message, str) else ""
        history.append({"role": "user", "content": render.question_html(question)})
        meta.append(None)
        yield "", history, meta
        blocks, hits = chat.reply(question, int(k or DEFAULT_K), docs or None)
        cleaned = _clean_or_none(question)
        for n, block in enumerate(blocks):
            history.append({"role": "assistant", "content": block})
            meta.append({"question": cleaned, "passage_id": hits[n].paragraph.id} if n < len(hits) else None)
        yield "", history, meta

    def on_example(evt: gr.SelectData, history: list, meta: list, k: float, docs: list[str] | None):
        value = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value)
        yield from respond(value, history, meta, k, docs)

    def on_like(evt: gr.LikeData, meta: list) -> None:
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        info = meta[index] if meta and 0 <= index < len(meta) else None
        if not info or not info.get("question"):
            return
        liked = evt.liked is True or evt.liked == "Like"
        if not liked:
            gr.Info("Thanks. If another passage answers the question, give it a 👍: it will be saved as the right one.")
            return
        row, new = chat.record_feedback(info["question"], info["passage_id"])
        gr.Info(f"Saved as {row['id']}: this passage answers the question." if new else f"Already saved as {row['id']}.")

    def on_upload(files: list[Any] | None):
        lines = chat.add_documents(files or [])
        status = "".join(f"<li>{render.esc(line)}</li>" for line in lines)
        return (f'<ul class="qa-status">{status}</ul>', documents_html(chat),
                gr.Dropdown(choices=sorted(chat.documents())))

    with gr.Blocks(title="qa: ask your documents", analytics_enabled=False, fill_height=True) as demo:
        meta = gr.State([])
        with gr.Sidebar(label="Settings and documents", open=True, width=300, elem_id="qa-sidebar"):
            gr.HTML('<div class="qa-brand"><b>qa</b> <span>ask your documents</span></div>'
                    '<p class="qa-tagline">Answers are passages from your own documents, with the '
                    "footnotes they cite. Everything stays on this computer.</p>")
            k = gr.Slider(1, SLIDER_MAX_K, value=DEFAULT_K, step=1, label="Passages per answer")
            docs_filter = gr.Dropdown(choices=sorted(chat.documents()), value=[], multiselect=True,
                                      label="Only these documents", info="Leave empty to search all of them.")
            upload = gr.UploadButton("+ Add documents", file_types=list(UPLOAD_TYPES),
                                     file_count="multiple", variant="secondary", elem_id="qa-upload")
            status = gr.HTML('<p class="qa-hint">.txt, .md or .pdf; they are indexed at once.</p>', elem_id="qa-status")
            doc_list = gr.HTML(documents_html(chat), elem_id="qa-docs")
        chatbot = gr.Chatbot(
            label="Answers", show_label=False, elem_id="qa-chat", scale=1, min_height=380, height="72vh",
            render_markdown=False, sanitize_html=True, latex_delimiters=[], allow_tags=False,
            group_consecutive_messages=False, feedback_options=("Like", "Dislike"), buttons=[],
            layout="panel", autoscroll=False,
            examples=[{"text": q} for q in chat.example_questions()],
            placeholder="Ask a question about your documents. Each answer is the passages that answer it, "
                        "with their footnotes.",
        )
        with gr.Row(equal_height=True, elem_id="qa-ask"):
            box = gr.Textbox(placeholder="Ask a question…", show_label=False, lines=1, max_lines=6,
                             scale=8, autofocus=True, elem_id="qa-box", submit_btn=False)
            send = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="qa-send")

        ask_inputs = [box, chatbot, meta, k, docs_filter]
        box.submit(respond, ask_inputs, [box, chatbot, meta], api_visibility="private")
        send.click(respond, ask_inputs, [box, chatbot, meta], api_visibility="private")
        chatbot.example_select(on_example, [chatbot, meta, k, docs_filter], [box, chatbot, meta],
                               api_visibility="private")
        chatbot.like(on_like, [meta], None, api_visibility="private")
        chatbot.clear(lambda: [], None, [meta], api_visibility="private")
        upload.upload(on_upload, [upload], [status, doc_list, docs_filter], api_name="upload", concurrency_limit=1)

        def chat_api(message: str) -> str:
            """Answer a question: the reply as HTML (passages, highlight, footnotes)."""
            return "\n".join(chat.reply(message)[0])

        def search_api(question: str, k: int = DEFAULT_K) -> dict:
            """Answer a question: the same object as `qa search --json`."""
            return chat.search_json(question, k)

        def feedback_api(question: str, passage_id: str, helpful: bool = True) -> str:
            """Record that a passage answers a question (appends to the feedback question set)."""
            return chat.feedback_json(question, passage_id, helpful)

        gr.api(chat_api, api_name="chat")
        gr.api(search_api, api_name="search")
        gr.api(feedback_api, api_name="feedback", concurrency_limit=1)
    return demo


def _clean_or_none(question: str) -> str | None:
    try:
        return clean_question(question)
    except QAError:
        return None


def documents_html(chat: Chat) -> str:
    """Return the list of indexed documents with their passage and footnote counts."""
    rows = "".join(
        f'<li><span class="qa-docname">{render.esc(doc)}</span>'
        f'<span class="qa-counts">{c.get("paragraphs", 0)} passages · {c.get("footnotes", 0)} footnotes</span></li>'
        for doc, c in sorted(chat.documents().items()))
    return f'<div class="qa-doclist"><div class="qa-doclist-title">Your documents</div><ul>{rows}</ul></div>'


def theme() -> Any:
    """Return the theme: system fonts only, so the page loads nothing from outside."""
    import gradio as gr

    sans = ["system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Noto Sans", "Arial", "sans-serif"]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
    return gr.themes.Soft(primary_hue="indigo", secondary_hue="slate", neutral_hue="slate", font=sans, font_mono=mono)


def document_route(chat: Chat) -> Any:
    """Return the Starlette route that serves indexed documents (PDFs open at #page=N)."""
    from starlette.responses import FileResponse, PlainTextResponse
    from starlette.routing import Route

    async def endpoint(request: Any) -> Any:
        path = chat.document_file(request.path_params["path"])
        if path is None:
            return PlainTextResponse("not found", status_code=404)
        headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
        if path.suffix.lower() == ".pdf":
            return FileResponse(path, media_type="application/pdf", headers=headers,
                                filename=path.name, content_disposition_type="inline")
        headers["Content-Security-Policy"] = "sandbox; default-src 'none'"
        return FileResponse(path, media_type="text/plain; charset=utf-8", headers=headers,
                            filename=path.name, content_disposition_type="inline")

    return Route("/qa/doc/{path:path}", endpoint, methods=["GET", "HEAD"])


def launch(chat: Chat, host: str = "127.0.0.1", port: int = 7860, block: bool = True, quiet: bool = False) -> Any:
    """Start the chat on host:port (loopback by default); return the Gradio app."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    demo = app(chat)
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    demo.launch(
        server_name=host, server_port=port, prevent_thread_lock=not block, share=False, inbrowser=False,
        show_error=False, quiet=quiet, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        max_file_size="200mb", theme=theme(), css=CSS, js=JS, head='<meta name="referrer" content="no-referrer">',
        app_kwargs={"routes": [document_route(chat)]},
    )
    return demo


def prepare(docs: Path, index_dir: Path, model: str | None = None, feedback: Path | None = None,
            embedder: Any = None) -> Chat:
    """Return a ready Chat: the index is built first when it is missing, stale or of another model."""
    from qa.embed import Embedder, model_name

    docs, index_dir = Path(docs), Path(index_dir)
    try:
        manifest: dict[str, Any] | None = index_mod.read_manifest(index_dir)
    except IndexLoadError:
        manifest = None
    if manifest is None:
        index_mod.document_files(docs)  # no index and no documents: say so before loading a model
    if embedder is None:
        wanted = model_name(model) if (model or os.environ.get("QA_MODEL") or manifest is None) else manifest["model"]
        embedder = Embedder(wanted)
    if manifest is None:
        reason = "no index yet"
    elif manifest.get("model") != embedder.name:
        reason = f"the index was built with {manifest.get('model')}, not {embedder.name}"
    else:
        changes = index_mod.stale(manifest, docs)
        reason = f"documents changed: {', '.join(changes[:3])}{', …' if len(changes) > 3 else ''}" if changes else ""
    serial = _Serialised(embedder)
    if not reason:
        try:
            return Chat(docs, index_dir, serial, feedback)
        except IndexLoadError as exc:
            reason = f"the index could not be loaded ({exc})"
    print(f"qa: building the index of {docs}/ in {index_dir}/ ({reason})…", file=sys.stderr, flush=True)
    report = index_mod.build(docs, index_dir, serial, progress=sys.stderr.isatty())
    print(f"qa: indexed {report.documents} documents: {report.paragraphs} passages, {report.footnotes} footnotes "
          f"in {report.seconds:.1f}s" + (f"; {len(report.skipped)} skipped" if report.skipped else ""),
          file=sys.stderr, flush=True)
    return Chat(docs, index_dir, serial, feedback)


def serve(docs: Path, index_dir: Path, host: str = "127.0.0.1", port: int = 7860, model: str | None = None,
          feedback: Path | None = None) -> None:
    """Build the index if needed, then serve the chat until interrupted (``qa serve``, ``python app.py``)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    chat = prepare(docs, index_dir, model, feedback)
    print(f"qa: chat on http://{host}:{port} ({len(chat.documents())} documents, "
          f"{len(chat.index.paragraphs)} passages); Ctrl+C to stop", file=sys.stderr, flush=True)
    launch(chat, host, port, block=True)


JS = """
() => {
  const copy = async (btn) => {
    const source = btn.parentElement && btn.parentElement.querySelector('.qa-copytext');
    if (!source) return;
    const text = source.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = document.createElement('textarea');
      area.value = text; area.style.position = 'fixed'; area.style.opacity = '0';
      document.body.appendChild(area); area.select();
      try { document.execCommand('copy'); } finally { area.remove(); }
    }
    btn.textContent = 'Copied ✓';
    setTimeout(() => { btn.textContent = 'Copy with citation'; }, 1600);
  };
  document.addEventListener('click', (event) => {
    const target = event.target;
    if (!(target instanceof Element)) return;
    const btn = target.closest('.qa-copy');
    if (btn) { event.preventDefault(); event.stopPropagation(); copy(btn); return; }
    const ref = target.closest('.qa-ref a');
    if (ref) {
      const note = document.getElementById(ref.getAttribute('href').slice(1));
      if (note) {
        event.preventDefault();
        const details = note.closest('details');
        if (details) details.open = true;
        note.scrollIntoView({behavior: 'smooth', block: 'center'});
        note.classList.remove('qa-flash'); void note.offsetWidth; note.classList.add('qa-flash');
      }
    }
  }, true);
  // On a phone the sidebar would cover the chat: start with it closed.
  let tries = 0;
  const closeOnPhone = () => {
    const toggle = document.querySelector('#qa-sidebar.open .toggle-button');
    if (toggle && window.innerWidth < 768) { toggle.click(); return; }
    if (!toggle && tries++ < 40) setTimeout(closeOnPhone, 100);
  };
  closeOnPhone();
  // A new answer starts with its best passage: bring the question to the top, not the last passage.
  let lastQuestion = null;
  new MutationObserver(() => {
    const questions = document.querySelectorAll('#qa-chat .qa-question');
    const question = questions[questions.length - 1];
    if (!question || question === lastQuestion) return;
    lastQuestion = question;
    const row = question.closest('.message-row') || question;
    setTimeout(() => row.scrollIntoView({behavior: 'smooth', block: 'start'}), 50);
  }).observe(document.body, {childList: true, subtree: true});
}
"""

CSS = """
#qa-chat { border-radius: 14px; }
#qa-chat .placeholder { font-size: 1.05rem; color: var(--body-text-color-subdued); max-width: 34rem; margin: 0 auto; }
#qa-chat .examples { gap: 10px; }
#qa-chat button.example { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 10px 14px;
  background: var(--background-fill-secondary); text-align: left; }
#qa-chat button.example:hover { border-color: var(--color-accent); }
.qa-hint { color: var(--body-text-color-subdued); font-size: 0.8rem; margin: 0; }
#qa-chat .message-row { padding-top: 6px; padding-bottom: 6px; }
.qa-brand { font-size: 1.35rem; letter-spacing: -0.01em; }
.qa-brand b { color: var(--color-accent); }
.qa-brand span { color: var(--body-text-color-subdued); font-weight: 500; }
.qa-tagline { color: var(--body-text-color-subdued); font-size: 0.9rem; line-height: 1.45; margin: 6px 0 0; }
.qa-question { white-space: pre-wrap; overflow-wrap: anywhere; }
.qa-passage { line-height: 1.6; overflow-wrap: anywhere; }
.qa-passage + .qa-passage { margin-top: 8px; }
details.qa-passage { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 6px 12px;
  background: var(--background-fill-secondary); }
details.qa-passage[open] { padding-bottom: 10px; }
details.qa-passage > summary { cursor: pointer; list-style: none; }
details.qa-passage > summary::-webkit-details-marker { display: none; }
details.qa-passage > summary::before { content: "▸"; float: right; color: var(--body-text-color-subdued); }
details.qa-passage[open] > summary::before { content: "▾"; }
.qa-meta { display: flex; flex-wrap: wrap; align-items: center; gap: 4px 8px; font-size: 0.82rem;
  color: var(--body-text-color-subdued); margin-bottom: 4px; }
.qa-meta > span:not(.qa-rank):not(.qa-doc):not(.qa-tag)::before { content: "·"; margin-right: 8px; opacity: 0.7; }
.qa-rank { display: inline-flex; align-items: center; justify-content: center; min-width: 1.45em; height: 1.45em;
  border-radius: 999px; background: var(--color-accent); color: #fff; font-weight: 700; font-size: 0.78rem; }
.qa-doc { font-weight: 600; color: var(--body-text-color); }
.qa-tag { border: 1px solid var(--border-color-primary); border-radius: 999px; padding: 0 8px; font-size: 0.75rem; }
.qa-preview { display: block; color: var(--body-text-color); opacity: 0.85; font-size: 0.92rem; }
.qa-text { margin: 4px 0 8px; font-size: 1rem; }
.qa-text mark { background: rgba(250, 204, 21, 0.38); color: inherit; border-radius: 3px; padding: 0 1px;
  box-decoration-break: clone; -webkit-box-decoration-break: clone; }
.dark .qa-text mark { background: rgba(250, 204, 21, 0.22); }
.qa-ref { font-size: 0.72em; line-height: 0; }
.qa-ref a, .qa-url, .qa-open { color: #4f46e5; text-decoration: none; }
.dark .qa-ref a, .dark .qa-url, .dark .qa-open { color: #a5b4fc; }
.qa-ref a { font-weight: 600; padding: 0 1px; }
.qa-ref a:hover, .qa-url:hover, .qa-open:hover { text-decoration: underline; }
.qa-notes { margin: 6px 0 8px; padding: 8px 12px 8px 12px; list-style: none; font-size: 0.86rem; line-height: 1.5;
  border-left: 3px solid var(--color-accent-soft, var(--border-color-primary));
  background: var(--background-fill-secondary); border-radius: 0 8px 8px 0; }
.qa-notes li { margin: 2px 0; padding: 2px 4px; border-radius: 6px; scroll-margin: 80px; }
.qa-notes li:target, .qa-notes li.qa-flash { animation: qa-flash 1.6s ease-out; }
@keyframes qa-flash { from { background: rgba(250, 204, 21, 0.45); } to { background: transparent; } }
.qa-marker { font-weight: 700; color: var(--body-text-color-subdued); margin-right: 2px; }
.qa-resolved, .qa-unresolved, .qa-links { margin-left: 1.6em; color: var(--body-text-color-subdued); }
.qa-unresolved { font-style: italic; }
.qa-url { overflow-wrap: anywhere; }
.qa-actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.qa-copy { font: inherit; font-size: 0.8rem; border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 2px 10px; background: var(--background-fill-primary); color: var(--body-text-color); cursor: pointer; }
.qa-copy:hover { border-color: var(--color-accent); }
.qa-open { font-size: 0.8rem; }
.qa-notfound { border: 1px solid rgba(234, 179, 8, 0.55); background: rgba(234, 179, 8, 0.10); border-radius: 10px;
  padding: 8px 12px; margin-bottom: 8px; }
.qa-error { border: 1px solid rgba(239, 68, 68, 0.5); background: rgba(239, 68, 68, 0.08); border-radius: 10px;
  padding: 8px 12px; overflow-wrap: anywhere; }
.qa-status { margin: 0; padding-left: 1.1em; font-size: 0.85rem; overflow-wrap: anywhere; }
.qa-doclist-title { font-weight: 600; font-size: 0.9rem; margin: 4px 0; }
.qa-doclist ul { list-style: none; margin: 0; padding: 0; }
.qa-doclist li { padding: 6px 0; border-bottom: 1px solid var(--border-color-primary); font-size: 0.85rem; }
.qa-docname { display: block; font-weight: 500; overflow-wrap: anywhere; }
.qa-counts { color: var(--body-text-color-subdued); font-size: 0.8rem; }
@media (max-width: 640px) {
  .qa-text { font-size: 0.97rem; }
  #qa-ask { flex-wrap: nowrap; gap: 6px; }
}
"""
