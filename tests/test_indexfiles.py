"""indexfiles: every file of a real (small) index damaged in every way — whole files (empty, cut short,
binary, nested 10,000 deep), each value of each JSON file (text, list, object, null, a number of 400
digits, nested 10,000 deep where an object goes), each array (another type, shape, NaN, pickled
objects) — never gives "internal error": ``qa search`` answers or says in one line that the index is
damaged, and ``qa build`` and the chat's start (``qa serve``) rebuild it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import FakeEmbedder, use_fake_model

from qa import cli, index, indexfiles, settings
from qa.web import ui

DEEP = "[" * 10_000 + "]" * 10_000
BIG = "1" * 400
VALUES = {"text": '"x"', "list": "[1]", "object": "{}", "null": "null", "big": BIG, "deep": DEEP}
WHOLE = {"empty": b"", "binary": bytes(range(256)) * 4, "deep": DEEP.encode(), "text": b'"x"\n'}


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fake_model(monkeypatch, lambda name=None, *a, **k: FakeEmbedder())
    for var in ("QA_MODEL", "QA_INDEX", "QA_DOCS"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A built index (with a tuned settings.json) and its documents, never changed: each test copies it."""
    from conftest import SMALL_TXT

    root = tmp_path_factory.mktemp("pristine")
    docs = root / "docs"
    docs.mkdir()
    (docs / "harbours.txt").write_text(SMALL_TXT, encoding="utf-8")
    (docs / "notes.md").write_text("# Orchards\n\nApple trees bloom in April in the northern orchards.[^a]\n\n"
                                   "[^a]: Orchard survey, <https://example.org/orchards>.\n", encoding="utf-8")
    idx = root / "idx"
    index.build(docs, idx, FakeEmbedder(), log=lambda line: None)
    settings.write(idx, index.read_manifest(idx), settings.DEFAULT, {"questions": "paper", "split": "dev"})
    return docs, idx


def files(idx: Path) -> list[Path]:
    """Every file of the index a reader opens."""
    gen = idx / index.read_manifest(idx)["generation"]
    return [idx / index.MANIFEST, idx / settings.FILE,
            *sorted(p for p in gen.rglob("*") if p.is_file() and p.name != index.MARKER)]


def value_damages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (what, new bytes) for each value of a JSON or JSONL file replaced by each of VALUES."""
    text = path.read_text(encoding="utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()] if path.suffix == ".jsonl" \
        else [json.loads(text)]
    for key_path in _paths(rows[0]):
        for name, literal in VALUES.items():
            value = json.loads(json.dumps(rows[0]))
            *parents, last = key_path
            holder = value
            for key in parents:
                holder = holder[key]
            holder[last] = "__DAMAGE__"
            row = json.dumps(value).replace('"__DAMAGE__"', literal)
            out = "\n".join([row] + [json.dumps(r) for r in rows[1:]]) + "\n"
            yield f"{'.'.join(map(str, key_path))}={name}", out.encode()


def _paths(value: object, prefix: tuple = (), depth: int = 0) -> Iterator[tuple]:
    """Yield the path of every value (objects' keys, lists' first item) down to three levels."""
    items = value.items() if isinstance(value, dict) else enumerate(value[:1]) if isinstance(value, list) else []
    for key, inner in items:
        yield (*prefix, key)
        if depth < 2:
            yield from _paths(inner, (*prefix, key), depth + 1)


def array_damages(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (what, new bytes) for a .npy file saved again as another type, shape, with NaN, or pickled."""
    import io

    good = np.load(path, allow_pickle=False)
    variants = {
        "ints": good.astype(np.int64) if good.dtype.kind == "f" else good.astype(np.float32),
        "flat": good.reshape(-1), "3-D": good.reshape(1, 1, -1), "one more row": np.concatenate([good, good[:1]]),
        "nan": np.full_like(good, np.nan, dtype=np.float32), "strings": good.astype(str),
        "huge": np.full(good.shape, 2**40, dtype=np.int64) if good.dtype.kind == "i" else np.full_like(good, 1e30),
        "objects": np.array([{"a": 1}], dtype=object)}
    for name, array in variants.items():
        buf = io.BytesIO()
        np.save(buf, array, allow_pickle=True)
        yield name, buf.getvalue()


def damages(idx: Path) -> Iterator[tuple[Path, str, bytes]]:
    """Yield (file, what, new bytes) for every damage of every file of the index."""
    for path in files(idx):
        raw = path.read_bytes()
        for name, new in WHOLE.items():
            yield path, name, new
        yield path, "cut short", raw[: len(raw) // 2]
        if path.suffix in (".json", ".jsonl"):
            for name, new in value_damages(path):
                yield path, name, new
        if path.suffix == ".npy":
            for name, new in array_damages(path):
                yield path, name, new


def test_no_damaged_index_file_gives_an_internal_error_to_search(pristine: tuple[Path, Path], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture) -> None:
    _, built = pristine
    idx = tmp_path / "idx"
    shutil.copytree(built, idx)
    cases = 0
    for path, what, new in damages(idx):
        raw = path.read_bytes()
        path.write_bytes(new)
        try:
            code = cli.main(["search", "When was the harbour of Vellmar opened?", "--json", "--index", str(idx)])
            out, err = capsys.readouterr()
        finally:
            path.write_bytes(raw)
        where = f"{path.relative_to(idx)} {what}"
        assert "internal error" not in err and "Traceback" not in err, where
        if code == 0:  # still answers: right (a damaged settings.json falls back to the model's defaults)
            assert json.loads(out)["results"][0]["passage_id"] == "harbours.txt#p2", where
        else:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("qa: error: ") and "qa build" in lines[0], where
        cases += 1
    assert cases > 300


@pytest.mark.parametrize("name,what", [
    ("manifest.json", "deep"), ("manifest.json", "big"), ("manifest.json", "text"), ("paragraphs.jsonl", "big"),
    ("chunks.jsonl", "text"), ("vocab.npy", "big"), ("vocab.json", "deep"), ("params.index.json", "text"),
    ("vocab.index.json", "big"), ("indices.csc.index.npy", "text"), ("vectors.npy", "big"), ("vectors.faiss", "text"),
    ("settings.json", "deep")])
def test_a_damaged_file_is_rebuilt_by_build_and_by_the_chat(pristine: tuple[Path, Path], tmp_path: Path,
                                                            name: str, what: str) -> None:
    docs, built = pristine
    new = {"deep": DEEP.encode(), "text": b'"x"', "big": None}[what]
    idx = tmp_path / "idx"
    shutil.copytree(built, idx)
    path = next(p for p in files(idx) if p.name == name)
    if new is None:  # the file's first "1" made a number of 400 digits (JSON), its last bytes 0xff (binary)
        raw = path.read_bytes()
        new = raw.replace(b"1", BIG.encode(), 1) if path.suffix in (".json", ".jsonl") else raw[:-8] + b"\xff" * 8
    path.write_bytes(new)
    assert index.build(docs, idx, FakeEmbedder(), log=lambda line: None).documents == 2
    loaded = index.load(idx)
    assert len(loaded.paragraphs) == 5
    # settings.json is the user's (qa eval --tune): never rebuilt, never fatal, said in one line
    assert bool(loaded.settings_notice) == (name == settings.FILE)
    shutil.rmtree(idx)
    shutil.copytree(built, idx)
    path.write_bytes(new)
    chat = ui.prepare(docs, idx, embedder=FakeEmbedder())
    assert chat.ask("When was the harbour of Vellmar opened?").hits[0].paragraph.id == "harbours.txt#p2"


def test_check_says_what_is_wrong_where() -> None:
    with pytest.raises(indexfiles.Damaged, match=r"m.json: 'dim': expected a whole number"):
        indexfiles.check({"dim": 10**400}, {"dim": int}, "m.json")
    with pytest.raises(indexfiles.Damaged, match="nested over"):
        indexfiles.check({"extra": json.loads("[" * 100 + "]" * 100)}, {}, "m.json")
    with pytest.raises(indexfiles.Damaged, match="nested too deep"):
        indexfiles.parse(DEEP, "m.json")
    assert indexfiles.check({"a": [1, "b"], "c": None}, {"a": [(int, str)], "c?": (str, None)}, "x") == \
        {"a": [1, "b"], "c": None}


def test_every_field_of_the_stored_records_has_a_shape() -> None:
    """A field added to a record must be added to its shape too (else a damaged value of it passes the loader)."""
    from dataclasses import fields

    from qa.records import Chunk, Footnote, Paragraph, Reference

    for record, shape in [(Paragraph, indexfiles.PARAGRAPH), (Footnote, indexfiles.FOOTNOTE),
                          (Chunk, indexfiles.CHUNK), (Reference, indexfiles.REFERENCE)]:
        assert {f.name for f in fields(record)} == {key.rstrip("?") for key in shape}, record.__name__
