"""Models by name: packaged pieces → one checked zip → a model folder in the cache.

Runs on a tiny split zip made here; the slow test at the end uses the real
all-mpnet-base-v2 pieces when they are installed.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from qa import models
from qa.errors import ModelError
from qa.models import MARKER, Packaged

FILES = {"modules.json": b"[]", "config.json": b'{"hidden_size": 8}', "1_Pooling/config.json": b"{}",
         "desktop.ini": b"[.ShellClassInfo]"}


def make_zip(extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in {**FILES, **(extra or {})}.items():
            zf.writestr(name if name.startswith("../") else f"tiny-model/{name}", data)
    return buf.getvalue()


def spec_for(whole: bytes, n: int = 3) -> Packaged:
    return Packaged(name="tiny", model="tiny-model", packages=tuple(f"tiny-part-{i:03d}" for i in range(1, n + 1)),
                    version="0.0.1", pieces=tuple(f"tiny.zip.{i:03d}" for i in range(1, n + 1)),
                    sha256=hashlib.sha256(whole).hexdigest())


def split(whole: bytes, n: int = 3) -> list[bytes]:
    step = len(whole) // n + 1
    return [whole[i * step:(i + 1) * step] for i in range(n)]


def write_wheels(folder: Path, pieces: list[bytes]) -> None:
    """Wheels laid out like the PyPI parts: <pkg>/input/<piece> inside <dist>-<version>-py3-none-any.whl."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(pieces, start=1):
        with zipfile.ZipFile(folder / f"tiny_part_{i:03d}-0.0.1-py3-none-any.whl", "w") as zf:
            zf.writestr(f"tiny-part_{i:03d}/__init__.py", b"")
            zf.writestr(f"tiny-part_{i:03d}/input/tiny.zip.{i:03d}", data)


@pytest.fixture
def tiny(tmp_path: Path) -> tuple[Packaged, Path]:
    whole = make_zip()
    write_wheels(tmp_path / "wheels", split(whole))
    return spec_for(whole), tmp_path / "wheels"


def test_pieces_in_wheels_are_assembled_once_into_the_cache(tiny: tuple[Packaged, Path], tmp_path: Path) -> None:
    spec, wheels = tiny
    root = tmp_path / "cache"
    folder = models.ensure(spec, root, (wheels,))
    assert folder == root / "models" / "tiny-model"
    assert (folder / "config.json").read_bytes() == FILES["config.json"]
    assert (folder / "1_Pooling" / "config.json").is_file()
    assert not (folder / "desktop.ini").exists()
    marker = json.loads((folder / MARKER).read_text())
    assert marker["sha256"] == spec.sha256 and "modules.json" in marker["files"]
    assert sorted(p.name for p in (root / "models").iterdir()) == ["tiny-model"]  # no temporary leftovers
    for wheel in wheels.iterdir():
        wheel.unlink()
    assert models.ensure(spec, root) == folder  # assembled: the pieces are not needed again


def test_loose_piece_files_work_too(tmp_path: Path) -> None:
    whole = make_zip()
    spec = spec_for(whole)
    loose = tmp_path / "loose"
    loose.mkdir()
    for name, data in zip(spec.pieces, split(whole), strict=True):
        (loose / name).write_bytes(data)
    assert (models.ensure(spec, tmp_path / "cache", (loose,)) / "modules.json").is_file()


def test_pieces_of_installed_packages_are_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = make_zip()
    spec = spec_for(whole)
    site = tmp_path / "site"
    for i, data in enumerate(split(whole), start=1):
        piece = site / f"tiny-part_{i:03d}" / "input" / f"tiny.zip.{i:03d}"
        piece.parent.mkdir(parents=True)
        piece.write_bytes(data)
        info = site / f"tiny_part_{i:03d}-0.0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: tiny-part-{i:03d}\nVersion: 0.0.1\n")
        (info / "RECORD").write_text(f"tiny-part_{i:03d}/input/tiny.zip.{i:03d},,\n")
    monkeypatch.syspath_prepend(str(site))
    assert all(p is not None and p.member is None for p in models.find_pieces(spec))
    assert (models.ensure(spec, tmp_path / "cache") / "config.json").is_file()


def test_a_corrupt_piece_fails_the_checksum_and_leaves_nothing(tmp_path: Path) -> None:
    whole = make_zip()
    spec = spec_for(whole)
    pieces = split(whole)
    pieces[1] = pieces[1][:-1] + bytes([pieces[1][-1] ^ 1])
    write_wheels(tmp_path / "wheels", pieces)
    with pytest.raises(ModelError, match="sha256"):
        models.ensure(spec, tmp_path / "cache", (tmp_path / "wheels",))
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_a_missing_piece_names_the_package_and_the_command(tmp_path: Path) -> None:
    whole = make_zip()
    spec = spec_for(whole)
    write_wheels(tmp_path / "wheels", split(whole))
    (tmp_path / "wheels" / "tiny_part_002-0.0.1-py3-none-any.whl").unlink()
    with pytest.raises(ModelError, match=r"missing tiny-part-002\).*qa models add tiny"):
        models.ensure(spec, tmp_path / "cache", (tmp_path / "wheels",))


def test_zip_members_outside_the_model_folder_are_not_written(tmp_path: Path) -> None:
    whole = make_zip({"../escaped.txt": b"x", "../../escaped.txt": b"x"})
    spec = spec_for(whole)
    write_wheels(tmp_path / "wheels", split(whole))
    folder = models.ensure(spec, tmp_path / "cache", (tmp_path / "wheels",))
    assert not list(tmp_path.rglob("escaped.txt"))
    assert set(json.loads((folder / MARKER).read_text())["files"]) == {"modules.json", "config.json",
                                                                       "1_Pooling/config.json"}


def test_a_zip_without_a_model_folder_is_refused(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("other/readme.txt", b"hello")
    whole = buf.getvalue()
    spec = spec_for(whole, n=1)
    write_wheels(tmp_path / "wheels", [whole])
    with pytest.raises(ModelError, match="no sentence-transformers folder"):
        models.ensure(spec, tmp_path / "cache", (tmp_path / "wheels",))
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_add_from_a_folder_and_unknown_names(tiny: tuple[Packaged, Path], tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    spec, wheels = tiny
    monkeypatch.setitem(models.PACKAGED, "tiny", spec)
    folder = models.add("tiny", wheels, root=tmp_path / "cache")
    assert models.is_assembled(spec, tmp_path / "cache") and (folder / "modules.json").is_file()
    with pytest.raises(ModelError, match="packaged models"):
        models.add("gpt-17")


def test_a_failed_download_says_how_to_add_offline(tiny: tuple[Packaged, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    spec, _ = tiny

    def no_network(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        assert "--no-deps" in cmd and "tiny-part-001==0.0.1" in cmd
        return subprocess.CompletedProcess(cmd, 1, "", "ERROR: No matching distribution found\n")

    monkeypatch.setattr(models.subprocess, "run", no_network)
    with pytest.raises(ModelError, match="--from FOLDER"):
        models.download(spec, tmp_path / "dl")


def test_names_resolve_to_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert models.canonical("all-MiniLM-L6-v2") == models.canonical("minilm") == "minilm"
    assert models.canonical("sentence-transformers/all-mpnet-base-v2") == "mpnet"
    assert models.official("mpnet") == "all-mpnet-base-v2" and models.official("minilm") == "all-MiniLM-L6-v2"
    assert models.official(str(tmp_path)) == str(tmp_path)
    assert (Path(models.resolve("minilm")) / "config.json").is_file()
    assert models.resolve(str(tmp_path)) == str(tmp_path)  # any local folder is its own name
    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(models, "_installed", lambda package, piece: None)
    with pytest.raises(ModelError, match="qa models add mpnet"):
        models.resolve("mpnet")


@pytest.mark.slow
def test_the_real_mpnet_pieces_assemble_into_a_loadable_model(tmp_path: Path) -> None:
    if None not in models.find_pieces(models.MPNET):
        folder = models.ensure(models.MPNET, tmp_path)  # from the installed parts, into a fresh cache
    elif models.is_assembled(models.MPNET):
        folder = models.assembled_dir(models.MPNET)
    else:
        pytest.skip("all-mpnet-base-v2 is not installed (qa models add mpnet)")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    vectors = model.encode(["a footnote", "a citation"], normalize_embeddings=True)
    assert vectors.shape == (2, 768)


def test_cli_models_add_and_list(tiny: tuple[Packaged, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture) -> None:
    from qa import cli

    spec, wheels = tiny
    monkeypatch.setenv("QA_CACHE", str(tmp_path / "cache"))
    monkeypatch.setitem(models.PACKAGED, "tiny", spec)
    assert cli.main(["models", "add", "tiny", "--from", str(wheels)]) == 0
    assert "tiny: ready in" in capsys.readouterr().out
    assert cli.main(["models", "--no-speed"]) == 0
    listed = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:]}
    assert set(listed) >= {"minilm", "tiny"} and str(tmp_path / "cache" / "models" / "tiny-model") in listed["tiny"]
    assert cli.main(["models", "add"]) == 2
    assert "which model?" in capsys.readouterr().err


def test_the_embed_stage_takes_models_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.embed import model_name, model_path

    monkeypatch.delenv("QA_MODEL", raising=False)
    monkeypatch.setenv("QA_BACKEND", "torch")  # the backend is test_backends.py's matter
    assert model_name() == model_name("minilm") == "all-MiniLM-L6-v2"
    assert model_name("mpnet") == model_name("sentence-transformers/all-mpnet-base-v2") == "all-mpnet-base-v2"
    assert model_name("mpnet+onnx") == "all-mpnet-base-v2+onnx"
    assert model_path("minilm") == models.resolve("all-MiniLM-L6-v2")


@pytest.mark.slow
def test_mpnet_by_name_answers_questions_like_torch() -> None:
    if not models.is_assembled(models.MPNET):
        pytest.skip("all-mpnet-base-v2 is not installed (qa models add mpnet)")
    from qa.embed import Embedder, load_embedder

    texts = ["What did the Court hold?", "Footnotes carry the evidence in law reviews.", "a"]
    torch_vectors = Embedder("mpnet", backend="torch").encode_passages(texts)
    questions = load_embedder("mpnet+torch", questions=True)  # the ONNX twin (onnxruntime is always installed)
    assert questions.name == "all-mpnet-base-v2" and questions.dimension == 768
    assert ((questions.encode_queries(texts) * torch_vectors).sum(axis=1) > 0.9999).all()
