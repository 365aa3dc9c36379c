"""A search limited to documents: the filter is inside each retriever's search, before the top k.

The corpus is made so that the bug it guards against would show: 64 documents, over 500 chunks,
and 30 "crowd" documents whose passages all echo the question, so that the chunks nearest to it
(more than ``pool_depth``) all come from the crowd. Every other document holds its own answer,
less close to the question; limited to that document, every way in (``search``, ``qa search
--doc``, a ``--questions`` line's ``"docs"``, the chat) must find it, and not abstain.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder, use_fake_model

from qa import cli, index
from qa.errors import InputError
from qa.search import DEFAULT, RETRIEVERS, search
from qa.web.chat import Chat

QUESTION = "Which harbour ships grain and timber north to the coastal cities?"
CROWD = 30
DOCS = 64
TOWNS = ["Vellmar", "Oster", "Brannock", "Quillan", "Dunmore", "Halvik", "Marrow", "Tessel"]
FILLER = ["The choir rehearses on Thursdays in the old chapel above the square.",
          "Its library lends maps, almanacs and bound newspapers to every household.",
          "A festival of lanterns closes the autumn fair each October.",
          "The mayor is elected every four years by the parish councils.",
          "Sheep graze on the common land west of the old mill.",
          "Children learn to swim in the lake behind the school.",
          "Bakers sell rye bread and honey cakes on market days."]


def name(i: int) -> str:
    return f"town-{i:02d}.txt"


def answer_text(i: int) -> str:
    return f"Grain and timber from {TOWNS[i % 8]}{i} leave the harbour for the coastal cities each spring."


def write_corpus(docs: Path) -> None:
    docs.mkdir()
    for i in range(DOCS):
        town = f"{TOWNS[i % 8]}{i}"
        if i < CROWD:  # every passage close to the question: these fill the nearest chunks
            paragraphs = [f"The harbour of {town} ships grain and timber north to the coastal cities in "
                          f"{month}, with crews of {10 + n} sailors." for n, month in enumerate(
                              ["March", "April", "May", "June", "July", "August", "September", "October"])]
        else:  # one answer among passages about other things
            paragraphs = [*FILLER[: 3 + i % 5], answer_text(i), *FILLER[3 + i % 5:]]
        body = "\n\n".join(paragraphs)
        (docs / name(i)).write_text(f"Notes on {town}\n\nLife in {town}\n\n{body}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("filter")
    write_corpus(root / "docs")
    index.build(root / "docs", root / "idx", FakeEmbedder(), log=lambda line: None)
    return root / "docs", root / "idx"


@pytest.fixture(scope="module")
def idx(corpus: tuple[Path, Path]) -> index.Index:
    return index.load(corpus[1])


def answer_id(idx: index.Index, i: int) -> str:
    return next(p.id for p in idx.paragraphs if p.doc == name(i) and p.text == answer_text(i))


def test_the_corpus_is_one_an_after_the_cut_filter_would_fail_on(idx: index.Index) -> None:
    assert len(idx.manifest["documents"]) == DOCS >= 60 and len(idx.chunks) >= 500
    vectors = FakeEmbedder().encode([c.text for c in idx.chunks])
    query = FakeEmbedder().encode([QUESTION])[0]
    nearest = np.argsort(-(vectors @ query), kind="stable")[:DEFAULT.pool_depth]
    docs_in_pool = {idx.paragraphs[idx.chunk_paragraph[row]].doc for row in nearest}
    assert docs_in_pool <= {name(i) for i in range(CROWD)}  # no answer document among the nearest chunks
    for i in range(CROWD, DOCS):  # and each answer is close enough not to abstain
        assert float(FakeEmbedder().encode([answer_text(i)])[0] @ query) >= DEFAULT.abstain_below


def check(answer: dict | object, i: int, idx: index.Index, retriever: str = "hybrid") -> None:
    """Every hit is of document i; an answer document's answer comes first and nothing abstains."""
    if not isinstance(answer, dict):
        from qa.output import answer_to_json
        answer = answer_to_json(answer)
    assert "error" not in answer, answer
    results = answer["results"]
    assert results, f"{name(i)}: no passage"
    assert {r["doc"] for r in results} == {name(i)}
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    assert answer.get("docs") == [name(i)]
    if retriever != "bm25":
        assert not answer["abstained"], f"{name(i)}: abstained"
        assert len(results) == 5  # every passage of the document is a candidate
    if i >= CROWD and retriever == "bm25":  # the fake model's word neighbours are noise: present is enough
        assert answer_id(idx, i) in {r["passage_id"] for r in results}, f"{name(i)}: answer missing"
    elif i >= CROWD:
        assert results[0]["passage_id"] == answer_id(idx, i), f"{name(i)}: answer not first"


@pytest.mark.parametrize("retriever", RETRIEVERS)
def test_a_search_limited_to_any_one_document_finds_that_documents_answer(idx: index.Index,
                                                                          retriever: str) -> None:
    for i in range(DOCS):
        check(search(idx, FakeEmbedder(), QUESTION, 5, retriever, docs={name(i)}), i, idx, retriever)


def test_a_search_limited_to_two_documents_ranks_both(idx: index.Index) -> None:
    answer = search(idx, FakeEmbedder(), QUESTION, 10, "dense", docs=[name(0), name(DOCS - 1)])
    assert {h.paragraph.doc for h in answer.hits} == {name(0), name(DOCS - 1)}
    assert answer_id(idx, DOCS - 1) in {h.paragraph.id for h in answer.hits}


def test_an_unknown_document_in_the_filter_is_refused_with_its_name(idx: index.Index) -> None:
    with pytest.raises(InputError, match=r"no document 'nowhere\.txt' in the index"):
        search(idx, FakeEmbedder(), QUESTION, 5, docs={"nowhere.txt", name(0)})
    with pytest.raises(InputError, match="list of document names"):
        search(idx, FakeEmbedder(), QUESTION, 5, docs="town-00.txt")  # type: ignore[arg-type]


def test_an_empty_filter_searches_everything(idx: index.Index) -> None:
    assert search(idx, FakeEmbedder(), QUESTION, 5, docs=[]) == search(idx, FakeEmbedder(), QUESTION, 5)


@pytest.fixture
def fake_cli_model(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_model(monkeypatch, lambda *args, **kwargs: FakeEmbedder())
    monkeypatch.delenv("QA_MODEL", raising=False)


def test_qa_search_doc_limits_the_search(corpus: tuple[Path, Path], idx: index.Index, fake_cli_model: None,
                                         capsys: pytest.CaptureFixture) -> None:
    for i in range(DOCS):
        assert cli.main(["search", QUESTION, "--json", "--index", str(corpus[1]), "--doc", name(i)]) == 0
        check(json.loads(capsys.readouterr().out), i, idx)
    assert cli.main(["search", QUESTION, "--json", "--k", "10", "--index", str(corpus[1]),
                     "--doc", name(0), "--doc", name(DOCS - 1)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["doc"] for r in out["results"]} == {name(0), name(DOCS - 1)} and out["docs"] == [name(0), name(DOCS - 1)]
    assert cli.main(["search", QUESTION, "--index", str(corpus[1]), "--doc", "nowhere.txt"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no document 'nowhere.txt'" in err[0]


def test_qa_search_questions_takes_docs_per_line(corpus: tuple[Path, Path], idx: index.Index, fake_cli_model: None,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    lines = [{"id": i, "question": QUESTION, "docs": [name(i)]} for i in range(DOCS)]
    lines += [{"id": "all", "question": QUESTION}, {"id": "bad", "question": QUESTION, "docs": ["nowhere.txt"]}]
    path = tmp_path / "q.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    assert cli.main(["search", "--questions", str(path), "--json", "--index", str(corpus[1])]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for i in range(DOCS):
        assert out[i]["id"] == i
        check(out[i], i, idx)
    assert "docs" not in out[DOCS] and {r["doc"] for r in out[DOCS]["results"]} < {name(i) for i in range(CROWD)}
    assert "no document 'nowhere.txt'" in out[DOCS + 1]["error"]
    # --doc applies to the lines without their own "docs"
    assert cli.main(["search", "--questions", str(path), "--json", "--index", str(corpus[1]), "--doc", name(40)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    check(out[DOCS], 40, idx)
    check(out[3], 3, idx)


@pytest.mark.parametrize("docs", ['"town-00.txt"', "[1, 2]", '{"a": 1}'])
def test_a_questions_line_with_bad_docs_is_one_line_naming_the_line(corpus: tuple[Path, Path], tmp_path: Path,
                                                                    fake_cli_model: None, docs: str,
                                                                    capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(f'{{"id": 1, "question": "q"}}\n{{"id": 2, "question": "q", "docs": {docs}}}\n', encoding="utf-8")
    assert cli.main(["search", "--questions", str(path), "--json", "--index", str(corpus[1])]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{path}:2:" in err[0] and '"docs"' in err[0]


def test_the_chats_document_filter_is_the_same_search(corpus: tuple[Path, Path], idx: index.Index,
                                                      tmp_path: Path) -> None:
    chat = Chat(corpus[0], corpus[1], FakeEmbedder(), feedback=tmp_path / "feedback.jsonl")
    for i in range(DOCS):
        check(chat.ask(QUESTION, 5, [name(i)]), i, idx)
        blocks, answer = chat.reply(QUESTION, 5, [name(i)])
        assert answer and answer.hits and {h.paragraph.doc for h in answer.hits} == {name(i)}
        assert not any("Not found" in b for b in blocks)
