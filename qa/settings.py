"""Retrieval settings: the knobs of ``search``, per model, and the tuned ones stored with an index.

Search reads its settings from the index it searches (``Index.settings``): the ones ``qa eval --tune``
chose on the dev questions and wrote to ``settings.json`` in the index folder, else the defaults
of the index's model (``MODEL_DEFAULTS``, measured by tuning on the project's dev questions), else
``DEFAULT``. ``settings.json`` names the model (and its fingerprint) it was tuned for: an index
rebuilt with the same model keeps it, another model does not (the build removes it, and a file
naming another model is not used). A damaged file is never fatal: search falls back to the
model's defaults and says so in one line naming the file and what to do.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from qa import files, indexfiles

FILE = "settings.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Settings:
    """Retrieval knobs; the defaults were the measured best on the project's question set for
    all-MiniLM-L6-v2 before per-model tuning (unknown models get them)."""

    dense_weight: float = 0.5  # hybrid = w·cosine + (1−w)·bm25/(bm25 + saturation)
    bm25_saturation: float = 5.0
    expansion_weight: float = 0.6  # BM25 of embedding neighbours of the question's words
    expansion_min_sim: float = 0.5
    expansion_per_word: int = 3
    pool_depth: int = 200  # chunks fetched from the vector store (after its document filter) before pooling
    # A cited footnote's text is the paragraph's second-hand evidence: its cosine counts this much less
    # (a question echoing a source's title should still find the passage that speaks to it).
    note_penalty: float = 0.1
    abstain_below: float = 0.35  # best dense cosine under this → "not in your documents" (qa eval calibrates)
    # Also abstain when a question asks for an amount ("how many", "what share") and the best passage, with
    # its cited notes, states none (search.lacks_quantity); qa eval --tune keeps it only when it fits the 3% cap.
    quantity_check: bool = False


DEFAULT = Settings()

# Per-model defaults for an index without settings.json, keyed by the models' short names
# (qa.models.canonical): what `qa eval --tune` chose on the paper's 138 dev questions (README, "Retrieval
# settings"). For both models no ranking knob gained half a question over the generic defaults; the
# abstention threshold is each model's own (its cosines are not on one scale).
MODEL_DEFAULTS: dict[str, Settings] = {
    "minilm": replace(DEFAULT, abstain_below=0.3664, quantity_check=True),  # dev: 68% of unanswerable, 2.6% of answerable
    "mpnet": replace(DEFAULT, abstain_below=0.3464, quantity_check=True),  # dev: 68% of unanswerable, 0.0% of answerable
}

# What a stored value may be: (type, lowest, highest). Anything else makes the file unusable.
LIMITS: dict[str, tuple[type, float, float]] = {
    "dense_weight": (float, 0.0, 1.0), "bm25_saturation": (float, 0.0, 1e6), "expansion_weight": (float, 0.0, 100.0),
    "expansion_min_sim": (float, -1.0, 1.0), "expansion_per_word": (int, 0, 100), "pool_depth": (int, 1, 100_000),
    "note_penalty": (float, -1.0, 2.0), "abstain_below": (float, -1.0, 2.0), "quantity_check": (bool, 0, 1),
}


def short_name(model: str) -> str:
    """Return the short name of an index's model (``all-MiniLM-L6-v2+onnx`` → ``minilm``), else the name."""
    from qa.embed import split_name
    from qa.models import canonical

    return canonical(split_name(model)[0])


def defaults_for(model: str) -> Settings:
    """Return the default settings of a model (its row of MODEL_DEFAULTS; DEFAULT for unknown models)."""
    return MODEL_DEFAULTS.get(short_name(model), DEFAULT)


@dataclass(frozen=True)
class Loaded:
    """The settings an index searches with, where they come from, and a notice when the file was not used."""

    settings: Settings
    source: str  # "<index>/settings.json (tuned …)" or "defaults for <model>"
    notice: str | None = None


def read(index_dir: Path, manifest: dict[str, Any]) -> Loaded:
    """Return the index's settings: its settings.json when valid for its model, else the model's defaults
    (with a one-line notice naming the file and what to do when the file exists but cannot be used)."""
    path = Path(index_dir) / FILE
    model = str(manifest.get("model", ""))
    fallback = Loaded(defaults_for(model), f"defaults for {model or 'an unknown model'}")
    if not path.is_file():
        return fallback
    try:
        data = indexfiles.parse(path.read_text(encoding="utf-8"), str(path))
        settings = _validate(data)
    except (OSError, ValueError) as exc:
        return replace(fallback, notice=f"{path}: not used ({_reason(exc)}); searching with the {fallback.source}; "
                                        f"run qa eval --tune --index {index_dir} to write it again, or delete it")
    if data.get("model") != model or data.get("model_fingerprint", manifest.get("model_fingerprint")) \
            != manifest.get("model_fingerprint"):
        return replace(fallback, notice=f"{path}: tuned for model '{data.get('model')}', the index was built with "
                                        f"'{model}'; searching with the {fallback.source}; "
                                        f"run qa eval --tune --index {index_dir} to tune it for this model")
    tuned = data.get("tuned") if isinstance(data.get("tuned"), dict) else {}
    what = ", ".join(str(tuned[key]) for key in ("questions", "split", "at") if tuned.get(key))
    return Loaded(settings, f"{path}" + (f" (tuned: {what})" if what else ""))


def _reason(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return str(exc).rsplit(": ", 1)[-1] if isinstance(exc, indexfiles.Damaged) else str(exc)


def _validate(data: Any) -> Settings:
    """Return the Settings a settings.json object holds, or raise ValueError saying what is wrong."""
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"not a settings file of format version {FORMAT_VERSION}")
    values = data.get("settings")
    if not isinstance(values, dict):
        raise ValueError("no \"settings\" object")
    indexfiles.check(data, {}, FILE)  # the rest ("tuned") is shown as text: no deeper than a build writes
    known = {f.name for f in fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown setting \"{unknown[0]}\"")
    out: dict[str, Any] = {}
    for name, value in values.items():
        kind, low, high = LIMITS[name]
        if kind is bool:
            if not isinstance(value, bool):
                raise ValueError(f"\"{name}\": expected true or false, got {str(value)[:20]}")
            out[name] = value
            continue
        # compared before math.isfinite, which overflows on an int of 400 digits
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= 1e300 \
            and math.isfinite(value)
        if kind is int:
            ok = ok and float(value).is_integer()
        if not ok or not low <= value <= high:
            raise ValueError(f"\"{name}\": expected a number between {low:g} and {high:g}, got {str(value)[:20]}")
        out[name] = kind(value)
    return Settings(**out)


def write(index_dir: Path, manifest: dict[str, Any], settings: Settings, tuned: dict[str, Any]) -> Path:
    """Write settings.json for the index's model atomically (temp file, then rename); return its path."""
    path = Path(index_dir) / FILE
    data = {"format_version": FORMAT_VERSION, "model": manifest.get("model"),
            "model_fingerprint": manifest.get("model_fingerprint"), "settings": asdict(settings), "tuned": tuned}
    files.write_atomic(path, (json.dumps(data, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))
    return path


def forget_other_model(index_dir: Path, manifest: dict[str, Any]) -> bool:
    """Remove settings.json when it was tuned for another model than the index's (after a build with
    another model); keep it otherwise, a damaged one too (it says so when read). Return True if removed."""
    path = Path(index_dir) / FILE
    try:
        data = indexfiles.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict):
        return False
    same = data.get("model") == manifest.get("model") and \
        data.get("model_fingerprint", manifest.get("model_fingerprint")) == manifest.get("model_fingerprint")
    if same:
        return False
    path.unlink(missing_ok=True)
    return True


def describe(settings: Settings) -> str:
    """Return the settings as one readable line (``dense_weight 0.5, bm25_saturation 5, …``)."""
    return ", ".join(f"{f.name} {str(v).lower() if isinstance(v := getattr(settings, f.name), bool) else format(v, 'g')}"
                     for f in fields(Settings))
