"""Example vectors and the classifier trained on them, on disk, so a warm start neither runs
the model over every example nor trains again.

Vectors: one file per model (its name and version in the file name); each row is keyed by a
hash of the example's text, so a changed example is the only one recomputed (on /reload too).
Classifiers: one small file each, keyed by a hash of everything they are trained on (the
vectors, their owners, the penalty), so any changed example trains a new one (a second or
two) and the newest few are kept. Only examples from intents/ are stored, never what
residents write. Files are replaced atomically; one that cannot be read is ignored and
rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.core.classifier import LinearHead, fit_head
from bot.core.semantic import Encoder

log = logging.getLogger(__name__)
BATCH = 64
MAX_ROWS = 50_000  # several content versions' worth; older rows beyond this are dropped
KEPT_HEADS = 16  # the bot's classifier and validate's held-out ones, for a few versions
HEAD_FORMAT = 1  # bumped when bot/core/classifier.py trains differently


def _slug(encoder: Encoder) -> str:
    """The model's name and version, as a file name can hold them."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", encoder.name)


def _key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class CachedExampleVectors:
    """`encode_examples` for SemanticIndex: the cache first, the model for what is missing."""

    def __init__(self, encoder: Encoder, folder: Path | None) -> None:
        self.encoder = encoder
        self.path = folder / f"vectors-{_slug(encoder)}.npz" if folder else None

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        stored = self._load()
        keys = [_key(t) for t in texts]
        missing = list(
            dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in stored)
        )
        if missing:
            started = time.perf_counter()
            log.info(
                "semantic stage: computing %d example vector(s) with %s (first start or "
                "changed examples; a warm start reads them from %s)",
                len(missing),
                self.encoder.name,
                self.path or "nowhere: no cache folder",
            )
            for start in range(0, len(missing), BATCH):
                batch = missing[start : start + BATCH]
                vectors = self.encoder.encode(batch)
                for text, vector in zip(batch, vectors, strict=True):
                    stored[_key(text)] = np.asarray(vector, np.float32)
            log.info("semantic stage: done in %.1f s", time.perf_counter() - started)
            self._save(stored, set(keys))
        return np.stack([stored[k] for k in keys]) if keys else np.zeros((0, 1), np.float32)

    def _load(self) -> dict[str, np.ndarray]:
        if self.path is None or not self.path.exists():
            return {}
        try:
            with np.load(self.path, allow_pickle=False) as data:
                keys, vectors = data["keys"], data["vectors"]
                if vectors.ndim != 2 or len(keys) != len(vectors):
                    raise ValueError("keys and vectors differ in length")
                return {str(k): v for k, v in zip(keys, vectors, strict=True)}
        except Exception as exc:  # any damage: start again, the model can recompute it all
            log.warning("semantic stage: ignoring unreadable cache %s (%s)", self.path, exc)
            return {}

    def _save(self, stored: dict[str, np.ndarray], current: set[str]) -> None:
        if self.path is None:
            return
        # Current rows first, so trimming to MAX_ROWS drops only rows no longer in use.
        order = [k for k in stored if k in current] + [k for k in stored if k not in current]
        order = order[:MAX_ROWS]
        _write_atomically(
            self.path, keys=np.array(order), vectors=np.stack([stored[k] for k in order])
        )


class CachedHeads:
    """`train_head` for SemanticIndex: a classifier trained on exactly these vectors is read
    back; any other is trained (bot.core.classifier.fit_head) and stored."""

    def __init__(self, encoder: Encoder, folder: Path | None) -> None:
        self.folder = folder
        self.slug = _slug(encoder)

    def __call__(self, vectors: np.ndarray, owners: np.ndarray, classes: int, c: float):
        digest = hashlib.sha256(f"{HEAD_FORMAT}:{classes}:{c!r}:".encode())
        digest.update(np.ascontiguousarray(vectors, np.float32).tobytes())
        digest.update(np.ascontiguousarray(owners, np.int64).tobytes())
        path = (
            self.folder / f"head-{self.slug}-{digest.hexdigest()[:32]}.npz" if self.folder else None
        )
        stored = _read_head(path)
        if stored is not None:
            return stored
        started = time.perf_counter()
        log.info(
            "semantic stage: training the classifier over %d example vectors (first start or "
            "changed examples)",
            len(vectors),
        )
        head = fit_head(vectors, owners, classes, c)
        log.info("semantic stage: trained in %.1f s", time.perf_counter() - started)
        if path is not None:
            _write_atomically(path, weights=head.weights)
            self._prune()
        return head

    def _prune(self) -> None:
        heads = sorted(
            self.folder.glob(f"head-{self.slug}-*.npz"),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        for old in heads[KEPT_HEADS:]:
            old.unlink(missing_ok=True)


def _read_head(path: Path | None) -> LinearHead | None:
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            weights = data["weights"]
        if weights.ndim != 2:
            raise ValueError("weights are not a matrix")
        path.touch()  # in use: the last to be pruned
        return LinearHead(weights)
    except Exception as exc:  # any damage: train again
        log.warning("semantic stage: ignoring unreadable cache %s (%s)", path, exc)
        return None


def _write_atomically(path: Path, **arrays: np.ndarray) -> None:
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays)
        os.replace(temporary, path)  # readers see the old file or the new, never half
        temporary = None
    except OSError as exc:
        log.warning("semantic stage: cannot write the cache %s (%s)", path, exc)
    finally:
        if temporary is not None:
            Path(temporary).unlink(missing_ok=True)
