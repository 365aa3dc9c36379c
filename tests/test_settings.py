"""settings: per-model defaults, settings.json stored with an index, damaged or foreign files, builds."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import pytest
from conftest import FakeEmbedder

from qa import index
from qa import settings as settings_mod
from qa.search import search
from qa.settings import DEFAULT, MODEL_DEFAULTS, Settings

QUESTION = "When was the harbour of Vellmar opened?"


@pytest.fixture
def built(small_docs: Path, tmp_path: Path) -> Path:
    index.build(small_docs, tmp_path / "idx", FakeEmbedder(), log=lambda line: None)
    return tmp_path / "idx"


def store(folder: Path, settings: Settings) -> Path:
    return settings_mod.write(folder, index.read_manifest(folder), settings, {"split": "dev"})


def test_an_index_without_settings_uses_its_models_defaults(built: Path) -> None:
    idx = index.load(built)
    assert idx.settings == DEFAULT and idx.settings_notice is None
    assert idx.settings_source == "defaults for fake-hash-64"
    assert settings_mod.defaults_for("all-MiniLM-L6-v2") == MODEL_DEFAULTS["minilm"]
    assert settings_mod.defaults_for("all-MiniLM-L6-v2+onnx-int8") == MODEL_DEFAULTS["minilm"]
    assert settings_mod.defaults_for("all-mpnet-base-v2") == MODEL_DEFAULTS["mpnet"]
    assert settings_mod.defaults_for("/models/some-other-model") == DEFAULT


def test_stored_settings_are_what_search_uses(built: Path) -> None:
    never = replace(DEFAULT, abstain_below=2.0, dense_weight=1.0)  # cosines are ≤ 1: always abstains
    path = store(built, never)
    assert json.loads(path.read_text(encoding="utf-8"))["settings"] == asdict(never)
    idx = index.open_index(built, FakeEmbedder(), log=None)
    assert idx.settings == never and idx.settings_source.startswith(str(path))
    answer = search(idx, FakeEmbedder(), QUESTION)
    assert answer.abstained
    # dense_weight 1: the hybrid score is the paragraph's dense cosine alone.
    assert answer.hits[0].score == pytest.approx(answer.scores["top_dense"], abs=1e-4)
    assert not search(idx, FakeEmbedder(), QUESTION, settings=DEFAULT).abstained  # an explicit argument wins
    store(built, replace(DEFAULT, abstain_below=-1.0))
    assert not search(index.open_index(built, FakeEmbedder(), log=None), FakeEmbedder(), QUESTION).abstained


def test_writing_settings_is_atomic_and_leaves_no_temp_file(built: Path) -> None:
    store(built, DEFAULT)
    store(built, replace(DEFAULT, dense_weight=0.7))
    assert sorted(p.name for p in built.iterdir() if "settings" in p.name) == ["settings.json"]
    assert index.load(built).settings.dense_weight == 0.7


@pytest.mark.parametrize("content, reason", [
    ("{not json", "not valid JSON at line 1"),
    ("\xff\xfe", "not UTF-8"),
    ('{"format_version": 1, "model": "fake-hash-64", "settings": {"dense_weight": "high"}}', '"dense_weight": expected'),
    ('{"format_version": 1, "model": "fake-hash-64", "settings": {"dense_weight": 7}}', "between 0 and 1"),
    ('{"format_version": 1, "model": "fake-hash-64", "settings": {"fusion": 0.5}}', 'unknown setting "fusion"'),
    ('{"format_version": 1, "model": "fake-hash-64", "settings": {"expansion_per_word": 2.5}}', "expansion_per_word"),
    ('{"format_version": 9, "settings": {}}', "format version 1"),
    ("[]", "format version 1"),
])
def test_a_damaged_settings_file_falls_back_with_one_line_and_keeps_the_index(
        built: Path, content: str, reason: str, capsys: pytest.CaptureFixture) -> None:
    path = built / "settings.json"
    path.write_bytes(content.encode("latin-1") if content.startswith("\xff") else content.encode("utf-8"))
    before = {p.name for p in built.rglob("*")}
    idx = index.open_index(built, FakeEmbedder())
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"qa: warning: {path}: not used (")
    assert reason in err[0] and "qa eval --tune" in err[0] and "Traceback" not in err[0]
    assert idx.settings == DEFAULT  # the model's defaults
    assert search(idx, FakeEmbedder(), QUESTION).hits  # the index still answers
    assert {p.name for p in built.rglob("*")} == before and path.read_bytes()  # nothing removed or rewritten


def test_the_chat_hears_of_a_damaged_settings_file_too(built: Path, capsys: pytest.CaptureFixture) -> None:
    (built / "settings.json").write_text("{", encoding="utf-8")
    index.open_index(built, FakeEmbedder(), log=None)  # the chat does not look at staleness
    assert "settings.json: not used" in capsys.readouterr().err


class OtherModel(FakeEmbedder):
    name = "other-hash-64"
    fingerprint = "other"


def test_settings_of_another_model_are_not_used(built: Path, capsys: pytest.CaptureFixture) -> None:
    path = store(built, replace(DEFAULT, dense_weight=0.9))
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**data, "model": "other-hash-64"}), encoding="utf-8")
    idx = index.open_index(built, FakeEmbedder())
    assert idx.settings == DEFAULT
    assert "tuned for model 'other-hash-64'" in capsys.readouterr().err


def test_a_rebuild_keeps_settings_of_the_same_model_and_drops_another_models(small_docs: Path, built: Path) -> None:
    tuned = replace(DEFAULT, dense_weight=0.7, abstain_below=0.2)
    store(built, tuned)
    (small_docs / "new.txt").write_text("A new harbour opened in Ostrava in 2020.\n", encoding="utf-8")
    index.build(small_docs, built, FakeEmbedder(), log=lambda line: None)
    assert index.load(built).settings == tuned
    index.build(small_docs, built, OtherModel(), log=lambda line: None)
    assert not (built / "settings.json").exists()
    idx = index.load(built)
    assert idx.model == "other-hash-64" and idx.settings == DEFAULT and idx.settings_notice is None


def test_describe_lists_every_setting() -> None:
    line = settings_mod.describe(DEFAULT)
    assert line.startswith("dense_weight 0.5, ") and "abstain_below" in line and "note_penalty" in line


def test_the_chat_searches_with_the_stored_settings_before_and_after_an_upload(
        small_docs: Path, built: Path, tmp_path: Path) -> None:
    from qa.web.chat import Chat

    store(built, replace(DEFAULT, abstain_below=2.0))  # always abstains: visible in every answer
    chat = Chat(small_docs, built, FakeEmbedder(), feedback=tmp_path / "fb.jsonl")
    assert chat.ask(QUESTION).abstained
    upload = tmp_path / "upload" / "ports.txt"
    upload.parent.mkdir()
    upload.write_text("The port of Ostrava opened in 2020 for river barges.\n", encoding="utf-8")
    chat.add_documents([upload])
    assert "ports.txt" in chat.index.manifest["documents"]  # a new index was loaded, same model
    assert chat.index.settings.abstain_below == 2.0 and chat.ask(QUESTION).abstained
