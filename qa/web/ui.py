"""Web chat: a Gradio app over the loaded index — ask, read passages with their footnotes,
add documents, and say which passage was the right one.

``qa.web.chat.Chat`` holds the loaded state (index, embedder, documents folder, feedback
file) and does the work without Gradio; ``app`` lays it out as Gradio Blocks; ``launch``
starts it on 127.0.0.1 with analytics off, system fonts only, a bounded queue, and the
page's CSS and JavaScript from ``qa/web/static/``; ``serve`` (``qa serve`` / ``python app.py``)
first builds the index when it is missing or stale. Answers come from ``search``; ``render`` turns them into safe HTML.
Gradio is imported inside functions, so ``import qa.web.ui`` stays cheap.

API endpoints for ``gradio_client``: ``/chat`` (message → reply HTML), ``/search``
(question, k → the ``qa search --json`` object), ``/feedback`` (question,
passage_id, helpful → message) and ``/upload`` (files → message, …).
"""

import os
import sys
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from qa import index as index_mod
from qa import library, output
from qa.embed import TextEmbedder
from qa.errors import IndexLoadError, QAError, one_line
from qa.parse import KINDS
from qa.web import render
from qa.web.chat import DEFAULT_K, UPLOAD_MB, UPLOAD_TYPES, Chat, Serialised, plural, safe_filename

__all__ = ["Chat", "app", "document_route", "documents_html", "launch", "prepare", "safe_filename", "serve",
           "static_text", "theme"]

SLIDER_MAX_K = 20
CONCURRENCY = 4  # searches at once; embedding a question is serialised anyway (see chat.Serialised)
PROGRESS_SECONDS = 1.0  # how often an upload's status line is refreshed while it is indexed


def app(chat: Chat) -> Any:
    """Return the Gradio Blocks of the chat (not launched)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    # Gradio's copies of uploads the chat never handled (posted to /upload alone) go after an hour
    with gr.Blocks(title="qa: ask your documents", analytics_enabled=False, fill_height=True,
                   delete_cache=(3600, 3600)) as demo:
        widgets = _layout(chat)
        _wire_asking(chat, widgets)
        _wire_upload(chat, widgets)
        _api(chat)
        # The library as it is now on every page load (a reload or a new tab after an upload), not as it was
        # when the server started.
        demo.load(lambda: (*_library(chat), _removable(chat)), None,
                  [widgets.doc_list, widgets.docs_filter, widgets.remove_doc], api_visibility="private")
        # and the conversation as it was before the reload (kept in this browser only)
        demo.load(restore, [widgets.saved], [widgets.chatbot, widgets.meta], api_visibility="private")
    return demo


@dataclass(frozen=True)
class _Widgets:
    """The chat page's components that events read or write."""

    meta: Any  # per chat message: the question and passage it shows (for 👍), or None
    k: Any
    docs_filter: Any
    upload: Any
    status: Any
    doc_list: Any
    chatbot: Any
    box: Any
    send: Any
    remove_doc: Any
    remove: Any
    saved: Any  # the conversation in the browser's storage: history, per-message info, answers for export
    helped_id: Any
    helped: Any
    export_md: Any
    export_json: Any


def _layout(chat: Chat) -> _Widgets:
    """Lay out the page (sidebar with settings and documents, the answers, the question box); return its parts."""
    import gradio as gr

    meta = gr.State([])
    with gr.Sidebar(label="Settings and documents", open=True, width=300, elem_id="qa-sidebar"):
        gr.HTML('<div class="qa-brand"><b>qa</b> <span>ask your documents</span></div>'
                '<p class="qa-tagline">Answers are passages from your own documents, with the '
                "footnotes they cite. Everything stays on this computer.</p>")
        k = gr.Slider(1, SLIDER_MAX_K, value=DEFAULT_K, step=1, label="Passages per answer")
        docs_filter = gr.Dropdown(choices=sorted(chat.documents()), value=[], multiselect=True,
                                  label="Only these documents", info="Leave empty to search all of them.",
                                  elem_id="qa-filter")
        upload = gr.UploadButton("+ Add documents", file_types=list(UPLOAD_TYPES),
                                 file_count="multiple", variant="secondary", elem_id="qa-upload")
        gr.HTML(f'<p class="qa-hint">{KINDS}, up to {UPLOAD_MB:g} MB each; saved into your documents '
                f'folder ({render.esc(chat.docs_dir.name)}/) and indexed in the background while you ask.</p>')
        doc_list = gr.HTML(documents_html(chat), elem_id="qa-docs")
        with gr.Accordion("Remove a document", open=False, elem_id="qa-remove-box"):
            remove_doc = gr.Dropdown(choices=sorted(chat.documents()), value=None, show_label=False, allow_custom_value=True,
                                     elem_id="qa-remove-doc", info="Its file is kept in the documents folder's "
                                     ".removed/ (move it back to add it again).")
            remove = gr.Button("Remove", variant="stop", size="sm", elem_id="qa-remove")
    chatbot = gr.Chatbot(
        label="Answers", show_label=False, elem_id="qa-chat", scale=1, min_height=380, height="72vh",
        render_markdown=False, sanitize_html=True, latex_delimiters=[], allow_tags=False,
        group_consecutive_messages=False, feedback_options=("Like", "Dislike"), buttons=[],
        layout="panel", autoscroll=False,
        examples=[{"text": q} for q in chat.example_questions()],
        placeholder="Ask a question about your documents. Each answer is the passages that answer it, "
                    "with their footnotes.",
    )
    # What an upload or a removal is doing, in the main column: seen on a phone too, where the sidebar starts closed.
    status = gr.HTML("", elem_id="qa-status")
    with gr.Row(equal_height=True, elem_id="qa-ask"):
        box = gr.Textbox(placeholder="Ask a question…", show_label=False, lines=1, max_lines=6,
                         scale=8, autofocus=True, elem_id="qa-box", submit_btn=False)
        send = gr.Button("Ask", variant="primary", scale=1, min_width=72, elem_id="qa-send")
    with gr.Row(elem_id="qa-export"):
        export_md = gr.Button("Export conversation (Markdown)", size="sm", variant="secondary", elem_id="qa-export-md",
                              min_width=80)
        export_json = gr.Button("Export as JSON", size="sm", variant="secondary", elem_id="qa-export-json", min_width=80)
    saved = gr.BrowserState(empty_saved(), storage_key="qa-conversation")
    helped_id = gr.Textbox(visible=False)
    helped = gr.Button("helped", elem_id="qa-helped-send", elem_classes=["qa-hidden"])
    return _Widgets(meta=meta, k=k, docs_filter=docs_filter, upload=upload, status=status, doc_list=doc_list,
                    chatbot=chatbot, box=box, send=send, remove_doc=remove_doc, remove=remove, saved=saved,
                    helped_id=helped_id, helped=helped, export_md=export_md, export_json=export_json)


def _wire_asking(chat: Chat, w: _Widgets) -> None:
    """Connect asking (the box, the button, an example) and 👍/👎 on a passage."""
    import gradio as gr

    def respond(message: str, history: list, meta: list, k: float, docs: list[str] | None, saved: Any):
        question = message if isinstance(message, str) else ""
        if not question.strip():  # a blank question posts nothing (no empty bubble, no error to rate)
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        history, meta = list(history or []), list(meta or [])
        history.append({"role": "user", "content": render.question_html(question)})
        meta.append(None)
        yield "", history, meta, gr.skip()
        blocks, answer = chat.reply(question, int(k or DEFAULT_K), docs or None)
        hits = answer.hits if answer else ()
        # one message per answer, so one 👍/👎 per answer; each passage has its own "This one answers it"
        history.append({"role": "assistant", "content": "".join(blocks)})
        meta.append({"question": answer.question, "passage_id": hits[0].paragraph.id,
                     "passages": [h.paragraph.id for h in hits]} if answer and hits else None)
        shown = output.answer_to_json(answer) if answer else {"question": question[:2000], "results": [],
                                                                "error": "no answer (see the chat)"}
        yield "", history, meta, remember(saved, history, meta, shown)

    def on_example(evt: gr.SelectData, history: list, meta: list, k: float, docs: list[str] | None, saved: Any):
        value = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value)
        yield from respond(value, history, meta, k, docs, saved)

    def on_like(evt: gr.LikeData, meta: list) -> None:
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        info = meta[index] if meta and 0 <= index < len(meta) else None
        if not info or not info.get("question"):
            return
        liked = evt.liked is True or evt.liked == "Like"
        if not liked:
            gr.Info("Thanks. If another passage answers the question, give it a 👍: it will be saved as the right one.")
            return
        try:
            row, new = chat.record_feedback(info["question"], info["passage_id"])
        except QAError as exc:
            gr.Warning(str(exc))
            return
        gr.Info(f"Saved as {row['id']}: this passage answers the question." if new else f"Already saved as {row['id']}.")

    def on_helped(passage_id: str, meta: list) -> None:
        """Record the passage the user chose ("This one answers it") for the latest answer that showed it."""
        info = next((m for m in reversed(meta or []) if isinstance(m, dict) and passage_id in m.get("passages", [])), None)
        if not info:
            return
        try:
            row, new = chat.record_feedback(info["question"], passage_id)
        except QAError as exc:
            gr.Warning(str(exc))
            return
        gr.Info(f"Saved as {row['id']}: this passage answers the question." if new else f"Already saved as {row['id']}.")

    ask_inputs = [w.box, w.chatbot, w.meta, w.k, w.docs_filter, w.saved]
    ask_outputs = [w.box, w.chatbot, w.meta, w.saved]
    w.box.submit(respond, ask_inputs, ask_outputs, api_visibility="private")
    w.send.click(respond, ask_inputs, ask_outputs, api_visibility="private")
    w.chatbot.example_select(on_example, [w.chatbot, w.meta, w.k, w.docs_filter, w.saved], ask_outputs,
                             api_visibility="private")
    w.chatbot.like(on_like, [w.meta], None, api_visibility="private")
    # a passage's "This one answers it" (static/chat.js) puts its id in window.qaHelped and clicks this hidden button
    w.helped.click(None, None, [w.helped_id], js="() => window.qaHelped || ''", api_visibility="private").then(
        on_helped, [w.helped_id, w.meta], None, api_visibility="private")
    w.chatbot.clear(lambda: ([], empty_saved()), None, [w.meta, w.saved], api_visibility="private")
    w.export_md.click(None, [w.saved], None, js=EXPORT_MD_JS, api_visibility="private")
    w.export_json.click(None, [w.saved], None, js=EXPORT_JSON_JS, api_visibility="private")


SAVED_ANSWERS = 50  # answers kept in the browser's storage (with their messages); older ones drop off
# Export is done in the browser from what it keeps: nothing is written on the server for it.
EXPORT_JS = """(saved) => {{
  const answers = (saved && saved.answers) || [];
  if (!answers.length) return [];
  const text = {body};
  const link = document.createElement('a');
  link.href = URL.createObjectURL(new Blob([text], {{type: '{mime}'}}));
  link.download = 'qa-conversation.{ext}';
  document.body.appendChild(link); link.click(); link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  return [];
}}"""
EXPORT_MD_JS = EXPORT_JS.format(body="'# qa conversation\\n\\n' + answers.map((a) => a.markdown).join('\\n')",
                                mime="text/markdown", ext="md")
EXPORT_JSON_JS = EXPORT_JS.format(body="JSON.stringify(answers.map((a) => a.json), null, 1) + '\\n'",
                                  mime="application/json", ext="json")


def empty_saved() -> dict[str, list]:
    """Return an empty saved conversation (what the browser keeps across reloads)."""
    return {"history": [], "meta": [], "answers": []}


def remember(saved: Any, history: list, meta: list, answer: dict[str, Any]) -> dict[str, list]:
    """Return the saved conversation with one more answer (its JSON and Markdown); the last ``SAVED_ANSWERS`` kept."""
    earlier = saved.get("answers", []) if isinstance(saved, dict) else []
    answers = [*(a for a in earlier if isinstance(a, dict)), {"json": answer, "markdown": output.answer_markdown(answer)}]
    keep = _last_questions(history, SAVED_ANSWERS)
    return {"history": history[keep:], "meta": meta[keep:], "answers": answers[-SAVED_ANSWERS:]}


def _last_questions(history: list, n: int) -> int:
    """Return where the last ``n`` questions start in a chat history (its user messages)."""
    starts = [i for i, message in enumerate(history) if isinstance(message, dict) and message.get("role") == "user"]
    return starts[-n] if len(starts) > n else 0


def restore(saved: Any) -> tuple[list, list]:
    """Return the chat history and its per-message info as the browser kept them (empty when damaged)."""
    if not isinstance(saved, dict):
        return [], []
    history, meta = saved.get("history"), saved.get("meta")
    if not isinstance(history, list) or not isinstance(meta, list) or len(history) != len(meta):
        return [], []
    ok = all(isinstance(m, dict) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)
             for m in history)
    return (history, meta) if ok else ([], [])


def _wire_upload(chat: Chat, w: _Widgets) -> None:
    """Connect "Add documents": indexed in the background, the status line refreshed while it runs."""
    import gradio as gr

    def on_upload(files: list[Any] | None):
        job = chat.submit([_upload_path(f) for f in files or []], discard=True)  # Gradio's copies: deleted when handled
        while not job.done.wait(PROGRESS_SECONDS):  # indexed in the background; questions go on meanwhile
            seconds = time.monotonic() - job.started
            yield (f'<p class="qa-status qa-busy">{render.esc(job.status)} ({seconds:.0f} s); '
                   "you can keep asking meanwhile</p>", gr.skip(), gr.skip())
        status = "".join(f"<li>{render.esc(line)}</li>" for line in job.lines)
        yield (f'<ul class="qa-status">{status}</ul>', *_library(chat))

    w.upload.upload(on_upload, [w.upload], [w.status, w.doc_list, w.docs_filter], api_name="upload",
                    concurrency_limit=4).then(lambda: _removable(chat), None, [w.remove_doc], api_visibility="private")

    def on_remove(doc: str | None):
        job = chat.remove(doc or "")
        while not job.done.wait(PROGRESS_SECONDS):
            yield f'<p class="qa-status qa-busy">{render.esc(job.status)}</p>', gr.skip(), gr.skip(), gr.skip()
        status = "".join(f"<li>{render.esc(line)}</li>" for line in job.lines)
        yield f'<ul class="qa-status">{status}</ul>', *_library(chat), _removable(chat)

    # a confirmation first: a document is taken out of every answer (its file is kept)
    confirm = ("(doc) => (doc && window.confirm('Remove ' + doc + ' from your documents? Its file is kept in "
               ".removed/.')) ? doc : null")
    w.remove.click(on_remove, [w.remove_doc], [w.status, w.doc_list, w.docs_filter, w.remove_doc],
                   api_name="remove", concurrency_limit=1, js=confirm)


def _library(chat: Chat) -> tuple[str, Any]:
    """Return the document list and the filter's choices as the index has them now."""
    import gradio as gr

    return documents_html(chat), gr.Dropdown(choices=sorted(chat.documents()))


def _removable(chat: Chat) -> Any:
    """Return the "Remove a document" choices as the index has them now (nothing chosen)."""
    import gradio as gr

    return gr.Dropdown(choices=sorted(chat.documents()), value=None)


def _upload_path(file: Any) -> Path:
    """Return where Gradio put an uploaded file (a path, or an object with ``.path`` or ``.name``)."""
    if isinstance(file, (str, os.PathLike)):
        return Path(file)
    return Path(getattr(file, "path", None) or file.name)


def _api(chat: Chat) -> None:
    """Add the API endpoints for ``gradio_client``: /chat, /search, /feedback."""
    import gradio as gr

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


def documents_html(chat: Chat) -> str:
    """Return the list of indexed documents: title (else file name), authors and year, file name, counts; and
    the links to the library's references."""
    rows = []
    for doc, c in sorted(chat.documents().items(), key=lambda item: library.label(*item).casefold()):
        name = library.label(doc, c)
        by = library.byline(c)
        rows.append(f'<li><span class="qa-docname">{render.esc(name)}</span>'
                    + (f'<span class="qa-byline">{render.esc(by)}</span>' if by else "")
                    + (f'<span class="qa-file">{render.esc(doc)}</span>' if name != doc else "")
                    + f'<span class="qa-counts">{plural(c.get("paragraphs", 0), "passage")} · '
                    f'{plural(c.get("footnotes", 0), "footnote")}</span></li>')
    refs = ('<div class="qa-refs">References: <a href="qa/library.bib" download="library.bib">BibTeX</a> · '
            '<a href="qa/library.json" download="library.json">CSL-JSON</a></div>')
    return f'<div class="qa-doclist"><div class="qa-doclist-title">Your documents</div><ul>{"".join(rows)}</ul>{refs}</div>'


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
        if path.suffix.lower() in (".docx", ".odt", ".epub"):  # zip files: downloaded, opened by the reader's app
            return FileResponse(path, media_type="application/octet-stream", headers=headers,
                                filename=path.name, content_disposition_type="attachment")
        return FileResponse(path, media_type="text/plain; charset=utf-8", headers=headers,
                            filename=path.name, content_disposition_type="inline")

    return Route("/qa/doc/{path:path}", endpoint, methods=["GET", "HEAD"])


def library_routes(chat: Chat) -> list[Any]:
    """Return the Starlette routes that serve the library's references: /qa/library.bib and /qa/library.json."""
    from starlette.responses import JSONResponse, PlainTextResponse
    from starlette.routing import Route

    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}

    async def bib(request: Any) -> Any:
        return PlainTextResponse(library.bibtex(chat.documents()), media_type="application/x-bibtex; charset=utf-8",
                                 headers={**headers, "Content-Disposition": 'attachment; filename="library.bib"'})

    async def csl(request: Any) -> Any:
        return JSONResponse(library.csl_json(chat.documents()), media_type="application/vnd.citationstyles.csl+json",
                            headers={**headers, "Content-Disposition": 'attachment; filename="library.json"'})

    return [Route("/qa/library.bib", bib, methods=["GET", "HEAD"]), Route("/qa/library.json", csl, methods=["GET", "HEAD"])]


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """Return the Host header values the chat answers (None: any, when bound to every interface)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    names = {"127.0.0.1", "localhost", "[::1]", f"[{host}]" if ":" in host else host}
    return {f"{name}:{port}" for name in names} | names


def host_check(host: str, port: int) -> Any:
    """Return the middleware refusing requests whose Host header is not this server's (DNS rebinding)."""
    from starlette.middleware import Middleware

    return Middleware(_HostCheck, allowed=allowed_hosts(host, port), url=f"http://{host}:{port}/")


# Gradio believes X-Forwarded-Host (and Forwarded) when it builds the page's own links; a chat behind a
# proxy that sets them says so with QA_TRUST_FORWARDED_HOST=1, otherwise they are dropped.
FORWARDED = (b"x-forwarded-host", b"forwarded")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class _HostCheck:
    """ASGI middleware, the chat's door: a request naming another host is refused with 421 (DNS rebinding);
    one sent by another site's page (an ``Origin``, or for a state-changing request a ``Referer``, that is
    not this chat's own address: uploads, feedback, removals posted by any page the user visits) with 403;
    ``X-Forwarded-Host`` is dropped unless trusted."""

    def __init__(self, app: Any, allowed: set[str] | None, url: str) -> None:
        self.app, self.allowed, self.url = app, allowed, url
        self.trust_forwarded = os.environ.get("QA_TRUST_FORWARDED_HOST", "") == "1"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        host = headers.get(b"host", b"").decode("latin-1").lower()
        refusal = None
        if self.allowed is not None and host not in self.allowed:
            refusal = 421, f"misdirected request: this chat answers at {self.url}"
        elif not same_origin(headers.get(b"origin"), host) or (
                scope.get("method", "GET") not in SAFE_METHODS and not same_origin(headers.get(b"referer"), host)):
            refusal = 403, f"refused: a request from another site's page; use the chat at {self.url}"
        if refusal:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            from starlette.responses import PlainTextResponse

            await PlainTextResponse(refusal[1], status_code=refusal[0])(scope, receive, send)
            return
        if not self.trust_forwarded and any(name in headers for name in FORWARDED):
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k not in FORWARDED]}
        await self.app(scope, receive, send)


def same_origin(source: bytes | None, host: str) -> bool:
    """Return whether an ``Origin`` or ``Referer`` header names this chat's own address (``host``, as the
    request's Host header); no header (a program, not a page) passes. ``null`` (a sandboxed or file page) does not."""
    if source is None:
        return True
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(source.decode("latin-1").strip())
        return parts.scheme in ("http", "https") and parts.netloc.lower() == host
    except ValueError:
        return False


def _own_origin_only() -> None:
    """Make Gradio's CORS answer only this chat's own origin: by default it lets the pages of any other
    ``http://localhost:PORT`` read answers with the user's credentials."""
    from gradio import route_utils

    cors = getattr(route_utils, "CustomCORSMiddleware", None)
    if cors is not None and hasattr(cors, "is_valid_origin"):
        cors.is_valid_origin = lambda self, headers: same_origin(
            headers.get("origin", "").encode("latin-1"), headers.get("host", "").lower())


def _patient_start(seconds: float = 60.0) -> None:
    """Give Gradio's start-up check of its own address a minute: it asks once with a 3 s timeout and, on a busy
    machine (seen at load 20 during a build), stops the chat with 'When localhost is not accessible, a
    shareable link must be created'. Only loopback answers are awaited; nothing is shared."""
    import httpx
    from gradio import networking

    def url_ok(url: str) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if httpx.head(url, timeout=10).status_code in (200, 401, 301, 302, 303, 307, 308):
                    return True
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.5)

    networking.url_ok = url_ok


def static_text(name: str) -> str:
    """Return the text of a file shipped in ``qa/web/static`` (the chat's CSS and JavaScript)."""
    return resources.files("qa.web").joinpath("static", name).read_text(encoding="utf-8")


def launch(chat: Chat, host: str = "127.0.0.1", port: int = 7860, block: bool = True, quiet: bool = True) -> Any:
    """Start the chat on host:port (loopback by default); return the Gradio app. ``quiet``: none of
    Gradio's own start-up lines (its "share=True" hint); ``serve`` prints the address itself."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    demo = app(chat)
    _own_origin_only()
    _patient_start()
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=256)
    demo.launch(
        server_name=host, server_port=port, prevent_thread_lock=not block, share=False, inbrowser=False,
        show_error=False, quiet=quiet, ssr_mode=False, pwa=False, mcp_server=False, enable_monitoring=False,
        # Gradio refuses only far over the limit the chat states; under that, the chat says why itself.
        max_file_size=f"{2 * UPLOAD_MB:g}mb", theme=theme(), css=static_text("chat.css"), js=static_text("chat.js"),
        head='<meta name="referrer" content="no-referrer">', footer_links=["api", "settings"],  # no "Runs" link
        app_kwargs={"routes": [document_route(chat), *library_routes(chat)], "middleware": [host_check(host, port)]},
    )
    return demo


def prepare(docs: Path, index_dir: Path, model: str | None = None, feedback: Path | None = None,
            embedder: TextEmbedder | None = None) -> Chat:
    """Return a ready Chat. The index is built first when it is missing or ``open_index`` refuses it
    (another model, damaged); when documents changed, it answers while updated in the background."""
    from qa.embed import load_embedder, model_name, query_encoder

    docs, index_dir = Path(docs), Path(index_dir)
    try:
        manifest: dict[str, Any] | None = index_mod.read_manifest(index_dir)
    except IndexLoadError:
        manifest = None
    if manifest is None:
        index_mod.document_files(docs)  # no index and no documents: say so before loading a model
    questions: TextEmbedder | None = None
    if embedder is None:
        embedder = load_embedder(model_name(model) if manifest is None else index_mod.model_for(index_dir, model))
        embedder.encode_queries(["warm-up"])  # a torch model makes its ONNX export here: then questions
        questions = query_encoder(embedder.name)  # get their own torch-free encoder (None: they share the model)
    serial = Serialised(embedder, questions)
    reason = "no index yet"
    if manifest is not None:
        try:
            chat = Chat(docs, index_dir, serial, feedback)
        except IndexLoadError as exc:
            reason = f"the index could not be used ({exc})"
        else:
            changes = index_mod.stale(manifest, docs)
            if changes:  # serve the index as it is, bring it up to date in the background
                reason = f"documents changed: {', '.join(changes[:3])}{', …' if len(changes) > 3 else ''}"
                print(one_line(f"qa: updating the index of {docs}/ in the background ({reason}); "
                               "answering from the current one meanwhile"), file=sys.stderr, flush=True)
                chat.refresh(reason)
            return chat
    print(one_line(f"qa: building the index of {docs}/ in {index_dir}/ ({reason})…"), file=sys.stderr, flush=True)
    report = index_mod.build(docs, index_dir, serial, progress=True, log=lambda line: print(
        one_line(f"qa: {line}"), file=sys.stderr, flush=True))
    print(f"qa: indexed {plural(report.documents, 'document')}: {plural(report.paragraphs, 'passage')}, "
          f"{plural(report.footnotes, 'footnote')} in {report.seconds:.1f}s"
          + (f"; {len(report.skipped)} skipped" if report.skipped else ""), file=sys.stderr, flush=True)
    return Chat(docs, index_dir, serial, feedback)


def serve(docs: Path, index_dir: Path, host: str = "127.0.0.1", port: int = 7860, model: str | None = None,
          feedback: Path | None = None) -> None:
    """Build the index if needed, then serve the chat until interrupted (``qa serve``, ``python app.py``)."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    if not port_free(host, port):  # said before the index is loaded or built, not as an "internal error" after
        raise QAError(f"port {port} on {host} is in use (another chat running?); stop it, or choose another port "
                      "with --port or GRADIO_SERVER_PORT")
    chat = prepare(docs, index_dir, model, feedback)
    print(f"qa: chat on http://{host}:{port} ({plural(len(chat.documents()), 'document')}, "
          f"{plural(len(chat.index.paragraphs), 'passage')}); Ctrl+C to stop", file=sys.stderr, flush=True)
    launch(chat, host, port, block=True)


def port_free(host: str, port: int) -> bool:
    """Return True when the chat could listen on host:port now."""
    import socket

    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a just-closed chat's
            probe.bind((host, port))  # port is free, a listening one is not
    except OSError:
        return False
    return True
