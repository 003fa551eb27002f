"""Intent matching, tuned for short Chinese messages, typos, pinyin and English.

Every text (example or query) becomes a set of *units*: for Chinese, the toneless pinyin
syllable of each character and each pair of neighbouring syllables; for English, content
words and word pairs. Pinyin makes homophone typos (返诈 for 反诈, 头亏 for 头盔) and pinyin
typed in Latin letters land on the same units as the words meant. Units are weighted by how
few intents use them (IDF over intents), so 我/怎么/what say little and 安全账户/helmet a lot.

An intent's score blends three kinds of evidence, each in [0, 1]:

* example: the best weighted overlap between the query and one example of the intent;
* coverage: how much of the query the intent's examples explain taken together;
* keywords: a phrase that on its own points at the intent appears in the query, found with
  rapidfuzz so that a one-letter slip still counts.

Decision: answer the best intent when it clears the threshold and leads the runner-up by a
margin; offer "did you mean" when the top two are close or the best is merely plausible;
otherwise fall back. A confident wrong answer is worse than a fallback.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.model import Intent
from bot.core.normalize import compact, has_han, latin_words, normalize_text, to_pinyin
from bot.core.types import MatchResult

EN_STOPWORDS = frozenset(
    "a an the is are was were be been am do does did i me my you your it its to of in on at "
    "for and or but with this that there what how can could should would will please so "
    "some any if about from by as up just now he she they them his her we our us".split()
)
_SYLLABLE = re.compile(r"^[a-z]+$")
# Whole-string similarity is only trusted between short texts: in long ones, a high ratio
# comes from shared filler as easily as from shared meaning.
SHORT_TEXT = 8


@dataclass(frozen=True)
class MatchSettings:
    threshold: float = 34.0  # answer at or above this score
    margin: float = 2.0  # ... and only when the runner-up is at least this far behind
    suggest_floor: float = 26.0  # plausible: between this and the threshold, ask
    clear_lead: float = 25.0  # ... unless the best leads everything else by this much
    example_weight: float = 0.45
    coverage_weight: float = 0.3
    keyword_weight: float = 0.25
    typical_share_full: float = 0.25  # a unit in this share of an intent's examples is typical
    # F-beta of the example overlap: beta > 1 favours explaining the query (recall) over
    # repeating the example (precision), since residents ask briefly and examples spell out.
    recall_beta: float = 2.5
    spelling_weight: float = 0.85  # how much a whole-string near-miss counts as an example hit


def _stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _pairs(tokens: list[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False)]


class _KeywordTable:
    """Keyword parts flattened for one rapidfuzz call; `starts` marks each keyword's first part."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._owners: list[int] = []
        self._weights: list[float] = []
        self._starts: list[int] = []

    def add(self, owner: int, parts: list[str], weight: float) -> None:
        parts = [p for p in parts if p]
        if not parts:
            return
        self._starts.append(len(self.parts))
        self.parts.extend(parts)
        self._owners.append(owner)
        self._weights.append(weight)

    def freeze(self) -> None:
        self.owners = np.array(self._owners, dtype=np.int64)
        self.weights = np.array(self._weights)
        self.starts = np.array(self._starts, dtype=np.int64)
        self.lengths = np.array([len(p) for p in self.parts])
        self.long_parts = self.lengths >= 8


@dataclass(frozen=True)
class _Text:
    """A text reduced to what the matcher compares."""

    script: str  # "zh" or "en"
    units: frozenset[str]
    pinyin_compact: str  # for keyword look-up ("" for English)
    spelling: str = ""  # the text as one string (pinyin or words), for whole-string similarity


class IntentIndex:
    """All intents' examples and keywords, pre-processed once at load."""

    def __init__(self, intents: dict[str, Intent], settings: MatchSettings | None = None) -> None:
        self.settings = settings or MatchSettings()
        self.intent_ids: list[str] = sorted(intents)
        self.thresholds = {i: intents[i].threshold for i in self.intent_ids}
        self._syllables: set[str] = set()
        self._en_vocabulary: set[str] = set()

        examples: list[tuple[int, _Text]] = []
        # (intent, language, position in the YAML list) -> row in the index
        self.example_rows: dict[tuple[str, str, int], int] = {}
        for position, intent_id in enumerate(self.intent_ids):
            for lang in ("zh", "en"):
                for number, example in enumerate(intents[intent_id].examples.get(lang, ())):
                    text = self._read(example, learn=True)
                    if text.units:
                        self.example_rows[(intent_id, lang, number)] = len(examples)
                        examples.append((position, text))
                # A keyword is also the shortest possible example: "thx" alone is thanks.
                for keyword in intents[intent_id].keywords.get(lang, ()):
                    text = self._read(keyword.replace("&", " "), learn=True)
                    if text.units:
                        examples.append((position, text))
        self._build_units(examples)
        self._build_keywords(intents)
        self._en_vocabulary_list = sorted(self._en_vocabulary)

    # -- reading texts ----------------------------------------------------------------------

    def _read(self, raw: str, learn: bool = False) -> _Text:
        normalized = normalize_text(raw)
        if has_han(normalized):
            syllables = to_pinyin(normalized).split()
            if learn:
                self._syllables.update(s for s in syllables if _SYLLABLE.match(s))
            return _Text("zh", frozenset(syllables + _pairs(syllables)), "".join(syllables),
                         "".join(syllables))
        words = latin_words(normalized)
        if not learn and words:
            syllables = self._as_pinyin(words)
            if syllables:
                return _Text("zh", frozenset(syllables + _pairs(syllables)), "".join(syllables),
                             "".join(syllables))
        stems = [_stem(w) for w in words if w not in EN_STOPWORDS]
        if learn:
            self._en_vocabulary.update(stems)
        else:
            stems = [self._correct_word(w) for w in stems]
        return _Text("en", frozenset(stems + _pairs(stems)), "", " ".join(words))

    def _as_pinyin(self, words: list[str]) -> list[str] | None:
        """Split Latin letters into known pinyin syllables, or None if they are English.

        "anquan zhanghu" and "anquanzhanghu" both read as an quan zhang hu. A run counts as
        pinyin only if every word splits completely and no word is a known English word.
        """
        if any(w in self._en_vocabulary and w not in self._syllables for w in words):
            return None
        syllables: list[str] = []
        for word in words:
            split = self._split_syllables(word)
            if split is None:
                return None
            syllables.extend(split)
        return syllables

    def _split_syllables(self, word: str) -> list[str] | None:
        # Fewest syllables wins: "xian" stays one syllable rather than xi + an.
        best: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(1, len(word) + 1):
            for start in range(max(0, end - 6), end):
                head = best[start]
                if head is not None and word[start:end] in self._syllables and (
                    best[end] is None or len(head) + 1 < len(best[end])  # type: ignore[arg-type]
                ):
                    best[end] = [*head, word[start:end]]
        return best[len(word)]

    def _correct_word(self, word: str) -> str:
        """Map a misspelt English word to the vocabulary ("helmt" -> "helmet")."""
        if word in self._en_vocabulary or len(word) < 5:
            return word
        found = process.extractOne(word, self._en_vocabulary_list, scorer=fuzz.ratio,
                                   score_cutoff=85)
        return found[0] if found else word

    # -- the index --------------------------------------------------------------------------

    def _build_units(self, examples: list[tuple[int, _Text]]) -> None:
        n_intents = len(self.intent_ids)
        intents_using: dict[str, set[int]] = {}
        for owner, text in examples:
            for unit in text.units:
                intents_using.setdefault(unit, set()).add(owner)
        # An unseen unit is as informative as the rarest: it is something no intent explains.
        self._unseen_weight = math.log(1 + n_intents / 0.5)
        self._weight = {u: math.log(1 + n_intents / len(owners))
                        for u, owners in intents_using.items()}
        self._example_owner = np.array([owner for owner, _ in examples], dtype=np.int64)
        self._example_mass = np.array([self._mass(text.units) for _, text in examples])
        self._example_strings = [text.spelling for _, text in examples]
        self._example_is_short = np.array([len(t) <= 2 * SHORT_TEXT for t in self._example_strings])
        postings: dict[str, list[int]] = {}
        for number, (_, text) in enumerate(examples):
            for unit in text.units:
                postings.setdefault(unit, []).append(number)
        self._postings = {u: np.array(p, dtype=np.int64) for u, p in postings.items()}
        self._intent_postings = {u: np.array(sorted(o), dtype=np.int64)
                                 for u, o in intents_using.items()}
        # How typical a unit is of an intent: the share of its examples that use it, capped.
        # 多少 in most of helmet.stats's examples says "stats" more than its one use in rules.
        per_intent = np.bincount([owner for owner, _ in examples], minlength=n_intents)
        uses: dict[tuple[str, int], int] = {}
        for owner, text in examples:
            for unit in text.units:
                uses[(unit, owner)] = uses.get((unit, owner), 0) + 1
        self._typicality = {
            u: np.array([min(1.0, self.settings.typical_share_full and
                             uses[(u, o)] / per_intent[o] / self.settings.typical_share_full)
                         for o in sorted(owners)])
            for u, owners in intents_using.items()
        }
        self._example_units = [text.units for _, text in examples]
        # How many of an intent's examples use a unit: leaving one example out must drop
        # the unit from the intent's coverage only if no other example has it.
        self._unit_uses: dict[tuple[str, int], int] = {}
        for owner, text in examples:
            for unit in text.units:
                self._unit_uses[(unit, owner)] = self._unit_uses.get((unit, owner), 0) + 1

    def _mass(self, units: frozenset[str]) -> float:
        return sum(self._weight.get(u, self._unseen_weight) for u in units) or 1.0

    def _build_keywords(self, intents: dict[str, Intent]) -> None:
        """Keywords may be compound: "头盔&多少" needs both parts, in any order."""
        self._zh_keywords = _KeywordTable()
        self._en_keywords = _KeywordTable()
        for position, intent_id in enumerate(self.intent_ids):
            keywords = intents[intent_id].keywords
            for keyword in keywords.get("zh", ()):
                parts = [to_pinyin(normalize_text(p)).replace(" ", "") for p in keyword.split("&")]
                syllables = sum(len(to_pinyin(normalize_text(p)).split()) for p in keyword.split("&"))
                # Longer phrases are more specific: 安全账户 says more than 账户.
                self._zh_keywords.add(position, parts, min(1.0, 0.5 + 0.15 * syllables))
            for keyword in keywords.get("en", ()):
                parts = [" ".join(_stem(w) for w in latin_words(normalize_text(p))
                                  if w not in EN_STOPWORDS) for p in keyword.split("&")]
                words = sum(len(p.split()) for p in parts)
                self._en_keywords.add(position, parts, min(1.0, 0.6 + 0.2 * words))
        self._zh_keywords.freeze()
        self._en_keywords.freeze()

    # -- scoring ----------------------------------------------------------------------------

    def _per_intent_max(self, owner: np.ndarray, values: np.ndarray) -> np.ndarray:
        best = np.zeros(len(self.intent_ids))
        np.maximum.at(best, owner, values)
        return best

    def _overlap(self, text: _Text, exclude: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Best single-example match and joint coverage of the query, per intent.

        `exclude` leaves one example row out, as if it were not in the index.
        """
        overlap = np.zeros(len(self._example_owner))
        covered = np.zeros(len(self.intent_ids))
        for unit in text.units:
            weight = self._weight.get(unit)
            if weight is None:
                continue
            overlap[self._postings[unit]] += weight
            covered[self._intent_postings[unit]] += weight * self._typicality[unit]
        if exclude is not None:
            overlap[exclude] = 0.0
            owner = int(self._example_owner[exclude])
            for unit in text.units & self._example_units[exclude]:
                if self._unit_uses.get((unit, owner)) == 1:
                    position = int(np.searchsorted(self._intent_postings[unit], owner))
                    covered[owner] -= self._weight[unit] * self._typicality[unit][position]
        query_mass = self._mass(text.units)
        # Both directions matter: how much of the query the example explains, and how much
        # of the example the query repeats. The query's side counts more: residents ask
        # briefly, examples spell things out.
        recall = overlap / query_mass
        precision = overlap / self._example_mass
        beta2 = self.settings.recall_beta ** 2
        example = (1 + beta2) * precision * recall / np.maximum(beta2 * precision + recall, 1e-9)
        # Whole-string similarity catches a slip that breaks every unit of a short text
        # ("hiya" for "hi ya", "thx" for "thanks"): rapidfuzz's normalised Indel ratio.
        if self.settings.spelling_weight and 0 < len(text.spelling) <= SHORT_TEXT:
            spelling = process.cdist([text.spelling], self._example_strings,
                                     scorer=fuzz.ratio, dtype=np.float64)[0] / 100.0
            spelling *= self._example_is_short
            example = np.maximum(example, self.settings.spelling_weight * spelling)
        if exclude is not None:
            example[exclude] = 0.0
        return self._per_intent_max(self._example_owner, example), covered / query_mass

    def _keyword_hits(self, text: _Text) -> np.ndarray:
        """Noisy-OR over the intent's keywords found in the query, in [0, 1]."""
        miss = np.ones(len(self.intent_ids))
        if text.script == "zh" and text.pinyin_compact:
            table, query = self._zh_keywords, text.pinyin_compact
            scorer = fuzz.partial_ratio
        elif text.script == "en" and text.units:
            table, query = self._en_keywords, " ".join(sorted(u for u in text.units if "_" not in u))
            scorer = fuzz.partial_token_set_ratio
        else:
            return 1.0 - miss
        if not table.parts:
            return 1.0 - miss
        found = process.cdist([query], table.parts, scorer=scorer)[0]
        # partial_ratio also scores the query found inside a longer keyword ("dingyue" inside
        # "quxiaodingyue"); only a keyword inside the query is evidence.
        inside = table.lengths <= len(query)
        # Exact sounds (the word, a homophone, or typed pinyin) count fully; for a long
        # enough pinyin phrase, one letter off still counts as a typo of it.
        typo = (found >= 87) & table.long_parts & (text.script == "zh")
        part_strength = np.where(found >= 99.9, 1.0, np.where(typo, 0.8, 0.0)) * inside
        strength = np.minimum.reduceat(part_strength, table.starts)
        np.multiply.at(miss, table.owners, 1.0 - table.weights * strength)
        return 1.0 - miss

    def scores(self, raw: str, exclude: int | None = None) -> list[tuple[str, float]]:
        """Every intent with its score (0-100), best first; `exclude` leaves an example out."""
        return self._scores(self._read(raw), exclude)

    def _scores(self, text: _Text, exclude: int | None = None) -> list[tuple[str, float]]:
        if not text.units:
            return [(i, 0.0) for i in self.intent_ids]
        example, coverage = self._overlap(text, exclude)
        keywords = self._keyword_hits(text)
        s = self.settings
        total = 100.0 * (s.example_weight * example + s.coverage_weight * coverage
                         + s.keyword_weight * keywords)
        order = np.argsort(-total, kind="stable")
        return [(self.intent_ids[n], round(float(total[n]), 1)) for n in order]

    # -- decision ---------------------------------------------------------------------------

    def match(self, raw: str, lang_hint: str = "zh") -> MatchResult:
        """Decide what to do with one message; `lang_hint` is used when the text has no words."""
        text = self._read(raw)
        # Chinese characters or pinyin read as Chinese; other letters as English.
        lang = text.script if text.units and any(c.isalpha() for c in raw) else lang_hint
        return self.decide(self._scores(text), lang)

    def decide(self, ranked: list[tuple[str, float]], lang: str = "zh") -> MatchResult:
        """Answer, ask "did you mean", or fall back, from intents ranked best first."""
        (best, best_score), (second, second_score) = ranked[0], ranked[1]
        s = self.settings
        threshold = self.thresholds.get(best) or s.threshold
        close = [i for i, score in ranked[:3]
                 if score >= s.suggest_floor and best_score - score < s.margin]
        lead = best_score - second_score
        if (best_score >= threshold and len(close) < 2) or (
            best_score >= s.suggest_floor and lead >= s.clear_lead
        ):
            return MatchResult(best, best_score, second, second_score, (), lang)
        if best_score >= s.suggest_floor:
            choices = tuple(close) if len(close) >= 2 else (best,)
            return MatchResult(None, best_score, second, second_score, choices, lang)
        return MatchResult(None, best_score, second, second_score, (), lang)
