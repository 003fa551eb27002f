"""The semantic stage: nearest examples by sentence-embedding cosine, per intent.

The model sits behind `Encoder`; the core never imports one (bot/models/ holds the adapters and
the start-up code injects one). Example vectors are computed once per content version through
`encode_examples`, which the start-up code points at an on-disk cache; a resident's message is
encoded on demand and kept only in a small in-memory cache, never on disk.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

QUERY_CACHE_SIZE = 1024  # recent messages ("你好", "谢谢" come back all day)


class Encoder(Protocol):
    """A sentence-embedding model."""

    name: str  # model and version: vectors from different names are never mixed

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text."""
        ...


EncodeExamples = Callable[[Sequence[str]], np.ndarray]


class SemanticIndex:
    """Every example's vector and its intent; per-intent best cosine for a message."""

    def __init__(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        owners: Sequence[int],
        n_intents: int,
        encode_examples: EncodeExamples | None = None,
    ) -> None:
        self.encoder = encoder
        self.n_intents = n_intents
        self.owners = np.asarray(owners, dtype=np.int64)
        vectors = (encode_examples or encoder.encode)(list(texts)) if texts else None
        self.vectors = (
            np.asarray(vectors, dtype=np.float32)
            if vectors is not None
            else np.zeros((0, 1), np.float32)
        )
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def vector(self, text: str) -> np.ndarray:
        cached = self._recent.get(text)
        if cached is not None:
            self._recent.move_to_end(text)
            return cached
        vector = np.asarray(self.encoder.encode([text])[0], dtype=np.float32)
        self._recent[text] = vector
        if len(self._recent) > QUERY_CACHE_SIZE:
            self._recent.popitem(last=False)
        return vector

    def cache_clear(self) -> None:
        self._recent.clear()

    def scores(self, text: str, exclude: int | None = None) -> np.ndarray:
        """Each intent's best cosine with the message, in [-1, 1]; -1 for an intent with no
        example. `exclude` leaves one example row out (validation, cross-validation)."""
        return self.scores_for(self.vector(text), exclude)

    def scores_for(self, vector: np.ndarray, exclude: int | np.ndarray | None = None) -> np.ndarray:
        """As `scores`, for a vector; `exclude` may be several rows (cross-validation folds)."""
        cosines = self.vectors @ vector
        if exclude is not None:
            cosines[exclude] = -1.0
        best = np.full(self.n_intents, -1.0)
        np.maximum.at(best, self.owners, cosines.astype(np.float64))
        return best

    def example_scores(self) -> np.ndarray:
        """Leave-one-out per-intent scores of every example at once (one matrix product),
        for validation: row r is example r's scores with itself left out."""
        cosines = (self.vectors @ self.vectors.T).astype(np.float64)
        np.fill_diagonal(cosines, -1.0)
        best = np.full((len(self.owners), self.n_intents), -1.0)
        for intent in range(self.n_intents):
            columns = self.owners == intent
            if columns.any():
                best[:, intent] = cosines[:, columns].max(axis=1)
        return best
