"""cli: the ``qa`` command's contract, run in-process with the fake embedder."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, FakeEmbedder, use_fake_model

from qa import cli


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> list:
    """Every ``Embedder(name)`` the CLI makes is the fake one (named as asked); the calls are recorded."""
    calls: list = []

    def factory(name: str | None = None, *args, **kwargs) -> FakeEmbedder:
        calls.append(name)
        fake = FakeEmbedder()
        if name:
            fake.name = name.removesuffix("+torch")  # as Embedder names it: torch's vectors carry no backend
        return fake

    use_fake_model(monkeypatch, factory)
    for var in ("QA_MODEL", "QA_INDEX", "QA_DOCS"):
        monkeypatch.delenv(var, raising=False)
    return calls


@pytest.fixture
def built(small_docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> Path:
    assert cli.main(["build", "--docs", str(small_docs), "--index", str(tmp_path / "idx")]) == 0
    capsys.readouterr()
    return tmp_path / "idx"


def one_line_error(capsys: pytest.CaptureFixture) -> str:
    _, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("qa: error: ")
    return lines[0]


# --- build ---------------------------------------------------------------------------------

def test_build_prints_a_summary_and_writes_the_index(small_docs: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["build", "--docs", str(small_docs), "--index", str(tmp_path / "idx")])
    out, _ = capsys.readouterr()
    assert code == 0
    assert out.startswith("indexed 2 documents (2 parsed, 0 unchanged)")
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"] == "fake-hash-64"
    assert cli.main(["build", "--docs", str(small_docs), "--index", str(tmp_path / "idx")]) == 0
    assert "(0 parsed, 2 unchanged)" in capsys.readouterr().out


def test_build_of_a_missing_docs_folder_fails_before_loading_the_model(
        tmp_path: Path, capsys: pytest.CaptureFixture, fake_model: list) -> None:
    code = cli.main(["build", "--docs", str(tmp_path / "nowhere"), "--index", str(tmp_path / "idx")])
    assert code != 0
    assert str(tmp_path / "nowhere") in one_line_error(capsys)
    assert fake_model == []


def test_build_of_an_empty_docs_folder_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "docs").mkdir()
    assert cli.main(["build", "--docs", str(tmp_path / "docs"), "--index", str(tmp_path / "idx")]) != 0
    assert "no readable documents" in one_line_error(capsys)


# --- search --------------------------------------------------------------------------------

def check_result_shape(result: dict) -> None:
    assert {"rank", "score", "passage_id", "doc", "section", "page", "text", "citations"} <= set(result)
    assert isinstance(result["rank"], int) and isinstance(result["score"], float)
    assert isinstance(result["passage_id"], str) and isinstance(result["doc"], str)
    assert result["section"] is None or isinstance(result["section"], str)
    assert result["page"] is None or isinstance(result["page"], int)
    assert isinstance(result["text"], str) and isinstance(result["citations"], list)
    for c in result["citations"]:
        assert {"marker", "text", "urls"} <= set(c)
        assert isinstance(c["marker"], (int, str)) and not isinstance(c["marker"], bool)
        assert isinstance(c["text"], str)
        assert isinstance(c["urls"], list) and all(isinstance(u, str) for u in c["urls"])


def test_search_json_contract(built: Path, capsys: pytest.CaptureFixture) -> None:
    question = "The harbour of Vellmar was opened in 1911 by the river authority"
    assert cli.main(["search", question, "--json", "--k", "3", "--index", str(built)]) == 0
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert data["question"] == question
    assert len(data["results"]) == 3
    for result in data["results"]:
        check_result_shape(result)
    assert [r["rank"] for r in data["results"]] == [1, 2, 3]
    first = data["results"][0]
    assert (first["passage_id"], first["doc"], first["section"], first["page"]) == (
        "harbours.txt#p2", "harbours.txt", "Introduction", None)
    assert first["text"].startswith("The harbour of Vellmar was opened in 1911 by the river authority.[1]")
    assert first["citations"][0]["marker"] == 1
    assert first["citations"][0]["urls"] == ["https://example.org/report-1911.pdf"]
    assert err == ""


def test_search_text_output(built: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["search", "Apple trees bloom in April", "--index", str(built)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1. notes.md · Orchards")
    assert "[a] Orchard survey, <https://example.org/orchards>." in out


def test_a_bad_question_in_a_batch_is_said_on_its_line_and_the_batch_goes_on(
        built: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": 1, "question": "\\ud800"}\n{"id": 2, "question": "When was the harbour opened?"}\n'
                         '{"id": 3, "question": "x", "k": 2}\n', encoding="utf-8")
    code = cli.main(["search", "--questions", str(questions), "--json", "--index", str(built)])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [row["id"] for row in lines] == [1, 2, 3]
    assert "empty" in lines[0]["error"] and lines[1]["results"]


def test_a_question_with_undecodable_bytes_in_argv_is_answered(built: Path, capsys: pytest.CaptureFixture) -> None:
    question = b"When was the harbour \xe9 of Vellmar opened?".decode("utf-8", "surrogateescape")
    assert cli.main(["search", question, "--json", "--index", str(built)]) == 0
    assert json.loads(capsys.readouterr().out)["results"][0]["passage_id"] == "harbours.txt#p2"


def test_search_batch_prints_one_json_line_per_question(built: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture, fake_model: list) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "q1", "question": "When was the harbour of Vellmar opened?", "type": "fact"}) + "\n"
        + json.dumps({"id": 2, "question": "Apple trees bloom in April"}) + "\n\n"
        + json.dumps({"id": "blank", "question": "   "}) + "\n",
        encoding="utf-8")
    fake_model.clear()
    code = cli.main(["search", "--questions", str(questions), "--json", "--k", "2", "--index", str(built)])
    out, _ = capsys.readouterr()
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert [row["id"] for row in lines] == ["q1", 2, "blank"]
    assert lines[0]["question"] == "When was the harbour of Vellmar opened?"
    for row in lines[:2]:
        assert len(row["results"]) == 2
        for result in row["results"]:
            check_result_shape(result)
    assert lines[1]["results"][0]["passage_id"] == "notes.md#p1"
    assert lines[2]["results"] == [] and "empty" in lines[2]["error"]
    assert len(fake_model) == 1  # the model is loaded once for the whole batch


@pytest.mark.parametrize("content, line", [
    ('{"id": 1, "question": "ok"}\n{"id": 2, "question": \n', 2),
    ('{"id": 1, "question": "ok"}\n\n{"id": 3, "text": "no question"}\n', 3),
    ('["not", "an", "object"]\n', 1),
])
def test_search_batch_with_a_malformed_file_is_one_line_naming_file_and_line(
        built: Path, tmp_path: Path, capsys: pytest.CaptureFixture, content: str, line: int) -> None:
    questions = tmp_path / "bad.jsonl"
    questions.write_text(content, encoding="utf-8")
    code = cli.main(["search", "--questions", str(questions), "--json", "--index", str(built)])
    assert code != 0
    assert f"{questions}:{line}:" in one_line_error(capsys)


def test_search_without_an_index_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = cli.main(["search", "When?", "--json", "--index", str(tmp_path / "missing")])
    assert code != 0
    message = one_line_error(capsys)
    assert str(tmp_path / "missing") in message and "qa build" in message


@pytest.mark.parametrize("args, needle", [
    (["search", "   "], "empty"),
    (["search", ""], "empty"),
    (["search", "When?", "--k", "0"], "k"),
    (["search"], "QUESTION or --questions"),
    (["search", "When?", "--questions", "q.jsonl", "--json"], "QUESTION or --questions"),
    (["search", "--questions", "q.jsonl"], "--json"),
])
def test_search_usage_errors_are_one_line(built: Path, capsys: pytest.CaptureFixture, args: list, needle: str) -> None:
    assert cli.main([*args, "--index", str(built)]) != 0
    assert needle in one_line_error(capsys)


def test_search_warns_when_the_index_is_stale_but_answers(built: Path, small_docs: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    (small_docs / "notes.md").write_text("# Orchards\n\nPlums ripen in August.\n", encoding="utf-8")
    assert cli.main(["search", "harbour", "--json", "--index", str(built)]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["results"]
    assert "stale" in err and "changed notes.md" in err and "qa build" in err


def test_search_with_another_model_is_refused(built: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["search", "harbour", "--model", "other-model", "--index", str(built)]) != 0
    assert "fake-hash-64" in one_line_error(capsys)


# --- parse ---------------------------------------------------------------------------------

def test_parse_json_contract(small_docs: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["parse", str(small_docs / "harbours.txt"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["doc"] == "harbours.txt"
    assert len(data["paragraphs"]) == 4
    for p in data["paragraphs"]:
        assert {"id", "section", "page", "page_end", "page_label", "page_label_end", "text", "footnotes"} <= set(p)
    third = data["paragraphs"][2]
    assert third["id"] == "harbours.txt#p3" and third["footnotes"] == [2]
    assert "regional council. Today" in third["text"]  # the cut paragraph is whole
    assert [n["marker"] for n in data["footnotes"]] == [1, 2, 3]
    for n in data["footnotes"]:
        assert {"marker", "text", "urls", "resolved"} <= set(n)
    assert data["footnotes"][0]["urls"] == ["https://example.org/report-1911.pdf"]
    assert data["footnotes"][1]["resolved"].startswith("River Authority")
    assert data["footnotes"][2]["resolved"] is None
    for n in data["footnotes"]:  # the structured resolution, next to `resolved`
        assert {"kind", "authority", "authority_note", "pin", "references"} <= set(n)
    ibid = data["footnotes"][1]
    assert (ibid["kind"], ibid["authority_note"]) == ("ibid", 1) and ibid["references"][0]["status"] == "resolved"
    assert data["footnotes"][0]["references"] == [] and data["footnotes"][0]["kind"] is None


def test_parse_json_resolves_each_legal_back_reference(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    doc = tmp_path / "brief.md"
    doc.write_text("Text.[^1] More.[^2] End.[^3]\n\n[^1]: United States v. Rahimi, 602 U.S. 680, 690 (2024).\n"
                   "[^2]: Rahimi, 602 U.S. at 709 (Gorsuch, J., concurring).\n[^3]: Id. at 717 (Kavanaugh, J., concurring).\n",
                   encoding="utf-8")
    assert cli.main(["parse", str(doc), "--json"]) == 0
    third = json.loads(capsys.readouterr().out)["footnotes"][2]
    assert (third["kind"], third["authority_note"], third["pin"]) == ("id", 1, "717")
    assert third["authority"] == "United States v. Rahimi, 602 U.S. 680 (2024)"
    assert third["resolved"] == "United States v. Rahimi, 602 U.S. 680, 717 (2024) (Kavanaugh, J., concurring)"
    assert third["references"][0]["opinion"] == "Kavanaugh, J., concurring"


def test_parse_text_output(small_docs: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["parse", str(small_docs / "notes.md")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("notes.md: 2 paragraphs, 1 footnote") and "1 footnotes" not in out
    assert "## Orchards" in out and "[a] Orchard survey" in out


def test_parse_of_several_files_reads_each_and_says_which_failed(small_docs: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "scan.txt").write_bytes(b"\x00\x01" * 100)
    files = [str(small_docs / "notes.md"), str(tmp_path / "scan.txt"), str(small_docs / "harbours.txt")]
    assert cli.main(["parse", *files, "--json"]) == 2
    out, err = capsys.readouterr()
    assert [json.loads(line)["doc"] for line in out.splitlines()] == ["notes.md", "harbours.txt"]
    assert err.count("\n") == 1 and "scan.txt: looks like a binary file" in err
    assert cli.main(["parse", files[0], files[2]]) == 0
    out = capsys.readouterr().out
    assert out.startswith("notes.md: 2 paragraphs") and "\nharbours.txt: 4 paragraphs" in out


def test_parse_of_a_binary_file_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "scan.txt"
    path.write_bytes(b"\x00\x01\x02" * 50)
    assert cli.main(["parse", str(path)]) != 0
    assert "scan.txt" in one_line_error(capsys)


def test_a_file_name_with_a_newline_or_an_escape_stays_one_line(small_docs: Path, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture) -> None:
    # a name is any bytes but "/": "bad\nqa: indexed 99 documents, all fine.txt" printed a second line of the
    # attacker's choosing (and an ESC sequence drives the terminal), in qa parse's error and qa build's log
    bad = small_docs / "bad\nqa: indexed 99 documents, all fine \x1b[2J.txt"
    bad.write_bytes(b"\x00\x01\x02" * 100)
    assert cli.main(["parse", str(bad)]) == 2
    line = one_line_error(capsys)
    assert "bad\\nqa: indexed 99 documents, all fine \\x1b[2J.txt" in line and "\x1b" not in line
    assert cli.main(["build", "--docs", str(small_docs), "--index", str(tmp_path / "idx")]) == 0
    _, err = capsys.readouterr()
    skipped = [line for line in err.splitlines() if "binary" in line]
    assert len(skipped) == 1 and skipped[0].startswith("qa: ") and "all fine \\x1b[2J.txt" in skipped[0]
    assert not any(line.startswith("qa: indexed 99") for line in err.splitlines())


@pytest.mark.parametrize("content", [b"%PDF-1.4\n1 0 obj <<", b"\xab\xfb\xe6 random bytes" * 100])
def test_parse_of_a_corrupt_pdf_is_one_line_without_library_noise(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    # a real process: in-process, pytest's log capture would hide what pypdf logs on stderr
    out = subprocess.run([sys.executable, "-m", "qa", "parse", str(path)], capture_output=True, text=True,
                         cwd=REPO, timeout=120, check=False)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("qa: error: ") and "broken.pdf" in lines[0], out.stderr


# --- eval ----------------------------------------------------------------------------------

def test_eval_prints_the_table(built: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text("\n".join(json.dumps(row) for row in [
        {"id": "h1", "question": "When was the harbour of Vellmar opened?", "type": "fact", "answers": ["opened in 1911"]},
        {"id": "o1", "question": "When do apple trees bloom?", "type": "fact", "answers": ["bloom in April"]},
        {"id": "u1", "question": "What is the capital of Peru?", "type": "unanswerable", "answers": []},
    ]) + "\n", encoding="utf-8")
    out_dir = tmp_path / "out"
    code = cli.main(["eval", "--questions", str(questions), "--k", "5", "--index", str(built), "--out", str(out_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert out.splitlines()[0] == f"wrote {len(list(out_dir.iterdir()))} files to {out_dir}/ (qrels, runs, metrics, eval.png)"
    assert "3 questions" in out
    for name in ("hit@1", "hit@5", "recall@5", "mrr@10", "ndcg@10"):
        assert name in out
    assert all(any(retriever in line for line in out.splitlines()[2:]) for retriever in ("hybrid", "dense", "bm25"))
    assert any(line.startswith("fact") for line in out.splitlines())
    assert (out_dir / "eval.png").is_file() and (out_dir / "run.bm25.trec").is_file()
    assert out.count("unanswerable questions") == 1 and out.count("abstained on") == 1  # one abstention table
    assert [line.split()[0] for line in out.splitlines() if line.startswith("  ")][-3:] == ["hybrid", "dense", "bm25"]


def test_eval_with_a_malformed_question_file_is_one_line(built: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": "a", "question": "Q", "answers": []}\nnot json\n', encoding="utf-8")
    assert cli.main(["eval", "--questions", str(questions), "--index", str(built)]) != 0
    assert f"{questions}:2:" in one_line_error(capsys)


def _harbour_questions(path: Path, doc: str | None) -> Path:
    rows = [{"id": "h1", "question": "When was the harbour of Vellmar opened?", "type": "fact", "answers": ["opened in 1911"]},
            {"id": "u1", "question": "What is the capital of Peru?", "type": "unanswerable", "answers": []}]
    path.write_text("".join(json.dumps({**row, **({"doc": doc} if doc else {})}) + "\n" for row in rows), encoding="utf-8")
    return path


def test_eval_scores_a_named_set_on_its_own_documents_not_on_uploads(small_docs: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch,
                                                                     capsys: pytest.CaptureFixture) -> None:
    """An upload in the documents folder (here notes.md beside the set's harbours.txt) never enters the
    figures of a named set, and the report says which documents and index it scored."""
    from qa import evalset, questions

    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(questions.QUESTION_SETS, "harbours", _harbour_questions(tmp_path / "h.jsonl", None))
    monkeypatch.setitem(evalset.SET_DOCUMENTS, "harbours", (small_docs, ("harbours.txt",)))
    assert cli.main(["eval", "--questions", "harbours", "--json"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["documents"] == ["harbours.txt"] and report["own_documents"] is True
    assert Path(report["index"]).is_relative_to(tmp_path / "cache") and report["warning"] is None
    assert "building the question set's own index" in captured.err
    assert cli.main(["eval", "--questions", "harbours", "--retriever", "hybrid"]) == 0  # reused: not built again
    captured = capsys.readouterr()
    assert "building" not in captured.err
    assert "documents (the question set's own): 1: harbours.txt" in captured.out


def test_eval_with_docs_builds_the_files_the_rows_name(small_docs: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    questions = _harbour_questions(tmp_path / "q.jsonl", "harbours.txt")
    assert cli.main(["eval", "--questions", str(questions), "--docs", str(small_docs), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["documents"] == ["harbours.txt"]


def test_eval_says_loudly_when_the_index_holds_other_documents(built: Path, small_docs: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    questions = _harbour_questions(tmp_path / "q.jsonl", "harbours.txt")
    assert cli.main(["eval", "--questions", str(questions), "--docs", str(small_docs), "--index", str(built)]) == 0
    captured = capsys.readouterr()
    assert "WARNING: the index holds other documents than the question set's: 1 not in the question set's (notes.md)" \
        in captured.out
    assert "qa: warning: the index holds other documents" in captured.err


def test_eval_of_a_file_naming_no_documents_says_which_index_it_scored(built: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("QA_INDEX", str(built))
    questions = _harbour_questions(tmp_path / "q.jsonl", None)
    assert cli.main(["eval", "--questions", str(questions), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["index"] == str(built) and report["own_documents"] is False
    assert report["warning"].startswith(f"the question set names no documents, so {built}/ is scored as it is (2 documents")


def test_eval_of_a_set_whose_documents_are_missing_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture) -> None:
    from qa import evalset, questions

    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(questions.QUESTION_SETS, "harbours", _harbour_questions(tmp_path / "h.jsonl", None))
    monkeypatch.setitem(evalset.SET_DOCUMENTS, "harbours", (tmp_path, ("gone.txt",)))
    assert cli.main(["eval", "--questions", "harbours"]) == 2
    assert "gone.txt: a document of the question set is missing" in one_line_error(capsys)


# --- startup -------------------------------------------------------------------------------

def test_help_starts_without_importing_heavy_libraries(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "qa", "--help"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "build" in proc.stdout and "search" in proc.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "qa" in imported  # the import log is really there
    assert not imported & {"torch", "sentence_transformers", "transformers", "gradio", "faiss", "bm25s", "numpy"}


def test_a_huge_question_in_a_batch_is_not_echoed_whole(built: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": 1, "question": "harbour " * 125_000}) + "\n"  # 1 MB
                         '{"id": 2, "question": "When was the harbour opened?"}\n', encoding="utf-8")
    assert cli.main(["search", "--questions", str(questions), "--json", "--index", str(built)]) == 0
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines()]
    assert "too long" in lines[0]["error"] and lines[1]["results"]
    assert len(out.splitlines()[0]) < 5_000  # the question's head, not its megabyte


@pytest.mark.parametrize("error", [OSError("19200 requested and 4064 written"),  # numpy on a full disk
                                   RuntimeError("Error in faiss::write_index: write error in idx/vectors.faiss")])
def test_a_full_disk_during_build_is_one_line_and_the_old_index_stays(
        built: Path, small_docs: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch,
        error: Exception) -> None:
    from qa import index

    generation = index.read_manifest(built)["generation"]
    (small_docs / "more.txt").write_text("Ferries cross the bay twice a day.\n", encoding="utf-8")

    def disk_full(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr("qa.vectors.save", disk_full)
    monkeypatch.setattr("numpy.save", disk_full)
    assert cli.main(["build", "--docs", str(small_docs), "--index", str(built)]) == 2
    assert "could not write the index" in one_line_error(capsys)
    assert index.read_manifest(built)["generation"] == generation


def test_a_documents_escape_sequences_never_reach_the_terminal(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # a web page's "&#27;]0;title&#7;" or a text file's raw ESC went through qa parse and qa search's text output
    # to the terminal as it was: a hostile document could retitle, clear or (OSC 52) fill the clipboard
    page = tmp_path / "esc.html"
    page.write_text("<p>Treaty text &#27;[2J and &#27;]52;c;cHduZWQ=&#7; after it.</p>", encoding="utf-8")
    assert cli.main(["parse", str(page)]) == 0
    out, _ = capsys.readouterr()
    assert "\x1b" not in out and "\x07" not in out
    assert "Treaty text \\x1b[2J and \\x1b]52;c;cHduZWQ=\\x07 after it." in out
