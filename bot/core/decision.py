"""The combined matcher: the lexical stage, the semantic stage, and one calibrated decision.

Stages, cheapest first (a cascade):

1. **lexical** (bot/core/matcher.py) scores every intent. When it answers a short message with
   a high score, that answer stands and the model is not asked: greetings, thanks, one-word
   topics, typos and pinyin are what it is best at, and it takes well under a millisecond.
2. **blend**: otherwise the semantic stage (bot/core/semantic.py) gives each intent its
   probability by a classifier over the sentence vectors, and the declined near misses
   theirs. Both stages' scores are put on one scale and added with a fitted weight; the best
   combined intent is the candidate. A logistic model over a few features of that candidate
   (combined score and lead over the runner-up, its probability and lead, whether both
   stages rank it first, how much likelier it is than the near misses) gives the probability
   that it is right.
   Answer at or above `answer_at`; "did you mean" at or above `suggest_at`; otherwise fall
   back. A confident wrong answer is worse than a fallback, and the fit counts it so.

Everything numeric comes from content/matching.yaml, written by `python -m bench.fit_matching`
(cross-validation over intents/ examples and tests/data/dev_out_of_scope.yaml).
Without a model (ANTIFRAUD_SEMANTIC=off, or it cannot load) the lexical stage decides alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np

from bot.core.matcher import PINYIN, IntentIndex
from bot.core.normalize import has_han, latin_words, normalize_text
from bot.core.semantic import Reading, SemanticIndex
from bot.core.types import MatchResult

LEXICAL, BLEND = "lexical", "blend"
# One or two Chinese characters ("冻结", "骗纸", "嗯嗯") or one English word ("thanks") carry no
# context for a sentence model, and they are what keywords, homophones and spelling similarity
# were built for: the lexical stage decides. Two English words are a phrase the model reads
# ("good evening", "many thanks"); until 3 December they were lexical only, and reading them
# lifted the held-out set from 97.0 % to 97.4 % answered right and the English development
# questions from 81.8 % to 84.8 % (python -m bench.bench_accuracy, after re-fitting).
MIN_SEMANTIC_LENGTH = 3  # Han characters plus Latin words, in a message with Chinese
MIN_SEMANTIC_WORDS = 2  # words, in a message without


def too_short_for_model(length: int, latin: bool) -> bool:
    """Whether the lexical stage decides alone however unsure it is (`length`: text_length)."""
    return length < (MIN_SEMANTIC_WORDS if latin else MIN_SEMANTIC_LENGTH)


FEATURES = (
    "combined",  # the candidate's combined score
    "lead",  # ... minus the runner-up's
    "semantic",  # the candidate's rescaled classifier probability (0-1)
    "semantic_lead",  # ... minus the best other intent's
    "agree",  # 1 when the lexical and the semantic stage both rank the candidate first
    "decline_gap",  # the candidate's probability minus the declined near misses'
    "latin",  # 1 for a message without Chinese characters: the model reads them less well
)
# Not the message's length, nor the lexical score on its own: the project's examples are short
# and share words with each other, residents' questions are long and do not, so a weight fitted
# on either would not carry over (measured: both made the development set worse).


@dataclass(frozen=True)
class BlendSettings:
    semantic_weight: float = 0.6  # combined = (1 - w) * lexical + w * semantic
    semantic_floor: float = 0.0  # a probability at or below this is no evidence at all
    semantic_c: float = 16.0  # the classifier's inverse L2 penalty (bot/core/classifier.py)
    answer_at: float = 0.5  # probability that the candidate is right, to answer
    suggest_at: float = 0.3  # ... to offer it (and close ones) as "did you mean"
    skip_model_score: float = 101.0  # lexical answers scoring this ... skip the model
    skip_model_length: float = 0.0  # ... for messages at most this long (characters/words)
    bias: float = 0.0
    w_combined: float = 4.0
    w_lead: float = 4.0
    w_semantic: float = 0.0
    w_semantic_lead: float = 0.0
    w_agree: float = 1.0
    w_decline_gap: float = 0.0
    w_latin: float = 0.0

    @classmethod
    def from_settings(cls, settings: dict[str, float]) -> BlendSettings:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in settings.items() if k in known})

    @property
    def weights(self) -> np.ndarray:
        return np.array([getattr(self, f"w_{name}") for name in FEATURES])


BLEND_SETTINGS = frozenset(f.name for f in fields(BlendSettings))


def text_length(raw: str) -> int:
    """Han characters plus Latin words: how much a message says, in any language."""
    normalized = normalize_text(raw)
    han = sum(1 for c in normalized if has_han(c))
    return han + len(latin_words(normalized))


@dataclass(frozen=True)
class Evidence:
    """Both stages' scores for one message, aligned with the lexical index's intent ids."""

    lexical: np.ndarray  # 0-100
    semantic: np.ndarray  # the classifier's probability, 0-1
    length: int
    decline: float = 0.0  # the classifier's probability of the declined near misses
    latin: bool = False  # written without Chinese characters


def combine(evidence: Evidence, blend: BlendSettings) -> tuple[np.ndarray, np.ndarray]:
    """Combined per-intent scores, and the feature row of the best one."""
    lexical = evidence.lexical / 100.0
    semantic = np.clip(
        (evidence.semantic - blend.semantic_floor) / max(1e-6, 1.0 - blend.semantic_floor), 0, 1
    )
    w = blend.semantic_weight
    combined = (1 - w) * lexical + w * semantic
    order = np.argsort(-combined, kind="stable")
    top, second = int(order[0]), int(order[1])
    others = np.delete(semantic, top)
    row = np.array(
        [
            combined[top],
            combined[top] - combined[second],
            semantic[top],
            semantic[top] - others.max(),
            float(int(np.argmax(lexical)) == top and int(np.argmax(semantic)) == top),
            evidence.semantic[top] - evidence.decline,
            float(evidence.latin),
        ]
    )
    return combined, row


def probability(row: np.ndarray, blend: BlendSettings) -> float:
    z = blend.bias + float(row @ blend.weights)
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class Matcher:
    """What the Responder asks: the lexical index, optionally the semantic one, one decision."""

    def __init__(
        self,
        lexical: IntentIndex,
        semantic: SemanticIndex | None = None,
        blend: BlendSettings | None = None,
    ) -> None:
        self.lexical = lexical
        self.semantic = semantic
        self.blend = blend or BlendSettings()

    def match(self, raw: str, lang_hint: str = "zh") -> MatchResult:
        text = self.lexical.read(raw)
        lang = text.lang if text.units and any(c.isalpha() for c in raw) else lang_hint
        ranked = self.lexical.ranked(text)
        semantic = self.semantic
        if not text.units or semantic is None:
            return self.lexical.decide(ranked, lang)
        pinyin = text.kind == PINYIN
        return self._cascade(raw, pinyin, ranked, lang, lambda: semantic.classify(raw.strip()))

    def match_example(self, example: str, lang: str, lexical_row: int, semantic_row: int):
        """What the bot would answer to one of its own examples were that example not in
        either index (validation): the same cascade and decision as `match`."""
        text = self.lexical.read(example)
        ranked = self.lexical.ranked(text, exclude=lexical_row)
        semantic = self.semantic
        if semantic is None:
            return self.lexical.decide(ranked, lang)
        vector = semantic.vectors[semantic_row]
        return self._cascade(
            example,
            text.kind == PINYIN,
            ranked,
            lang,
            lambda: semantic.classify_vector(vector, semantic_row),
        )

    def _cascade(
        self,
        raw: str,
        pinyin: bool,
        ranked: list[tuple[str, float]],
        lang: str,
        semantic: Callable[[], Reading],
    ) -> MatchResult:
        lexical = self.lexical.decide(ranked, lang)
        if self.semantic is None:
            return lexical
        length, latin = text_length(raw), not has_han(raw)
        b = self.blend
        if too_short_for_model(length, latin) or (
            lexical.intent and lexical.score >= b.skip_model_score and length <= b.skip_model_length
        ):
            return lexical
        # Pinyin typed in Latin letters is noise to the model, and its classifier is sure of
        # something even about noise: it gives no evidence, and the lexical stage's syllables
        # must carry the decision alone.
        seen = self.semantic.unread() if pinyin else semantic()
        evidence = Evidence(self._aligned(ranked), seen.intents, length, seen.declined, latin)
        return self.decide(evidence, lang)

    def _aligned(self, ranked: list[tuple[str, float]]) -> np.ndarray:
        scores = dict(ranked)
        return np.array([scores[i] for i in self.lexical.intent_ids])

    def decide(self, evidence: Evidence, lang: str = "zh") -> MatchResult:
        """Answer, ask "did you mean", or fall back, from both stages' scores."""
        ids = self.lexical.intent_ids
        combined, row = combine(evidence, self.blend)
        order = np.argsort(-combined, kind="stable")[:3]
        best, second = ids[int(order[0])], ids[int(order[1])]
        p = probability(row, self.blend)
        confidence = round(100.0 * p, 1)
        semantic_score = round(float(evidence.semantic[int(order[0])]), 3)
        runner_up_score = round(100.0 * float(combined[int(order[1])]), 1)
        common = {"stage": BLEND, "semantic_score": semantic_score, "lang": lang}
        if p >= self.blend.answer_at:
            return MatchResult(best, confidence, second, runner_up_score, (), **common)
        if p >= self.blend.suggest_at:
            # Offer the candidates whose combined score is close to the best one's.
            close = tuple(
                ids[int(n)] for n in order if combined[int(order[0])] - combined[int(n)] < 0.05
            )
            choices = close if len(close) >= 2 else (best,)
            return MatchResult(None, confidence, second, runner_up_score, choices, **common)
        return MatchResult(None, confidence, second, runner_up_score, (), **common)
