"""Intent matching, tuned for short Chinese messages, typos, pinyin and English.

Every text (example or query) becomes a set of *units*, weighted by how few intents use them
(IDF over intents), so 我/怎么/what say little and 账户/helmet a lot:

* Chinese: each character, and each pair of neighbouring syllables in pinyin. Characters
  keep unrelated homophones apart (建议 is not 荐一); pinyin pairs make a homophone typo
  (返诈 for 反诈, 头亏 for 头盔) still share most units with the word meant.
* Pinyin typed in Latin letters ("anquan zhanghu", "toukui"): syllables and syllable pairs.
* English: content words (lightly stemmed, misspellings corrected with rapidfuzz) and pairs.

An intent's score blends three kinds of evidence, each in [0, 1]:

* example: the best F-beta overlap between the query and one example of the intent (for
  short texts, rapidfuzz's whole-string ratio too, so one slip in "thanks" still counts);
* coverage: how much of the query the intent's examples explain taken together;
* keywords: a phrase that on its own points at the intent is in the query. In Chinese a
  keyword may be written with one character in three replaced by a homophone; in typed
  pinyin rapidfuzz allows a one-letter slip in a long phrase. "a&b" needs both parts.

Decision: answer the best intent when it clears the threshold and leads the runner-up by a
margin, or when it leads everything else by a wide gap; offer "did you mean" when the top two
are close or the best is merely plausible; otherwise fall back. A confident wrong answer is
worse than a fallback.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
from rapidfuzz import fuzz, process

from bot.content.model import Intent
from bot.core.normalize import han_tokens, has_han, latin_words, normalize_text
from bot.core.types import MatchResult

# fmt: off
EN_STOPWORDS = frozenset((
    "a", "an", "the", "is", "are", "was", "were", "be", "been", "am", "do", "does", "did", "i",
    "me", "my", "you", "your", "it", "its", "to", "of", "in", "on", "at", "for", "and", "or",
    "but", "with", "this", "that", "there", "what", "how", "can", "could", "should", "would",
    "will", "please", "so", "some", "any", "if", "about", "from", "by", "as", "up", "just",
    "now", "he", "she", "they", "them", "his", "her", "we", "our", "us",
))
# fmt: on
_SYLLABLE = re.compile(r"^[a-z]+$")
# Whole-string similarity is only trusted between short texts: in long ones, a high ratio
# comes from shared filler as easily as from shared meaning.
SHORT_TEXT = 8
HAN, PINYIN, ENGLISH = "han", "pinyin", "en"


@dataclass(frozen=True)
class MatchSettings:
    threshold: float = 26.0  # answer at or above this score
    margin: float = 2.0  # ... and only when the runner-up is at least this far behind
    suggest_floor: float = 18.0  # plausible: between this and the threshold, ask
    clear_lead: float = 20.0  # ... unless the best leads everything else by this much
    clear_ratio: float = 2.5  # ... or scores this many times the runner-up
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


def _pairs(tokens: Iterable[str]) -> list[str]:
    return [f"{a}_{b}" for a, b in pairwise(tokens)]


def _english_stems(text: str) -> list[str]:
    words = latin_words(normalize_text(text))
    # "what can you do" is nothing but stop words, and still a question: keep them then.
    content = [w for w in words if w not in EN_STOPWORDS] or words
    return [_stem(w) for w in content]


@dataclass(frozen=True)
class _Text:
    """A text reduced to what the matcher compares."""

    kind: str  # HAN, PINYIN or ENGLISH
    units: frozenset[str]
    spelling: str = ""  # the whole text as one string, for short-text similarity
    tokens: tuple[tuple[str, str], ...] = ()  # (character, syllable) pairs, Chinese only
    # For examples only: the units a pinyin query can share (syllables instead of characters)
    pinyin_units: frozenset[str] = field(default_factory=frozenset)

    @property
    def lang(self) -> str:
        return "en" if self.kind == ENGLISH else "zh"


_LATIN_RUN = re.compile(r"[a-z0-9]+")


class _Rewriter:
    """Colloquial and chat-speak forms to standard ones, from content/ (咋 -> 怎么, thx -> thanks).

    Chinese forms are replaced wherever they occur (longest first); English ones as whole words.
    Latin words in the Chinese table are the English a Chinese message borrows (我被scam了):
    they are replaced as whole words, and only in a Chinese message.
    """

    def __init__(self, rewrites: dict[str, dict[str, str]]) -> None:
        zh = {normalize_text(k): normalize_text(v) for k, v in rewrites.get("zh", {}).items()}
        self._zh = sorted(
            ((k, v) for k, v in zh.items() if k and not k.isascii()), key=lambda kv: -len(kv[0])
        )
        self._zh_borrowed = {k: v for k, v in zh.items() if k and k.isascii()}
        self._en = {normalize_text(k): normalize_text(v) for k, v in rewrites.get("en", {}).items()}

    def __call__(self, normalized: str) -> str:
        if has_han(normalized):
            for old, new in self._zh:
                normalized = normalized.replace(old, new)
            if self._zh_borrowed:
                normalized = _LATIN_RUN.sub(
                    lambda m: self._zh_borrowed.get(m.group(0), m.group(0)), normalized
                )
        if self._en:
            normalized = " ".join(self._en.get(w, w) for w in normalized.split())
        return normalized


class _KeywordTable:
    """Keyword parts, flattened so one rapidfuzz call scores them all.

    `starts` marks each keyword's first part; a compound keyword's strength is its weakest part.
    """

    def __init__(self) -> None:
        self.parts: list[str] = []  # compact pinyin (Chinese) or stemmed words (English)
        self.part_tokens: list[tuple[tuple[str, str], ...]] = []
        self._owners: list[int] = []
        self._weights: list[float] = []
        self._starts: list[int] = []

    def add(
        self, owner: int, parts: list[tuple[str, tuple[tuple[str, str], ...]]], weight: float
    ) -> None:
        parts = [(text, tokens) for text, tokens in parts if text]
        if not parts:
            return
        self._starts.append(len(self.parts))
        for text, tokens in parts:
            self.parts.append(text)
            self.part_tokens.append(tokens)
        self._owners.append(owner)
        self._weights.append(weight)

    def freeze(self) -> None:
        self.owners = np.array(self._owners, dtype=np.int64)
        self.weights = np.array(self._weights)
        self.starts = np.array(self._starts, dtype=np.int64)
        self.lengths = np.array([len(p) for p in self.parts])
        self.long_parts = self.lengths >= 8
        self.part_words = [frozenset(p.split()) for p in self.parts]  # English parts
        self.part_syllables = [tuple(s for _, s in tokens) for tokens in self.part_tokens]
        self.part_chars = [tuple(c for c, _ in tokens) for tokens in self.part_tokens]
        # Chinese look-up by first syllable, so a query is scanned once, not per keyword.
        self.by_first_syllable: dict[str, list[int]] = {}
        for number, tokens in enumerate(self.part_tokens):
            if tokens:
                self.by_first_syllable.setdefault(tokens[0][1], []).append(number)


class IntentIndex:
    """All intents' examples and keywords, pre-processed once at load."""

    def __init__(
        self,
        intents: dict[str, Intent],
        settings: MatchSettings | None = None,
        rewrites: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.settings = settings or MatchSettings()
        self._rewrites = _Rewriter(rewrites or {})
        self.intent_ids: list[str] = sorted(intents)
        self.thresholds = {i: intents[i].threshold for i in self.intent_ids}
        self._syllables: set[str] = set()
        self._en_vocabulary: set[str] = set()

        examples: list[tuple[int, _Text]] = []
        # (intent, language, position in the YAML list) -> row in the index
        self.example_rows: dict[tuple[str, str, int], int] = {}
        for position, intent_id in enumerate(self.intent_ids):
            intent = intents[intent_id]
            for lang in ("zh", "en"):
                for number, example in enumerate(intent.examples.get(lang, ())):
                    text = self._read_example(example)
                    if text.units:
                        self.example_rows[(intent_id, lang, number)] = len(examples)
                        examples.append((position, text))
                # A keyword is also the shortest possible example: "thanks" alone is thanks.
                for keyword in intent.keywords.get(lang, ()):
                    text = self._read_example(keyword.replace("&", " "))
                    if text.units:
                        examples.append((position, text))
        self._en_vocabulary_list = sorted(self._en_vocabulary)
        self._build_units(examples)
        self._build_keywords(intents)

    # -- reading texts ----------------------------------------------------------------------

    def _read_example(self, raw: str) -> _Text:
        normalized = self._rewrites(normalize_text(raw))
        if has_han(normalized):
            tokens = han_tokens(normalized)
            syllables = [s for _, s in tokens]
            self._syllables.update(s for s in syllables if _SYLLABLE.match(s))
            bigrams = _pairs(syllables)
            return _Text(
                HAN,
                frozenset([c for c, _ in tokens] + bigrams),
                "".join(syllables),
                tokens,
                frozenset(syllables + bigrams),
            )
        stems = _english_stems(normalized)
        self._en_vocabulary.update(stems)
        units = frozenset(stems + _pairs(stems))
        return _Text(ENGLISH, units, " ".join(latin_words(normalized)), (), units)

    def _read(self, raw: str) -> _Text:
        normalized = self._rewrites(normalize_text(raw))
        if has_han(normalized):
            tokens = han_tokens(normalized)
            syllables = [s for _, s in tokens]
            units = frozenset([c for c, _ in tokens] + _pairs(syllables))
            return _Text(HAN, units, "".join(syllables), tokens)
        words = latin_words(normalized)
        syllables = self._as_pinyin(words) if words else None
        if syllables:
            return _Text(PINYIN, frozenset(syllables + _pairs(syllables)), "".join(syllables))
        stems = [self._correct_word(w) for w in _english_stems(normalized)]
        return _Text(ENGLISH, frozenset(stems + _pairs(stems)), " ".join(words))

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
                current = best[end]
                if (
                    head is not None
                    and word[start:end] in self._syllables
                    and (current is None or len(head) + 1 < len(current))
                ):
                    best[end] = [*head, word[start:end]]
        return best[len(word)]

    def _correct_word(self, word: str) -> str:
        """Map a misspelt English word to the vocabulary ("helmt" -> "helmet")."""
        if word in self._en_vocabulary or len(word) < 5:
            return word
        found = process.extractOne(
            word, self._en_vocabulary_list, scorer=fuzz.ratio, score_cutoff=85
        )
        return found[0] if found else word

    # -- the index --------------------------------------------------------------------------

    def _build_units(self, examples: list[tuple[int, _Text]]) -> None:
        n_intents = len(self.intent_ids)
        intents_using: dict[str, set[int]] = {}
        uses: dict[tuple[str, int], int] = {}
        for owner, text in examples:
            for unit in text.units | text.pinyin_units:
                intents_using.setdefault(unit, set()).add(owner)
                uses[(unit, owner)] = uses.get((unit, owner), 0) + 1
        # An unseen unit is as informative as the rarest: it is something no intent explains.
        self._unseen_weight = math.log(1 + n_intents / 0.5)
        self._weight = {
            u: math.log(1 + n_intents / len(owners)) for u, owners in intents_using.items()
        }
        self._example_owner = np.array([owner for owner, _ in examples], dtype=np.int64)
        # What a query of each kind could share with the example, for the precision side.
        self._example_mass = {
            HAN: np.array([self._mass(t.units) for _, t in examples]),
            PINYIN: np.array([self._mass(t.pinyin_units) for _, t in examples]),
            ENGLISH: np.array([self._mass(t.units) for _, t in examples]),
        }
        self._example_strings = [text.spelling for _, text in examples]
        self._example_is_short = np.array([len(s) <= 2 * SHORT_TEXT for s in self._example_strings])
        postings: dict[str, list[int]] = {}
        for number, (_, text) in enumerate(examples):
            for unit in text.units | text.pinyin_units:
                postings.setdefault(unit, []).append(number)
        self._postings = {u: np.array(p, dtype=np.int64) for u, p in postings.items()}
        self._intent_postings = {
            u: np.array(sorted(o), dtype=np.int64) for u, o in intents_using.items()
        }
        # How typical a unit is of an intent: the share of its examples that use it, capped.
        # 多少 in most of helmet.stats's examples says "stats" more than its one use in rules.
        per_intent = np.bincount(self._example_owner, minlength=n_intents)
        full_share = self.settings.typical_share_full
        self._typicality = {
            u: np.array(
                [min(1.0, uses[(u, o)] / per_intent[o] / full_share) for o in sorted(owners)]
            )
            for u, owners in intents_using.items()
        }
        # Leaving one example out (validation) must drop a unit from its intent's coverage
        # only when no other example of that intent has it.
        self._example_units = [t.units | t.pinyin_units for _, t in examples]
        self._unit_uses = uses

    def _mass(self, units: Iterable[str]) -> float:
        return sum(self._weight.get(u, self._unseen_weight) for u in units) or 1.0

    def _build_keywords(self, intents: dict[str, Intent]) -> None:
        self._zh_keywords = _KeywordTable()
        self._en_keywords = _KeywordTable()
        for position, intent_id in enumerate(self.intent_ids):
            keywords = intents[intent_id].keywords
            for keyword in keywords.get("zh", ()):
                parts = []
                for part in keyword.split("&"):
                    tokens = han_tokens(normalize_text(part))
                    parts.append(("".join(s for _, s in tokens), tokens))
                syllables = sum(len(tokens) for _, tokens in parts)
                # Longer phrases are more specific: 安全账户 says more than 账户.
                self._zh_keywords.add(position, parts, min(1.0, 0.5 + 0.15 * syllables))
            for keyword in keywords.get("en", ()):
                parts = [(" ".join(_english_stems(p)), ()) for p in keyword.split("&")]
                words = sum(len(text.split()) for text, _ in parts)
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
            owner = int(self._example_owner[exclude])
            for unit in text.units & self._example_units[exclude]:
                if self._unit_uses.get((unit, owner)) == 1:
                    position = int(np.searchsorted(self._intent_postings[unit], owner))
                    covered[owner] -= self._weight[unit] * self._typicality[unit][position]
        query_mass = self._mass(text.units)
        recall = overlap / query_mass
        precision = overlap / self._example_mass[text.kind]
        # One-word questions ("time?") must match an example that is about that word, not
        # any example that happens to contain it: beta grows with the query's length.
        beta = min(self.settings.recall_beta, 1.0 + 0.5 * (len(text.units) - 1))
        beta2 = beta**2
        example = (1 + beta2) * precision * recall / np.maximum(beta2 * precision + recall, 1e-9)
        # Whole-string similarity catches a slip that breaks every unit of a short text.
        if self.settings.spelling_weight and 0 < len(text.spelling) <= SHORT_TEXT:
            spelling = (
                process.cdist(
                    [text.spelling], self._example_strings, scorer=fuzz.ratio, dtype=np.float64
                )[0]
                / 100.0
            )
            spelling *= self._example_is_short
            example = np.maximum(example, self.settings.spelling_weight * spelling)
        if exclude is not None:
            example[exclude] = 0.0
        return self._per_intent_max(self._example_owner, example), covered / query_mass

    def _keyword_hits(self, text: _Text) -> np.ndarray:
        """Noisy-OR over the intent's keywords found in the query, in [0, 1]."""
        if text.kind == HAN:
            table = self._zh_keywords
            part_strength = self._han_keyword_parts(text.tokens)
        elif text.kind == PINYIN:
            table = self._zh_keywords
            part_strength = self._pinyin_keyword_parts(table, text.spelling)
        else:
            table = self._en_keywords
            # Every word of the phrase must be there (misspellings were corrected on reading).
            words = {u for u in text.units if "_" not in u}
            part_strength = np.array([1.0 if p <= words else 0.0 for p in table.part_words])
        miss = np.ones(len(self.intent_ids))
        if len(table.parts):
            strength = np.minimum.reduceat(part_strength, table.starts)
            np.multiply.at(miss, table.owners, 1.0 - table.weights * strength)
        return 1.0 - miss

    def _han_keyword_parts(self, tokens: tuple[tuple[str, str], ...]) -> np.ndarray:
        """Each keyword part found in Chinese text: exactly (1.0) or with homophones (0.9).

        A homophone typo replaces at most one character in three, so 返诈 finds 反诈 and
        头亏 finds 头盔, while 推荐一首 does not find 建议 (same sounds, no shared character).
        """
        table = self._zh_keywords
        strength = np.zeros(len(table.parts))
        chars = tuple(c for c, _ in tokens)
        syllables = tuple(s for _, s in tokens)
        for start, syllable in enumerate(syllables):
            for part in table.by_first_syllable.get(syllable, ()):
                wanted = table.part_syllables[part]
                end = start + len(wanted)
                if syllables[start:end] != wanted:
                    continue
                replaced = sum(
                    a != b for a, b in zip(chars[start:end], table.part_chars[part], strict=True)
                )
                if replaced == 0:
                    strength[part] = 1.0
                elif replaced <= max(1, len(wanted) // 3) and replaced < len(wanted):
                    strength[part] = max(strength[part], 0.9)
        return strength

    @staticmethod
    def _pinyin_keyword_parts(table: _KeywordTable, query: str) -> np.ndarray:
        """Keyword parts in pinyin typed as Latin letters; one slip allowed in long ones."""
        if not table.parts or not query:
            return np.zeros(len(table.parts))
        found = process.cdist([query], table.parts, scorer=fuzz.partial_ratio)[0]
        # partial_ratio also finds the query inside a longer keyword ("dingyue" inside
        # "quxiaodingyue"); only a keyword inside the query is evidence.
        inside = table.lengths <= len(query)
        typo = (found >= 87) & table.long_parts
        return np.where(found >= 99.9, 1.0, np.where(typo, 0.8, 0.0)) * inside

    def scores(self, raw: str, exclude: int | None = None) -> list[tuple[str, float]]:
        """Every intent with its score (0-100), best first; `exclude` leaves an example out."""
        return self._scores(self._read(raw), exclude)

    def _scores(self, text: _Text, exclude: int | None = None) -> list[tuple[str, float]]:
        if not text.units:
            return [(i, 0.0) for i in self.intent_ids]
        example, coverage = self._overlap(text, exclude)
        keywords = self._keyword_hits(text)
        s = self.settings
        total = 100.0 * (
            s.example_weight * example + s.coverage_weight * coverage + s.keyword_weight * keywords
        )
        order = np.argsort(-total, kind="stable")
        rounded = np.round(total, 1).tolist()
        return [(self.intent_ids[n], rounded[n]) for n in order.tolist()]

    # -- decision ---------------------------------------------------------------------------

    def match(self, raw: str, lang_hint: str = "zh") -> MatchResult:
        """Decide what to do with one message; `lang_hint` is used when the text has no words."""
        text = self.read(raw)
        lang = text.lang if text.units and any(c.isalpha() for c in raw) else lang_hint
        return self.decide(self.ranked(text), lang)

    def read(self, raw: str) -> _Text:
        """A message reduced to what the lexical stage compares (for bot.core.decision)."""
        return self._read(raw)

    def ranked(self, text: _Text, exclude: int | None = None) -> list[tuple[str, float]]:
        """Every intent's lexical score for a message already read, best first; `exclude`
        leaves an example out."""
        return self._scores(text, exclude)

    def decide(self, ranked: list[tuple[str, float]], lang: str = "zh") -> MatchResult:
        """Answer, ask "did you mean", or fall back, from intents ranked best first."""
        (best, best_score), (second, second_score) = ranked[0], ranked[1]
        s = self.settings
        threshold = self.thresholds.get(best) or s.threshold
        close = [
            i
            for i, score in ranked[:3]
            if score >= s.suggest_floor and best_score - score < s.margin
        ]
        lead = best_score - second_score
        if (best_score >= threshold and len(close) < 2) or (
            best_score >= s.suggest_floor
            and (lead >= s.clear_lead or best_score >= s.clear_ratio * second_score)
        ):
            return MatchResult(best, best_score, second, second_score, (), lang)
        if best_score >= s.suggest_floor:
            choices = tuple(close) if len(close) >= 2 else (best,)
            return MatchResult(None, best_score, second, second_score, choices, lang)
        return MatchResult(None, best_score, second, second_score, (), lang)
