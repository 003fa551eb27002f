"""The semantic stage: what a sentence model says a message is about, per intent.

Two readings of the same vectors:
- `classify`: a softmax classifier (bot/core/classifier.py) trained on every example's vector,
  with the declined near misses as one more class: each intent's probability, and the near
  misses'. This is what the matcher decides with.
- `scores`: each intent's best cosine with one of its examples (the scam checker's
  tie-breaker, and the baselines).

The model sits behind `Encoder`; the core never imports one (bot/models/ holds the adapters and
the start-up code injects one). Example vectors are computed once per content version through
`encode_examples`, and the classifier trained once through `train_head`; the start-up code
points both at an on-disk cache. A resident's message is encoded on demand and kept only in a
small in-memory cache, never on disk. The bot matches in worker threads (a long message must
not hold up everyone else's answers), so that cache is shared under a lock.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.core.classifier import LinearHead, fit_head
from bot.core.normalize import traditional_to_simplified

QUERY_CACHE_SIZE = 1024  # recent messages ("你好", "谢谢" come back all day)
# The model reads at most 200 characters of a message: its time grows with the length (about
# 1.7 ms a character; 3.8 s for 2,000 characters on this project's machine before the cut) and
# Telegram allows 4,096. No example, own question or development question is that long (the
# longest: 125, 117, 71 characters), and the scam checker already read only the first 200.
MODEL_HEAD_CHARS, MODEL_TAIL_CHARS = 150, 50  # a long story's start, and the question at its end
# `validate` asks what the bot would answer to each example were it not an example: the
# classifier is trained again without a fifth of the examples at a time (cached like the rest).
VALIDATION_FOLDS = 5


class Encoder(Protocol):
    """A sentence-embedding model."""

    name: str  # model and version: vectors from different names are never mixed

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text."""
        ...


EncodeExamples = Callable[[Sequence[str]], np.ndarray]
# (vectors, owners, classes, c) -> the classifier; fit_head, or a cache in front of it
TrainHead = Callable[[np.ndarray, np.ndarray, int, float], LinearHead]


@dataclass(frozen=True)
class Reading:
    """The semantic stage's view of one message."""

    intents: np.ndarray  # each intent's probability, aligned with the lexical index's ids
    declined: float  # the probability that it is one of the declined near misses


class SemanticIndex:
    """Every example's vector and its owner, the classifier trained on them, and per-intent
    scores for a message.

    Owners 0 .. n_intents - 1 are intents; owner `n_intents` is the declined near misses
    (intents/ `declines:`): how much the message looks like a question the bot must not answer.
    """

    def __init__(
        self,
        encoder: Encoder,
        texts: Sequence[str],
        owners: Sequence[int],
        n_intents: int,
        encode_examples: EncodeExamples | None = None,
        train_head: TrainHead | None = None,
        c: float = 16.0,
    ) -> None:
        """`c`: the classifier's inverse L2 penalty (content/matching.yaml `semantic_c`)."""
        self.encoder = encoder
        self.n_intents = n_intents
        self.c = c
        self._train = train_head or fit_head
        self.owners = np.asarray(owners, dtype=np.int64)
        # Rows grouped by owner, so per-owner maxima and sums are one reduceat each (ufunc.at
        # is a hundred times slower, and this runs for every message).
        self._by_owner = np.argsort(self.owners, kind="stable")
        grouped = self.owners[self._by_owner]
        self._present = np.unique(grouped)
        self._starts = np.searchsorted(grouped, self._present)
        self._sizes = np.diff([*self._starts, len(grouped)])  # rows per present owner
        vectors = (encode_examples or encoder.encode)(_read(texts)) if texts else None
        self.vectors = (
            np.asarray(vectors, dtype=np.float32)
            if vectors is not None
            else np.zeros((0, 1), np.float32)
        )
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()
        self.head = self.head_without(np.zeros(0, np.int64)) if len(self.owners) else None
        self._held_out: dict[int, LinearHead] = {}

    def vector(self, text: str) -> np.ndarray:
        with self._recent_lock:
            cached = self._recent.get(text)
            if cached is not None:
                self._recent.move_to_end(text)
                return cached
        # Outside the lock: two threads may encode one text at once, which costs only time.
        vector = np.asarray(self.encoder.encode(_read([text]))[0], dtype=np.float32)
        with self._recent_lock:
            self._recent[text] = vector
            if len(self._recent) > QUERY_CACHE_SIZE:
                self._recent.popitem(last=False)
        return vector

    def cache_clear(self) -> None:
        with self._recent_lock:
            self._recent.clear()

    # -- the classifier ------------------------------------------------------------------------

    def classify(self, text: str) -> Reading:
        """Each intent's probability for the message, and the declined near misses'."""
        return self.classify_vector(self.vector(text))

    def classify_vector(self, vector: np.ndarray, held_out: int | None = None) -> Reading:
        """As `classify`, for a vector; `held_out`: as if that example row's fold were not
        there (validate)."""
        head = self.head if held_out is None else self.held_out_head(held_out)
        return self.reading(vector, head)

    def reading(self, vector: np.ndarray, head: LinearHead | None) -> Reading:
        """What `head` says about a vector."""
        if head is None:  # no examples at all: nothing is likely
            return self.unread()
        p = head.probabilities(vector)[0].astype(np.float64)
        return Reading(p[: self.n_intents], float(p[self.n_intents]))

    def unread(self) -> Reading:
        """No evidence: what the stage says about a text it cannot read."""
        return Reading(np.zeros(self.n_intents), 0.0)

    def head_without(self, rows: np.ndarray, c: float | None = None) -> LinearHead:
        """The classifier trained on every example but `rows` (cross-validation), with this
        index's penalty or `c` (fitting)."""
        kept = np.ones(len(self.owners), dtype=bool)
        kept[rows] = False
        classes = self.n_intents + 1
        return self._train(self.vectors[kept], self.owners[kept], classes, c or self.c)

    def held_out_head(self, row: int) -> LinearHead:
        """The classifier trained without the fold of examples that holds `row`: what it
        says about that example were it not an example (validate)."""
        fold = row % VALIDATION_FOLDS
        if fold not in self._held_out:
            rows = np.arange(fold, len(self.owners), VALIDATION_FOLDS)
            self._held_out[fold] = self.head_without(rows)
        return self._held_out[fold]

    # -- nearest examples ----------------------------------------------------------------------

    def scores(
        self, text: str, exclude: int | None = None, sharpness: float = 0.0
    ) -> tuple[np.ndarray, float]:
        """Each intent's score for the message (about a cosine, -1 for an intent with no
        example), and the best cosine with a declined near miss (-1 without any).
        `exclude` leaves example rows out.

        An intent's score is a soft maximum of its examples' cosines: the best one, plus a
        little for each other example nearly as close (`sharpness` sets how little: 0 is the
        plain maximum), so a message several examples agree on scores higher."""
        return self.scores_for(self.vector(text), exclude, sharpness)

    def scores_for(
        self,
        vector: np.ndarray,
        exclude: int | np.ndarray | None = None,
        sharpness: float = 0.0,
    ) -> tuple[np.ndarray, float]:
        """As `scores`, for a vector; `exclude` may be several rows."""
        cosines = (self.vectors @ vector).astype(np.float64)
        if exclude is not None:
            cosines[exclude] = -1.0
        best = np.full(self.n_intents + 1, -1.0)
        if len(self._present):
            grouped = cosines[self._by_owner]
            best[self._present] = np.maximum.reduceat(grouped, self._starts)
            if sharpness > 0:
                # log-sum-exp per owner around its best cosine, so it never overflows
                spread = np.repeat(best[self._present], self._sizes)
                weights = np.where(grouped > -1.0, np.exp((grouped - spread) * sharpness), 0.0)
                totals = np.add.reduceat(weights, self._starts)
                best[self._present] += np.log(np.maximum(totals, 1.0)) / sharpness
        return best[: self.n_intents], float(best[self.n_intents])


def _read(texts: Sequence[str]) -> list[str]:
    """What the model is given: Simplified characters. The examples are written in Simplified,
    and a question typed in Traditional ranked 5 points worse without this (blind 2 converted
    to Traditional: 89.4 % answered right, against 94.4 % as written). A long text is cut to
    its head and tail (MODEL_HEAD_CHARS)."""
    return [traditional_to_simplified(_head_and_tail(text)) for text in texts]


def _head_and_tail(text: str) -> str:
    if len(text) <= MODEL_HEAD_CHARS + MODEL_TAIL_CHARS:
        return text
    return f"{text[:MODEL_HEAD_CHARS]}…{text[-MODEL_TAIL_CHARS:]}"
