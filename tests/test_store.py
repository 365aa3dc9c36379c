"""store: every vector store keeps the same contract — add and delete by document, search with the
document filter inside, count, describe — and an index built into it answers like the FAISS one.

The Milvus cases run on milvus-lite (``pip install 'qa[milvus]'``) and are skipped, saying so,
when it is not installed."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder

from qa import index, store
from qa.errors import QAError
from qa.search import RETRIEVERS, search

HAVE_MILVUS = importlib.util.find_spec("pymilvus") is not None and importlib.util.find_spec("milvus_lite") is not None
HAVE_SERVER = HAVE_MILVUS and importlib.util.find_spec("milvus") is not None
needs_milvus = pytest.mark.skipif(not HAVE_MILVUS, reason="pymilvus/milvus-lite not installed: pip install 'qa[milvus]'")
needs_server = pytest.mark.skipif(not HAVE_SERVER, reason="the Milvus server package is not installed: "
                                                          "pip install 'qa[milvus,milvus-server]'")
STORES = ["faiss", pytest.param("milvus", marks=[needs_milvus, pytest.mark.slow]),
          pytest.param("server", marks=[needs_server, pytest.mark.slow])]


@pytest.fixture(scope="module")
def milvus_server(tmp_path_factory: pytest.TempPathFactory):
    """A real Milvus standalone server (the ``milvus`` package's, on loopback), started for this
    module and stopped after it; yields its ``milvus://`` address."""
    import socket

    from milvus import default_server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    default_server.set_base_dir(str(tmp_path_factory.mktemp("milvus-server")))
    default_server.listen_port = port
    default_server.start()
    try:
        yield f"milvus://127.0.0.1:{port}"
    finally:
        default_server.stop()


@pytest.fixture
def store_spec(request: pytest.FixtureRequest, tmp_path: Path):
    """Return the ``--store`` value of a parametrized store kind."""
    def spec(kind: str) -> str:
        if kind == "server":
            return request.getfixturevalue("milvus_server")
        return "faiss" if kind == "faiss" else f"milvus:{tmp_path / 'vectors.db'}"
    return spec


def unit(n: int, dim: int = 16, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_store_specs_are_parsed_or_refused_in_one_line(tmp_path: Path) -> None:
    assert store.parse_spec("faiss") == {"kind": "faiss"}
    assert store.parse_spec(f"milvus:{tmp_path}/v.db") == {"kind": "milvus", "uri": str(tmp_path / "v.db")}
    assert store.parse_spec("milvus://db.example:19530") == {"kind": "milvus", "uri": "http://db.example:19530"}
    assert store.parse_spec("milvus+https://db.example:443") == {"kind": "milvus", "uri": "https://db.example:443"}
    for bad, needle in [("milvus:vectors", "ending in .db"), ("chroma", "unknown store 'chroma'"),
                        (f"milvus:{tmp_path}/my vectors.db", "at most 36 letters"), ("milvus:" + "v" * 40 + ".db", "at most 36")]:
        with pytest.raises(QAError, match=needle):
            store.parse_spec(bad)


@pytest.mark.parametrize("kind", STORES)
def test_a_store_adds_deletes_and_searches_by_document(kind: str, tmp_path: Path, store_spec) -> None:
    x = unit(300, seed=1)
    docs = {f"doc {d}.txt": [f"doc {d}.txt#p{i}" for i in range(30)] for d in range(10)}
    vector_store, holds_last = store.for_build(store.parse_spec(store_spec(kind)), tmp_path / "idx",
                                               tmp_path, None, 16, 300)
    assert not holds_last
    row = 0
    for doc, ids in docs.items():
        vector_store.add(doc, ids, x[row:row + len(ids)])
        row += len(ids)
    vector_store.delete("doc 3.txt")
    record = vector_store.commit()
    assert record["kind"] == ("faiss" if kind == "faiss" else "milvus") and "index_type" in record and vector_store.count() == 270
    assert json.loads(json.dumps(record)) == record == vector_store.describe()
    all_ids = [i for ids in docs.values() for i in ids]
    ids, sims = vector_store.search(x[5], 10)
    assert ids[0] == all_ids[5] and sims[0] == pytest.approx(1.0, abs=1e-5)
    assert list(sims) == sorted(sims, reverse=True)
    exact = np.argsort(-(x @ x[5]), kind="stable")
    assert ids == [all_ids[r] for r in exact if not 90 <= r < 120][:10]
    # limited to two documents: only theirs, every one of them, however far from the question
    ids, sims = vector_store.search(x[5], 100, docs={"doc 7.txt", "doc 9.txt"})
    assert sorted(ids) == sorted(docs["doc 7.txt"] + docs["doc 9.txt"])
    assert np.allclose(sims, [float(x[all_ids.index(i)] @ x[5]) for i in ids], atol=1e-5)
    assert vector_store.search(x[5], 10, docs={"doc 3.txt"})[0] == []  # deleted
    assert vector_store.search(x[5], 10, docs={"nowhere.txt"})[0] == []


def test_a_faiss_store_is_written_whole_never_changed_in_place(tmp_path: Path) -> None:
    vector_store, _ = store.for_build({"kind": "faiss"}, tmp_path, tmp_path, None, 16, 10)
    vector_store.add("a.txt", [f"a#{i}" for i in range(10)], unit(10))
    vector_store.commit()
    loaded = store.open_store({"kind": "faiss"}, tmp_path, [f"a#{i}" for i in range(10)], ["a.txt"] * 10)
    with pytest.raises(QAError, match="written whole by qa build"):
        loaded.delete("a.txt")
    with pytest.raises(ValueError, match="10 vectors for 9 chunks"):
        store.open_store({"kind": "faiss"}, tmp_path, [f"a#{i}" for i in range(9)], ["a.txt"] * 9)


QUESTIONS = ["When was the harbour of Vellmar opened?", "What do fishing boats bring back?",
             "When do apple trees bloom?", "Who paid to rebuild the docks?"]


@pytest.mark.parametrize("kind", STORES)
def test_an_index_in_any_store_answers_as_the_faiss_one(kind: str, small_docs: Path, tmp_path: Path,
                                                       store_spec) -> None:
    index.build(small_docs, tmp_path / "faiss", FakeEmbedder(), log=lambda line: None)
    index.build(small_docs, tmp_path / "other", FakeEmbedder(), log=lambda line: None, store=store_spec(kind))
    reference, other = index.load(tmp_path / "faiss"), index.load(tmp_path / "other")
    assert other.manifest["store"]["kind"] == ("faiss" if kind == "faiss" else "milvus")
    assert other.store.count() == len(other.chunks)
    for question in QUESTIONS:
        for retriever in RETRIEVERS:
            for docs in (None, {"notes.md"}):
                a = search(reference, FakeEmbedder(), question, 5, retriever, docs=docs)
                b = search(other, FakeEmbedder(), question, 5, retriever, docs=docs)
                assert [h.paragraph.id for h in a.hits] == [h.paragraph.id for h in b.hits]
                assert [h.score for h in a.hits] == pytest.approx([h.score for h in b.hits], abs=1e-5)
                assert a.abstained == b.abstained


@pytest.mark.parametrize("kind", STORES[1:])
def test_milvus_rebuilds_change_only_what_changed_and_a_full_build_switches_the_alias(
        kind: str, small_docs: Path, tmp_path: Path, store_spec) -> None:
    from qa import store_milvus

    spec = store_spec(kind)
    idx_dir = tmp_path / "idx"
    index.build(small_docs, idx_dir, FakeEmbedder(), log=lambda line: None, store=spec)
    first = index.read_manifest(idx_dir)["store"]
    aliased, partitioned = store_milvus.features(first["uri"])
    assert first["aliased"] == aliased and first["partition_key"] == ("doc" if partitioned else None)
    assert first["index_type"] == "FLAT" and first["metric"] == "IP"
    # a changed document: deleted and re-added in the same collection; no flag needed the second time
    (small_docs / "notes.md").write_text("# Orchards\n\nPlums ripen in August in the southern orchards.\n",
                                         encoding="utf-8")
    index.build(small_docs, idx_dir, FakeEmbedder(), log=lambda line: None)
    second = index.load(idx_dir)
    assert second.manifest["store"]["collection"] == first["collection"]
    assert second.store.count() == len(second.chunks)
    hit = search(second, FakeEmbedder(), "When do plums ripen?", 1, "dense", docs={"notes.md"}).hits[0]
    assert "Plums ripen" in hit.paragraph.text
    # another model: a full build into a new collection, then the alias moves and the old one goes
    class Other(FakeEmbedder):
        name = "fake-other-64"

    index.build(small_docs, idx_dir, Other(), log=lambda line: None)
    third = index.load(idx_dir).manifest["store"]
    client = store_milvus.connect(third["uri"])
    assert third["collection"] != first["collection"] and third["alias"] == first["alias"]
    if aliased:
        assert client.describe_alias(third["alias"])["collection_name"] == third["collection"]
    assert not client.has_collection(first["collection"]) and client.has_collection(third["collection"])


@pytest.mark.parametrize("kind", STORES[1:])
def test_a_milvus_build_killed_before_its_manifest_is_undone_by_the_next(
        kind: str, small_docs: Path, tmp_path: Path, store_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    idx_dir = tmp_path / "idx"
    index.build(small_docs, idx_dir, FakeEmbedder(), log=lambda line: None, store=store_spec(kind))
    notes = (small_docs / "notes.md").read_text(encoding="utf-8")
    # killed after it changed the collection (extra.md added, notes.md replaced), before its manifest
    (small_docs / "extra.md").write_text("# Comets\n\nHalley's comet returns every 76 years.\n", encoding="utf-8")
    (small_docs / "notes.md").write_text("# Orchards\n\nPlums ripen in August.\n", encoding="utf-8")

    def killed(path: Path) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(index, "_fsync_dir", killed)
    with pytest.raises(RuntimeError, match="killed"):
        index.build(small_docs, idx_dir, FakeEmbedder(), log=lambda line: None)
    monkeypatch.undo()
    # then extra.md removed and notes.md put back as the last finished build knew it
    (small_docs / "extra.md").unlink()
    (small_docs / "notes.md").write_text(notes, encoding="utf-8")
    index.build(small_docs, idx_dir, FakeEmbedder(), log=lambda line: None)
    loaded = index.load(idx_dir)
    assert loaded.store.count() == len(loaded.chunks)
    assert loaded.store.search(loaded.chunk_vectors()[0], 10, docs={"extra.md"})[0] == []
    for row, (chunk, vector) in enumerate(zip(loaded.chunks, loaded.chunk_vectors(), strict=True)):  # every row, as built
        doc = loaded.paragraphs[loaded.chunk_paragraph[row]].doc
        ids, sims = loaded.store.search(vector, 50, docs={doc})
        assert dict(zip(ids, sims, strict=True))[chunk.id] == pytest.approx(1.0, abs=1e-5)
    assert not (idx_dir / index.PENDING).exists()


@pytest.mark.parametrize("kind", STORES[1:])
def test_moving_an_index_back_to_faiss_drops_its_milvus_collection_and_says_so(
        kind: str, small_docs: Path, tmp_path: Path, store_spec) -> None:
    from qa import store_milvus

    idx_dir, lines = tmp_path / "idx", []
    index.build(small_docs, idx_dir, FakeEmbedder(), log=lambda line: None, store=store_spec(kind))
    first = index.read_manifest(idx_dir)["store"]
    index.build(small_docs, idx_dir, FakeEmbedder(), log=lines.append, store="faiss")
    moved = index.load(idx_dir)
    assert moved.manifest["store"]["kind"] == "faiss" and moved.store.count() == len(moved.chunks)
    client = store_milvus.connect(first["uri"])
    assert not client.has_collection(first["collection"])
    if first["aliased"]:
        assert first["alias"] not in client.list_aliases()["aliases"]
    assert [line for line in lines if "Milvus" in line] == [
        f"dropped the old Milvus collection {first['collection']} at {first['uri']}: "
        "this index's vectors are now in FAISS in the index folder"]


def test_an_old_milvus_collection_that_cannot_be_dropped_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa import store_milvus

    def unreachable(record: dict) -> str:
        raise QAError("http://db.example:19530: cannot reach the Milvus server")

    monkeypatch.setattr(store_milvus, "drop", unreachable)
    last = {"kind": "milvus", "uri": "http://db.example:19530", "alias": "qa_x", "collection": "qa_x_1"}
    note = store.retire(last, {"kind": "faiss"})
    assert note is not None and "\n" not in note
    assert note.startswith("left the old Milvus collection qa_x_1 at http://db.example:19530 (could not drop it: ")
    # the same collection, or a new one the alias moved to: nothing to say
    assert store.retire(last, {**last, "aliased": True}) is None
    assert store.retire(last, {**last, "collection": "qa_x_2", "aliased": True}) is None
    assert store.retire({"kind": "faiss"}, last) is None


def test_a_faiss_filter_scores_a_few_rows_directly_and_many_through_the_index(tmp_path: Path,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    x = unit(2000, seed=4)
    ids = [f"d{r // 100}#{r}" for r in range(2000)]
    built, _ = store.for_build({"kind": "faiss"}, tmp_path, tmp_path, None, 16, 2000, "ivf")
    for d in range(20):
        built.add(f"d{d}", ids[d * 100:(d + 1) * 100], x[d * 100:(d + 1) * 100])
    built.commit()
    np.save(tmp_path / store.VECTORS_FILE, x)  # as index.build writes it beside the FAISS file
    loaded = store.open_store({"kind": "faiss"}, tmp_path, ids, [i.split("#")[0] for i in ids])
    docs = {"d3", "d17"}
    direct = loaded.search(x[5], 20, docs=docs)
    monkeypatch.setattr(store, "EXACT_ROWS", 0)
    through_index = loaded.search(x[5], 20, docs=docs)
    assert direct[0] == through_index[0] and np.allclose(direct[1], through_index[1], atol=1e-5)
    rows = [r for r in range(2000) if r // 100 in (3, 17)]
    assert direct[0] == [ids[r] for r in sorted(rows, key=lambda r: -float(x[r] @ x[5]))[:20]]
    assert loaded.describe()["index_type"] == "ivf"  # the selector path searched IVF cells


ODD_NAMES = ["café.txt", "note 😀.txt", 'say "hi".txt', "back\\slash.txt", "tab\there.txt", "new\nline.txt"]


@pytest.mark.parametrize("kind", STORES[1:])
def test_milvus_filters_hold_for_any_document_name(kind: str, tmp_path: Path, store_spec) -> None:
    """Non-ASCII, emoji, quote, backslash, tab and newline names: a changed document's old rows are deleted,
    and a search limited to it finds exactly its rows (milvus-lite 2.5.1 matched no non-ASCII name before)."""
    x = unit(len(ODD_NAMES) * 3 + 3, seed=2)
    spec = store.parse_spec(store_spec(kind))
    vector_store, _ = store.for_build(spec, tmp_path / "idx", tmp_path, None, 16, len(x))
    for d, doc in enumerate(ODD_NAMES):
        vector_store.add(doc, [f"{doc}#p{i}" for i in range(3)], x[3 * d:3 * d + 3])
    record = vector_store.commit()
    vector_store, holds_last = store.for_build(spec, tmp_path / "idx", tmp_path, record, 16, len(x))
    assert holds_last
    for d, doc in enumerate(ODD_NAMES):  # each document changed: deleted, then added again with new vectors
        vector_store.delete(doc)
        vector_store.add(doc, [f"{doc}#p{i}" for i in range(3)], x[3 * d + 3:3 * d + 6])
    vector_store.commit()
    assert vector_store.count() == 3 * len(ODD_NAMES)
    for d, doc in enumerate(ODD_NAMES):
        ids, sims = vector_store.search(x[3 * d + 3], 10, docs={doc})
        assert sorted(ids) == [f"{doc}#p{i}" for i in range(3)], doc
        assert sims[0] == pytest.approx(1.0, abs=1e-5), doc


@pytest.mark.parametrize("victim", [store.FAISS_FILE, store.VECTORS_FILE])
def test_a_mapped_file_cut_short_under_a_loaded_index_is_one_line_not_a_crash(victim: str, small_docs: Path,
                                                                               tmp_path: Path) -> None:
    # the store reads both files through memory maps: a page past the end of a file truncated in place killed
    # the whole process with SIGBUS (a running chat, for every user); run in a child so the old code's crash
    # is a failed assertion, not a dead test run
    import subprocess
    import sys
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None)
    code = f"""
import os, sys
sys.path.insert(0, {str(Path(__file__).parent)!r})
from pathlib import Path
from conftest import FakeEmbedder
from qa import index
from qa.errors import QAError
from qa.search import search
loaded = index.load(Path({str(tmp_path / "idx")!r}))
search(loaded, FakeEmbedder(), "harbour", k=3)
gen = Path({str(tmp_path / "idx")!r}) / loaded.manifest["generation"]
os.truncate(gen / {victim!r}, 64)
for docs in (None, frozenset(["harbours.txt"])):
    try:
        search(loaded, FakeEmbedder(), "harbour", k=3, docs=docs)
    except QAError as exc:
        print(exc)
"""
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(f"{victim}: changed on disk since the index was loaded" in line for line in lines)
