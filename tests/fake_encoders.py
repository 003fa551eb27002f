"""A stand-in sentence model for tests of the plumbing (accuracy tests use the real one)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np


class CountingEncoder:
    """Unit vectors from a text's checksum (the same in every run, unlike `hash`); remembers
    every text it was asked to encode."""

    name = "counting-test-encoder/1"

    def __init__(self) -> None:
        self.seen: list[str] = []

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.seen.extend(texts)
        rows = [np.random.default_rng(zlib.crc32(t.encode())).normal(size=8) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)
