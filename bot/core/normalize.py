"""Text normalisation shared by the index (at load) and every query (at match time).

Both sides go through the same functions, so whatever is folded here (width, case,
Traditional characters, punctuation, emoji) can never make a query and an example differ.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import opencc
from pypinyin import Style, lazy_pinyin

_T2S = opencc.OpenCC("t2s")

# Han ideographs (basic block and extension A) and the compatibility block NFKC leaves alone.
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z0-9]+")


def _is_kept(char: str) -> bool:
    """Letters and digits stay; punctuation, symbols (emoji), marks and controls go."""
    category = unicodedata.category(char)
    return category[0] in ("L", "N")


@lru_cache(maxsize=4096)
def normalize_text(text: str) -> str:
    """Fold a message to the form the matcher compares.

    NFKC turns full-width letters, digits and punctuation into their ordinary forms;
    casefold handles English case; OpenCC maps Traditional to Simplified characters.
    Everything that is not a letter or a digit becomes a single space.
    """
    folded = unicodedata.normalize("NFKC", without_surrogates(text)).casefold()
    if _HAN.search(folded):
        folded = _T2S.convert(folded)
    kept = "".join(ch if _is_kept(ch) else " " for ch in folded)
    return " ".join(kept.split())


_SURROGATE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """Lone surrogates (from JSON escapes like \\ud800) cannot be encoded as UTF-8, which
    OpenCC and the Bot API need: drop them."""
    return _SURROGATE.sub("", text)


def traditional_to_simplified(text: str) -> str:
    return _T2S.convert(text)


def has_han(text: str) -> bool:
    return _HAN.search(text) is not None


def han_ratio(text: str) -> float:
    """Share of the non-space characters that are Chinese characters."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(1 for c in chars if _HAN.match(c)) / len(chars)


def compact(normalized: str) -> str:
    """Chinese is written without spaces: drop them so "反 诈" and "反诈" compare equal."""
    return normalized.replace(" ", "")


@lru_cache(maxsize=4096)
def to_pinyin(normalized: str) -> str:
    """Toneless pinyin, one syllable per token; non-Chinese runs pass through as tokens.

    Homophone typos (返诈 for 反诈, 头亏 for 头盔) have the same pinyin as the word meant,
    and residents who type pinyin with Latin letters produce the same letters.
    """
    syllables = lazy_pinyin(compact(normalized), style=Style.NORMAL, errors=lambda s: [s])
    return " ".join(s for s in syllables if s.strip())


_HAN_OR_RUN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+"
)


@lru_cache(maxsize=4096)
def han_tokens(normalized: str) -> tuple[tuple[str, str], ...]:
    """(surface, pinyin) per Chinese character; a run of other characters is one token.

    Pinyin is read for the whole text, so polyphones (行 in 银行 and 行为) follow context.
    """
    text = compact(normalized)
    surfaces = _HAN_OR_RUN.findall(text)
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors=lambda run: [run])
    if len(syllables) != len(surfaces):  # defensive: fall back to one character at a time
        syllables = [
            lazy_pinyin(t, style=Style.NORMAL, errors=lambda run: [run])[0] for t in surfaces
        ]
    return tuple(zip(surfaces, syllables, strict=True))


def latin_words(normalized: str) -> list[str]:
    return _LATIN_WORD.findall(normalized)
