"""The web chat in a real headless browser (Debian's chromium driven by Playwright).

Ask a question on the shipped corpus, see the passage, its highlight and a footnote
link that works, copy it, give it a 👍 and find it in the feedback file; save the
screenshot the README shows (docs/screenshot.png). Then upload a hostile document
through the page and check that its payload shows as text: no dialog opens and no
request leaves 127.0.0.1. Also at phone width in dark mode. The fake embedder keeps
it fast; retrieval quality is tested elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from conftest import CORPUS, FakeEmbedder, _guarded_connect

from qa.web import ui

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
QUESTION = "What did the EU declare in January 2024 after the EU-Japan summit of July 13, 2023?"
HOSTILE = (
    "# Trapdoor\n\n"
    "The trapdoor manual says <script>alert('xss')</script> and <img src=x onerror=alert(2)> "
    "and [click me](javascript:alert(3)) and ![pixel](http://evil.example/pixel.png) here.[^1]\n\n"
    "[^1]: Trapdoor source <img src=http://evil.example/n.png onerror=alert(5)>, <http://evil.example/note>.\n"
)
WAIT = 30_000  # ms, an upper bound for any one step


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium); CI runs this test")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("browser")
    docs = work / "docs"
    docs.mkdir()
    shutil.copy(CORPUS, docs / CORPUS.name)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", _guarded_connect)
        chat = ui.prepare(docs, work / "index", feedback=work / "feedback.jsonl", embedder=FakeEmbedder())
        demo = ui.launch(chat, port=_free_port(), block=False, quiet=True)
    yield chat, demo.local_url.rstrip("/"), work
    demo.close()


class Watch:
    """Records dialogs and every request; requests leaving 127.0.0.1 are also blocked."""

    def __init__(self, page) -> None:
        self.dialogs: list[str] = []
        self.outside: list[str] = []
        page.on("dialog", self._dialog)
        page.on("request", self._request)
        page.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _request(self, request) -> None:
        if not _local(request.url):
            self.outside.append(request.url)

    @staticmethod
    def _route(route) -> None:
        if _local(route.request.url):
            route.continue_()
        else:
            route.abort()


def _local(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("data", "blob", "about") or parsed.hostname == "127.0.0.1"


def _ask(page, question: str) -> None:
    page.fill("#qa-box textarea", question)
    page.keyboard.press("Enter")


def test_question_shows_passage_with_working_footnotes(browser, served):
    chat, url, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 860}, color_scheme="light",
                                  permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    watch = Watch(page)
    page.goto(url + "/?__theme=light")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    assert page.locator("#qa-chat button.example").count() >= 1  # example questions on the empty chat
    _ask(page, QUESTION)
    top = page.locator(".qa-top").last
    top.wait_for(timeout=WAIT)
    assert "In January 2024, the EU declared" in top.inner_text()
    assert top.locator("mark").count() == 1 and top.locator("mark").inner_text().strip()
    assert page.locator("details.qa-passage").count() >= 2
    page.wait_for_timeout(600)  # the smooth scroll to the new answer
    # docs/screenshot.png (the README's) is taken from the real model; this one is the test's record
    page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "qa-answer.png"))

    ref = top.locator(".qa-ref a").first
    href = ref.get_attribute("href")
    assert href and href.startswith("#")
    note = page.locator(f"li[id='{href[1:]}']")
    assert note.count() == 1 and note.inner_text().startswith("[")
    ref.click()
    page.wait_for_function("id => { const r = document.getElementById(id).getBoundingClientRect();"
                           " return r.top >= 0 && r.bottom <= window.innerHeight; }", arg=href[1:], timeout=WAIT)
    links = top.locator(".qa-notes a.qa-url")
    assert any("japantimes.co.jp" in links.nth(n).get_attribute("href") for n in range(links.count()))
    for n in range(links.count()):
        link = links.nth(n)
        assert link.get_attribute("href").startswith(("http://", "https://"))
        assert link.get_attribute("target") == "_blank" and "noopener" in link.get_attribute("rel")

    top.locator(".qa-copy").click()
    page.wait_for_function("() => document.querySelector('.qa-top .qa-copy').textContent.includes('Copied')",
                           timeout=WAIT)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "January 2024" in copied and "\n[" in copied
    assert "— Ambitions and Limits: The Deepening Security Dialogue" in copied  # the title, not the file name

    second = page.locator("details.qa-passage").first
    second.locator("summary").click()
    assert second.get_attribute("open") is not None and second.locator(".qa-text").is_visible()

    assert page.locator('button[aria-label="Like"]').count() == 1  # one 👍/👎 per answer, not per passage
    row = page.locator(".message-row", has=page.locator(".qa-top")).last
    like = row.locator('button[aria-label="Like"]')
    if like.count() == 0:  # the buttons sit next to the message row in some Gradio versions
        like = page.locator(".qa-top").last.locator(
            "xpath=ancestor::div[contains(@class,'message-row')]/following-sibling::*[1]").locator(
            'button[aria-label="Like"]')
    like.first.click()
    deadline = time.monotonic() + 60  # a busy machine answers slowly
    while not chat.feedback_path.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = [json.loads(line) for line in chat.feedback_path.read_text(encoding="utf-8").splitlines()]
    top_id = chat.search_json(QUESTION, 1)["results"][0]["passage_id"]
    assert [(r["question"], r["passage_id"], r["type"]) for r in rows] == [(QUESTION, top_id, "feedback")]

    second_id = chat.search_json(QUESTION, 2)["results"][1]["passage_id"]
    second.locator(".qa-helped").click()  # "This one answers it" on the second passage
    deadline = time.monotonic() + 60  # a busy machine answers slowly
    while len(chat.feedback_path.read_text(encoding="utf-8").splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    rows = [json.loads(line) for line in chat.feedback_path.read_text(encoding="utf-8").splitlines()]
    assert [(r["question"], r["passage_id"]) for r in rows] == [(QUESTION, top_id), (QUESTION, second_id)]

    assert watch.dialogs == [] and watch.outside == []
    context.close()


def test_hostile_upload_shows_as_text_and_nothing_leaves(browser, served, tmp_path):
    _, url, work = served
    hostile = tmp_path / "trapdoor.md"
    hostile.write_text(HOSTILE, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    watch = Watch(page)
    page.goto(url + "/")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    with page.expect_file_chooser(timeout=WAIT) as chooser:
        page.locator("#qa-upload").click()
    chooser.value.set_files(str(hostile))
    page.locator("#qa-status", has_text="trapdoor.md: added").wait_for(timeout=WAIT)
    assert page.locator("#qa-docs", has_text="trapdoor.md").count() == 1
    assert (work / "docs" / "trapdoor.md").is_file()

    _ask(page, "What does the trapdoor manual say?")
    passage = page.locator(".qa-passage", has_text="trapdoor manual").last
    passage.wait_for(timeout=WAIT)
    if passage.evaluate("e => e.tagName") == "DETAILS":
        passage.locator("summary").click()
    text = passage.locator(".qa-text").inner_text()
    assert "<script>alert('xss')</script>" in text and "<img src=x onerror=alert(2)>" in text
    assert "![pixel](http://evil.example/pixel.png)" in text
    notes = passage.locator(".qa-notes").inner_text()
    assert "<img src=http://evil.example/n.png onerror=alert(5)>" in notes
    assert page.locator("#qa-chat img").count() == 0
    assert page.locator("#qa-chat script").count() == 0
    assert page.locator("#qa-chat a[href^='javascript']").count() == 0
    page.wait_for_timeout(500)  # give any injected handler a chance to fire
    assert watch.dialogs == [] and watch.outside == []
    page.close()


def test_a_reload_lists_documents_added_since_and_a_blank_question_posts_nothing(browser, served, tmp_path):
    chat, url, _ = served
    added = tmp_path / "lighthouses.md"
    added.write_text("# Lighthouses\n\nThe lighthouse of Skagen was lit in 1858.\n", encoding="utf-8")
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(url + "/")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    job = chat.submit([added])  # added after this page was served (as from another tab)
    assert job.done.wait(WAIT / 1000)
    page.reload()
    page.locator("#qa-docs", has_text="lighthouses.md").wait_for(timeout=WAIT)
    page.locator("#qa-filter input").click()
    page.get_by_role("option", name="lighthouses.md").wait_for(timeout=WAIT)
    page.keyboard.press("Escape")

    page.locator("#qa-remove-box").get_by_text("Remove a document").click()  # remove it again, confirming
    page.locator("#qa-remove-doc input").click()
    page.locator("#qa-remove-doc").get_by_role("option", name="lighthouses.md").click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#qa-remove").click()
    page.locator("#qa-status", has_text="lighthouses.md: removed from your documents").wait_for(timeout=WAIT)
    assert page.locator("#qa-docs", has_text="lighthouses.md").count() == 0
    assert "lighthouses.md" not in chat.documents()

    bubbles = page.locator("#qa-chat .message-row").count()
    page.fill("#qa-box textarea", "   ")
    page.keyboard.press("Enter")
    page.locator("#qa-send").click()
    page.wait_for_timeout(1500)
    assert page.locator("#qa-chat .message-row").count() == bubbles
    assert page.locator("#qa-chat .qa-question").count() == 0
    page.close()


def test_the_conversation_survives_a_reload_and_exports_with_its_footnotes(browser, served):
    _, url, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 860}, accept_downloads=True)
    page = context.new_page()
    watch = Watch(page)
    page.goto(url + "/")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    _ask(page, QUESTION)
    page.locator(".qa-top").last.wait_for(timeout=WAIT)
    page.wait_for_timeout(1000)  # the browser writes what it keeps
    page.reload()
    page.locator(".qa-top", has_text="In January 2024, the EU declared").last.wait_for(timeout=WAIT)
    assert page.locator("#qa-chat .qa-question").count() == 1

    with page.expect_download(timeout=WAIT) as download:
        page.locator("#qa-export-md").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert markdown.startswith("# qa conversation") and f"## {QUESTION}" in markdown
    assert "In January 2024, the EU declared" in markdown and CORPUS.name in markdown
    assert "japantimes.co.jp" in markdown  # the footnotes come along, with their links
    with page.expect_download(timeout=WAIT) as download:
        page.locator("#qa-export-json").click()
    answers = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert [a["question"] for a in answers] == [QUESTION] and answers[0]["results"][0]["citations"]
    assert watch.outside == []
    context.close()


def _pdf_of(tmp_path: Path, name: str, text: str) -> Path:
    import pdfmaker

    from qa.parse import parse_file

    source = tmp_path / f"{name}.txt"
    source.write_text(text, encoding="utf-8")
    return pdfmaker.fpdf_pdf(parse_file(source), tmp_path / f"{name}.pdf")


def test_a_researchers_day_upload_two_pdfs_reload_filter_remove_export(browser, served, tmp_path):
    """The issue's walk through the library: upload two PDFs, reload, ask within one of them, remove the other,
    export the conversation with its footnotes."""
    chat, url, work = served
    filler = ("The survey walked the whole coast from north to south over three summers, counting every "
              "structure that the sea and the wind have shaped, and what each of them costs to keep. ") * 3
    canals = _pdf_of(tmp_path, "canals", f"Canal Report\n\nIntroduction\n\n{filler}\n\nLocks\n\nThe lock of Brede "
                     "lifts barges four metres since 1902.¹\n\n¹ Waterways board, <https://example.org/brede-lock>.\n")
    dunes = _pdf_of(tmp_path, "dunes", f"Dune Report\n\nIntroduction\n\n{filler}\n\nLocks\n\nThe dune lock of "
                    "Harboøre keeps the sand back since 1911.¹\n\n¹ Coastal office, <https://example.org/harboore>.\n")
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    page = context.new_page()
    watch = Watch(page)
    page.goto(url + "/")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    with page.expect_file_chooser(timeout=WAIT) as chooser:
        page.locator("#qa-upload").click()
    chooser.value.set_files([str(canals), str(dunes)])
    page.locator("#qa-status", has_text="dunes.pdf: added").wait_for(timeout=WAIT * 2)
    page.reload()
    page.locator("#qa-docs", has_text="Canal Report").wait_for(timeout=WAIT)
    assert page.locator("#qa-docs", has_text="Dune Report").count() == 1

    page.locator("#qa-filter input").click()  # ask within the canal report only
    page.locator("#qa-filter").get_by_role("option", name="canals.pdf").click()
    page.keyboard.press("Escape")
    _ask(page, "Which lock keeps the sand back?")  # the dune report's words: yet only the canal report may answer
    page.locator("#qa-chat .qa-passage").last.wait_for(timeout=WAIT)
    page.wait_for_timeout(500)
    assert page.locator(".qa-passage .qa-doc", has_text="Dune Report").count() == 0
    assert page.locator(".qa-passage .qa-doc", has_text="Canal Report").count() >= 1

    page.locator("#qa-remove-box").get_by_text("Remove a document").click()
    page.locator("#qa-remove-doc input").click()
    page.locator("#qa-remove-doc").get_by_role("option", name="dunes.pdf").click()
    page.remove_listener("dialog", watch._dialog)  # this confirmation is the user's to accept
    page.once("dialog", lambda dialog: dialog.accept())
    page.locator("#qa-remove").click()
    page.wait_for_function("() => /dunes\\.pdf: |no document/.test(document.querySelector('#qa-status').textContent)",
                           timeout=WAIT * 2)
    assert "dunes.pdf: removed" in page.locator("#qa-status").inner_text(), page.locator("#qa-status").inner_text()
    assert "dunes.pdf" not in chat.documents() and (work / "docs" / ".removed" / "dunes.pdf").is_file()

    with page.expect_download(timeout=WAIT) as download:
        page.locator("#qa-export-md").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert "## Which lock keeps the sand back?" in markdown
    assert "lifts barges four metres" in markdown and "https://example.org/brede-lock" in markdown
    page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "qa-library-day.png"))
    assert watch.outside == []
    context.close()


def test_phone_width_dark_mode(browser, served):
    _, url, _ = served
    page = browser.new_page(viewport={"width": 390, "height": 844}, color_scheme="dark", is_mobile=True)
    watch = Watch(page)
    page.goto(url + "/?__theme=dark")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    _ask(page, QUESTION)
    top = page.locator(".qa-top").last
    top.wait_for(timeout=WAIT)
    page.wait_for_timeout(600)
    assert top.is_visible() and "January 2024" in top.inner_text()
    box = top.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 392  # no sideways scrolling
    assert page.evaluate("document.body.classList.contains('dark') || "
                         "!!document.querySelector('.gradio-container.dark, .dark')")
    page.screenshot(path=str(Path(os.environ.get("TMPDIR", "/tmp")) / "qa-phone-dark.png"))
    assert watch.dialogs == [] and watch.outside == []
    page.close()


def test_upload_progress_shows_in_the_main_column_on_a_phone(browser, served, tmp_path):
    _, url, _ = served
    added = tmp_path / "piers.md"
    added.write_text("# Piers\n\nThe pier of Aalborg was built in 1933.\n", encoding="utf-8")
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    page.goto(url + "/")
    page.wait_for_selector("#qa-box textarea", timeout=WAIT)
    page.wait_for_timeout(1500)  # the sidebar closes itself at phone width
    page.locator("#qa-sidebar .toggle-button").click()  # open it to add a document
    with page.expect_file_chooser(timeout=WAIT) as chooser:
        page.locator("#qa-upload").click()
    chooser.value.set_files(str(added))
    page.locator("#qa-sidebar .toggle-button").click()  # and close it again, as on a phone
    status = page.locator("#qa-status", has_text="piers.md: added")
    status.wait_for(timeout=WAIT)
    page.wait_for_timeout(500)
    assert status.is_visible()
    box = status.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert page.evaluate("(e) => !e.closest('#qa-sidebar')", status.element_handle())  # not inside the sidebar
    page.close()
