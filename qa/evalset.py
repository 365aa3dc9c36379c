"""Which index a question set is scored on: by default its own documents, never whatever ``index/`` holds.

A named set (``paper``, ``realpdf``) was written for known documents; a set given as a file is about the
documents its rows name (``"doc"``) in the folder given with ``--docs``. Those documents are copied into a
cache folder (``$QA_CACHE/eval/SET/docs``) and built there once per model; later runs reuse the index and
rebuild only what changed. With ``--index`` the given index is scored as it is, and a loud line says when
its documents are not the set's (uploads in the chat's index change every figure).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa.errors import InputError, QAError
from qa.questions import QUESTION_SETS, read_rows

REPO = Path(__file__).resolve().parent.parent
# The documents each named set was written for: a folder (relative to the repository) and the files in it
# that the set is about (empty: every document of the folder; the others are distractors that count).
SET_DOCUMENTS: dict[str, tuple[Path, tuple[str, ...]]] = {
    "paper": (Path("docs_src"), ("ambitions-and-limits-japan-eu-security.txt",)),
    "realpdf": (Path("../shared/realpdf/dev/pdfs"), ()),
}


@dataclass(frozen=True)
class Target:
    """Where a question set is scored: the index folder, the documents wanted (None: unknown), and a warning."""

    index_dir: Path
    own: bool  # built from the set's own documents by this module
    wanted: tuple[str, ...] | None
    warning: str | None = None


def set_documents(question_set: str | None, questions: Path, docs: Path | None) -> tuple[Path, tuple[str, ...]] | None:
    """Return (folder, file names; () = all of the folder) of the documents a question set was written for,
    or None when that is not known (a set given as a file, without ``docs``)."""
    if docs is not None:
        named = sorted({str(row["doc"]) for row in read_rows(questions) if isinstance(row.get("doc"), str)})
        return Path(docs), tuple(named)
    name = question_set or "paper"
    if name not in SET_DOCUMENTS:
        return None
    folder, names = SET_DOCUMENTS[name]
    in_repo = (REPO / folder).resolve()
    return (in_repo if in_repo.is_dir() else folder), names


def cache_key(question_set: str | None, questions: Path, docs: Path | None) -> str:
    """Return the cache folder name of a set's own index: the set's name, else a hash of file and folder."""
    name = question_set or "paper"
    if docs is None and name in QUESTION_SETS:
        return name
    where = f"{Path(questions).resolve()}\n{Path(docs).resolve() if docs else ''}"
    return f"{Path(questions).stem[:40]}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"


def stage(folder: Path, names: tuple[str, ...], into: Path,
          listed: Callable[[Path], list[Path]]) -> tuple[str, ...]:
    """Copy the set's documents from ``folder`` into ``into`` (only what changed; files no longer in the set
    removed); return their names. ``listed`` lists a folder's documents (for a set of all of them)."""
    if not Path(folder).is_dir():
        raise InputError(f"{folder}: the question set's documents folder is not there; pass --docs DIR "
                         "(or --index DIR to score an index you built)")
    names = names or _all_in(Path(folder), listed)
    missing = [n for n in names if not (Path(folder) / n).is_file()]
    if missing:
        raise InputError(f"{Path(folder) / missing[0]}: a document of the question set is missing "
                         f"({len(missing)} in all); restore it, or pass --docs DIR or --index DIR")
    into.mkdir(parents=True, exist_ok=True)
    for name in names:
        src, dst = Path(folder) / name, into / name
        st = src.stat()
        if dst.is_file() and not dst.is_symlink():
            have = dst.stat()
            if have.st_size == st.st_size and have.st_mtime_ns == st.st_mtime_ns:
                continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".{dst.name}.tmp")
        shutil.copy2(src, tmp)  # keeps the time: an unchanged document is not read again
        os.replace(tmp, dst)
    keep = set(names)
    for path in sorted(into.rglob("*"), reverse=True):
        rel = path.relative_to(into).as_posix()
        if path.is_file() and rel not in keep:
            path.unlink()
    return names


def index_folder(key: str, model: str, root: Path) -> Path:
    """Return the cache folder of a set's own index for one model."""
    return root / "eval" / key / ("index-" + re.sub(r"[^A-Za-z0-9._+-]", "_", model))


def difference(wanted: tuple[str, ...], built: list[str]) -> str | None:
    """Return a warning naming the documents an index holds beyond (or lacks of) a set's, or None when equal."""
    extra = sorted(set(built) - set(wanted))
    lacking = sorted(set(wanted) - set(built))
    if not extra and not lacking:
        return None
    parts = []
    if extra:
        parts.append(f"{len(extra)} not in the question set's ({_few(extra)})")
    if lacking:
        parts.append(f"lacks {len(lacking)} of them ({_few(lacking)})")
    return ("the index holds other documents than the question set's: " + "; ".join(parts)
            + ". Its figures are not the set's; drop --index to score the set's own documents")


def _count(n: int) -> str:
    return f"{n} document" + ("" if n == 1 else "s")


def _few(names: list[str]) -> str:
    return ", ".join(names[:3]) + (", …" if len(names) > 3 else "")


def say(line: str) -> None:
    """Print one progress or warning line on stderr."""
    print(f"qa: {line}", file=sys.stderr, flush=True)


def choose(question_set: str | None, questions: Path, index_dir: Path | None, docs: Path | None,
           default_index: Path, log: Callable[[str], None] = say) -> Target:
    """Return where to score a question set: ``index_dir`` as given (with a warning when its documents are not
    the set's), else the set's own documents built into the cache (reused), else ``default_index`` with a
    warning that the set names no documents."""
    from qa import index as index_mod
    from qa.embed import load_embedder, model_name
    from qa.models import cache_dir

    known = set_documents(question_set, questions, docs)
    if index_dir is not None:
        built = list(index_mod.read_manifest(index_dir).get("documents", {}))
        wanted = _wanted(known, index_mod.document_files)
        return Target(index_dir, False, wanted, difference(wanted, built) if wanted is not None else None)
    if known is None:
        built = list(index_mod.read_manifest(default_index).get("documents", {}))
        return Target(default_index, False, None,
                      f"the question set names no documents, so {default_index}/ is scored as it is "
                      f"({_count(len(built))}: {_few(sorted(built))}); pass --docs DIR to score on the set's own")
    key = cache_key(question_set, questions, docs)
    model = model_name(None)
    root = cache_dir()
    staged = root / "eval" / key / "docs"
    names = stage(known[0], known[1], staged, index_mod.document_files)
    target = index_folder(key, model, root)
    try:
        manifest = index_mod.read_manifest(target)
        current = manifest.get("model") == model and not index_mod.stale(manifest, staged)
    except (QAError, OSError, ValueError):  # anything wrong with a cached index: build it again
        current = False
    if not current:
        log(f"building the question set's own index ({_count(len(names))} from {known[0]}) in {target}/ "
            "(once; reused while they do not change)")
        index_mod.build(staged, target, load_embedder(model), progress=True, log=log)
    return Target(target, True, names)


def _wanted(known: tuple[Path, tuple[str, ...]] | None, listed: Callable[[Path], list[Path]]) -> tuple[str, ...] | None:
    if known is None:
        return None
    folder, names = known
    if names:
        return names
    return _all_in(folder, listed) if folder.is_dir() else None


def _all_in(folder: Path, listed: Callable[[Path], list[Path]]) -> tuple[str, ...]:
    """Return the names of every document in a folder (a set written for all of them)."""
    return tuple(p.relative_to(folder).as_posix() for p in listed(folder))
