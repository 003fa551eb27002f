""" "Is this a scam?": find red flags in a received message, rate the risk, name the scam type.

The flags, their weights and explanations are content (content/red_flags.yaml); this module
only finds them. It never calls a message safe: "low" means no known red flag was found.
"""

from __future__ import annotations

import heapq
import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

try:  # the parser behind re.compile; public as sre_parse before Python 3.11
    from re import _parser  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _parser  # type: ignore[no-redef]

from bot.content.model import Content, RedFlag
from bot.core.anatomy import (
    URL_CHAR,
    Anatomy,
    Sign,
    has_bare_contact,
    link_end,
    link_signs,
    number_signs,
    word_lookalikes,
)
from bot.core.matcher import IntentIndex
from bot.core.normalize import has_han, traditional_to_simplified, without_surrogates
from bot.core.semantic import SemanticIndex

POINTS = {"high": 3.0, "medium": 2.0, "low": 1.0}  # a flag's vote for the scam type
# The story names the scam type; the ask (a transfer, a code) is common to all of them.
PRETEXT_VOTE = 3.0
# Families seen together, as features of the fitted model: how a scam works is a story
# (pretext), something to do (ask), a hurry (pressure), and a way to do it (link, number).
COMBOS = (
    ("pretext", "ask"),
    ("pretext", "link"),
    ("ask", "link"),
    ("pretext", "number"),
    ("ask", "number"),
    ("pressure", "ask"),
    ("pretext", "pressure"),
    ("pretext", "ask", "link"),
)
DIRECT_ASKS = frozenset({"credentials", "screen_share", "install_app"})
# Signs no ordinary message carries: links that hide where they go (user@host, punycode, a raw
# IP, a look-alike brand spelling) and a premium-rate number to call.
TELLING_SIGNS = frozenset(
    {"link_userinfo", "link_punycode", "link_ip", "lookalike", "number_premium"}
)
# A pretext with an ask and a link is high risk however it is worded (issue 15).
ALWAYS_HIGH = ("pretext", "ask", "link")
TOPIC_VOTE = 0.05
SEMANTIC_VOTE = 1.0  # as much as one low-weight flag: a tie-breaker, not the judge
SEMANTIC_FLOOR = 0.85
SEMANTIC_SHARPNESS = 100.0  # soft maximum over a type's examples (SemanticIndex.scores)
SEMANTIC_CHARS = 200
TOPIC_CHARS = 60
CLEAR_VOTE = 3.0  # flags this far ahead name the type alone; closer calls ask the matcher
WINDOW = 80  # characters around a literal a match may reach: the patterns are bounded below it
MAX_LITERAL_HITS = 16  # candidate places per pattern; more than that, and a message is spam anyway
# Intents about fraud in general, not a kind of scam a message can resemble.
GENERIC_TYPES = frozenset(
    {
        "fraud.tips",
        "fraud.stats",
        "fraud.campaigns",
        "fraud.victim",
        "fraud.dissuasion_call",
        "fraud.elderly",
    }
)
_SENTENCE_END = re.compile(r"[。！？!?；;\n]|\.(?=\s)")
# A link ends where a URL ends: at a space, a quote, an angle bracket, a Chinese character or
# Chinese punctuation (`x'>点击</a>` is markup around it, not part of it).
_URL = re.compile(
    rf"(?:https?://|www\.){URL_CHAR}+|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|cn|net|top|xyz|vip|"
    rf"cc|app|shop|club|info|me|gl|ly|gd|im|co)\b(?:/{URL_CHAR}*)?",
    re.IGNORECASE,
)
# Zero-width spaces and joiners, direction marks, soft hyphens, BOMs: Unicode's format (Cf)
# characters that scammers slip between letters to dodge keyword filters.
_FORMAT_CHARS = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]"
)
_LONG_NUMBER = re.compile(r"(?<!\d)(?:\+?86[ -]?)?\d(?:[ -]?\d){10,18}(?!\d)")


@dataclass(frozen=True)
class FlagHit:
    id: str
    quote: str  # the words in the message that raised the flag (defanged)
    weight: str


@dataclass(frozen=True)
class ScamCheck:
    risk: str  # high | medium | low
    type: str | None  # the fraud.* intent it resembles
    flags: tuple[FlagHit, ...]
    points: float  # the fitted model's probability that the message is a scam
    # The message's own language when it shows one (an English text gets an English verdict)
    lang: str | None = None
    # It holds a phone number, an account or card number, or a link: no "no known sign" then,
    # since the bot cannot look any of them up.
    contact: bool = False

    def as_json(self) -> dict[str, object]:
        return {
            "risk": self.risk,
            "type": self.type,
            "flags": [{"id": f.id, "quote": f.quote} for f in self.flags],
        }


def fold(text: str) -> str:
    """Width, case and Traditional characters folded; invisible format characters removed.

    Unlike the matcher's normalisation, punctuation stays: links, sentence ends and quotes
    are part of what the checker reads.
    """
    folded = _FORMAT_CHARS.sub("", unicodedata.normalize("NFKC", without_surrogates(text)))
    folded = folded.casefold()
    return traditional_to_simplified(folded) if has_han(folded) else folded


def message_language(text: str) -> str | None:
    """zh for a message with Chinese characters, en for one with English words, else None."""
    if has_han(text):
        return "zh"
    # A bare link is in no language: words with a dot, slash or @ are left out (split, not a
    # regex: the link pattern backtracks on long runs of letters).
    words = " ".join(w for w in text.split() if not any(c in w for c in "./@"))
    return "en" if re.search(r"[a-z]{2,}", words, re.IGNORECASE) else None


def defang(text: str) -> str:
    """Make links and long numbers untappable when they are shown back to the resident."""

    def link(match: re.Match[str]) -> str:
        url = match.group(0)
        end = link_end(url)
        return url[:end].replace("http", "hxxp").replace(".", "[.]") + url[end:]

    def number(match: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", match.group(0))
        return f"{digits[:3]}****{digits[-4:]}"

    return _LONG_NUMBER.sub(number, _URL.sub(link, text))


def _without_link_tail(quote: str) -> str:
    """A quote that is a link, without the punctuation or bracket that closes the sentence."""
    found = _URL.match(quote)
    if found is None or found.end() != len(quote):
        return quote
    return quote[: link_end(quote)]


_QUOTE_EDGE = " \t\n:：,，;；、-—"


def clean_quote(quote: str) -> str:
    """A quote as a clean phrase: no link tail, no stray colon or comma at its edges, no
    bracket it does not close ("verify at:", "（详见" are fragments)."""
    quote = _without_link_tail(quote).strip(_QUOTE_EDGE)
    for opening, closing in (("(", ")"), ("（", "）"), ("[", "]"), ("【", "】"), ("「", "」")):
        if quote.count(opening) != quote.count(closing):
            quote = quote.replace(opening, "").replace(closing, "")
    return quote.strip(_QUOTE_EDGE) or quote


def _literal_options(items: list) -> frozenset[str] | None:
    """Strings one of which every match of this sequence must contain, or None if unknown."""
    best: frozenset[str] | None = None
    run = ""

    def consider(options: frozenset[str] | None) -> None:
        nonlocal best
        if options and (best is None or min(map(len, options)) > min(map(len, best))):
            best = options

    for op, value in items:
        if op is _parser.LITERAL:
            run += chr(value)
            continue
        consider(frozenset({run.casefold()}) if run else None)
        run = ""
        if op is _parser.SUBPATTERN:
            consider(_alternatives(list(value[-1])))
        elif op is _parser.BRANCH:
            consider(_branches(value[1]))
    consider(frozenset({run.casefold()}) if run else None)
    return best


def _alternatives(items: list) -> frozenset[str] | None:
    if len(items) == 1 and items[0][0] is _parser.BRANCH:
        return _branches(items[0][1][1])
    return _literal_options(items)


def _branches(branches: list) -> frozenset[str] | None:
    options: set[str] = set()
    for branch in branches:
        found = _literal_options(list(branch))
        if found is None:
            return None
        options |= found
    return frozenset(options)


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Cheap pre-check for a regular expression: it cannot match a text that contains none of
    these strings. Scanning 4,096 characters with sixty regexes costs ~15 ms in Python's re;
    looking for their literals first costs well under one.
    """
    try:
        parsed = list(_parser.parse(pattern.pattern, pattern.flags))
    except re.error:  # pragma: no cover - the pattern compiled already
        return None
    return _alternatives(parsed)


def _sentence(text: str, ends: list[int], start: int, end: int) -> str:
    """The sentence around text[start:end]; `ends` are the sentence ends, in order."""
    left = ends[bisect_right(ends, start) - 1] if ends and ends[0] <= start else 0
    after = bisect_left(ends, end)
    right = ends[after] - 1 if after < len(ends) else len(text)
    return text[left : max(right, end)]


def _minor(flag: RedFlag) -> bool:
    """A plain link, a short code, an overseas number: worth listing, never a kind of sign on
    its own account (marketing has them all)."""
    return flag.weight == "low" and flag.family in ("link", "number", "ask")


class ScamChecker:
    def __init__(
        self,
        content: Content,
        index: IntentIndex | None = None,
        semantic: SemanticIndex | None = None,
    ) -> None:
        self.flags: tuple[RedFlag, ...] = tuple(content.red_flags.values())
        self._literals = {p: required_literals(p) for f in self.flags for p in f.patterns}
        # The matcher knows what a message is about (贷款, 兼职, 部队采购); the flags know how
        # dangerous it is. Both vote for the scam type.
        self.index = index
        # The semantic stage, when the model is loaded: what the message is about, in other
        # words than the flags' (one more vote for the type, never for the risk).
        self.semantic = semantic
        self.high = content.risk_levels.get("high", 0.9)
        self.medium = content.risk_levels.get("medium", 0.5)
        self.weights = content.scam_weights
        self.anatomy = Anatomy(content.link_brands, content.anatomy_lists)
        self.by_id = {f.id: f for f in self.flags}
        self._detected = {f.detector: f.id for f in self.flags if f.detector}

    def _detect(self, text: str, links: list[Sign]) -> dict[str, tuple[str | None, str | None]]:
        """Link and number anatomy: each flag with a detector and the first place it shows.
        Each link gives one sign only, its most telling one (anatomy.link_sign)."""
        found: dict[str, tuple[str | None, str | None]] = {}
        signs = [
            *links,
            *word_lookalikes(text, self.anatomy),
            *number_signs(text, self.anatomy),
        ]
        for sign in sorted(signs, key=lambda s: s.start):
            flag_id = self._detected.get(sign.detector)
            if flag_id is not None and flag_id not in found:
                found[flag_id] = (sign.quote, sign.quote)
        return found

    def _find(self, flag: RedFlag, text: str, ends: list[int]) -> tuple[str | None, str | None]:
        """The flag's first match its `unless` does not exempt, and its first match at all."""
        first = None
        for pattern in flag.patterns:
            for match in self._matches(pattern, text):
                quote = match.group(0).strip()
                if not quote:
                    continue
                first = first or quote
                sentence = _sentence(text, ends, match.start(), match.end())
                if not any(u.search(sentence) for u in flag.unless):
                    return quote, first
                # else e.g. a bank's "never tell anyone this code": look on
        return None, first

    def _found(self, text: str, ends: list[int]) -> dict[str, str]:
        """Each flag that counts, with its quote, in content order.

        First every flag is matched on its own: with its `unless` exemption, and (if it has
        `unless_not_with`) without it. Then the rules between flags are applied until nothing
        changes: a flag counts when it matched unexempted, or matched at all and one of its
        `unless_not_with` flags counts ("我是反诈中心民警" is no notice when the message asks
        for the code); and, if it has `only_with`, one of those counts too. A flag is only
        ever added, never removed, so the result is the smallest set that obeys the rules,
        whatever order the flags are listed in.
        """
        matched = {f.id: self._find(f, text, ends) for f in self.flags if not f.detector}
        links = link_signs(text, self.anatomy)
        if links and all(link.detector == "link_official" for link in links):
            matched["click_link"] = (None, None)  # "tap here" to the brand's own site
        detected = self._detect(text, links)
        matched |= {f.id: detected.get(f.id, (None, None)) for f in self.flags if f.detector}
        counted: dict[str, str] = {}
        while True:
            now = {}
            for flag in self.flags:
                quote, first = matched[flag.id]
                if quote is None and any(other in counted for other in flag.unless_not_with):
                    quote = first
                if quote is not None and (
                    not flag.only_with or any(other in counted for other in flag.only_with)
                ):
                    now[flag.id] = quote
            if now.keys() == counted.keys():
                return now
            counted = now

    def _matches(self, pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
        """The pattern's matches, reading only around the places where they can be.

        Every match contains one of the pattern's required literals, and matches are short,
        so the regex runs on a window around each literal (found by str.find, in C) instead
        of over the whole message.
        """
        literals = self._literals.get(pattern)
        if literals is None:
            yield from pattern.finditer(text)
            return
        # The next place of each literal, nearest first: only as many places are looked up
        # as matches are needed (usually one).
        upcoming = [(at, literal) for literal in literals if (at := text.find(literal)) != -1]
        heapq.heapify(upcoming)
        start_from, looked = 0, 0
        while upcoming and looked < MAX_LITERAL_HITS:
            at, literal = heapq.heappop(upcoming)
            looked += 1
            if at >= start_from:
                match = pattern.search(text, max(start_from, at - WINDOW), at + WINDOW)
                if match is not None:
                    start_from = match.end()
                    yield match
            following = text.find(literal, max(at + 1, start_from))
            if following != -1:
                heapq.heappush(upcoming, (following, literal))

    def flag_ids(self, text: str) -> list[str]:
        """The flags that count in a message (what bench.fit_scam fits the weights on)."""
        folded = fold(text)
        return list(self._found(folded, [m.end() for m in _SENTENCE_END.finditer(folded)]))

    def features(self, flag_ids: list[str]) -> set[str]:
        """What the fitted model reads: the flags, their families, and families together.
        Not marketing's fine print: it is a rule (a cap), not evidence either way."""
        flag_ids = [i for i in flag_ids if self.by_id[i].family != "marketing"]
        families = {self.by_id[i].family for i in flag_ids}
        combos = {"combo." + "+".join(c) for c in COMBOS if families.issuperset(c)}
        return {*flag_ids, *(f"family.{f}" for f in families), *combos}

    def probability(self, features: set[str]) -> float:
        score = self.weights.get("bias", 0.0) + sum(
            self.weights.get(f, 0.0) for f in sorted(features)
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))

    def rate(self, flag_ids: list[str]) -> tuple[str, float]:
        """The risk and the model's probability. No sign is "low" whatever the model says;
        a pretext with an ask and a link is "high" whatever it says (unless it carries
        marketing's fine print: then "verify first")."""
        signs = [i for i in flag_ids if self.by_id[i].family != "marketing"]
        probability = self.probability(self.features(signs)) if signs else 0.0
        if self.forced_low(flag_ids):
            return "low", probability
        risk = self._rate(signs, probability)
        if len(signs) < len(flag_ids) and risk == "high" and not set(signs) & DIRECT_ASKS:
            # Marketing's opt-out or terms line: spam is unwanted, not fraud.
            risk = "medium"
        if risk == "low" and self._telling(signs):
            risk = "medium"
        return risk, probability

    def forced_low(self, flag_ids: list[str]) -> bool:
        """Messages the rules rate "low" whatever the fitted model says (bench.fit_scam sets
        the thresholds on the others only)."""
        signs = [i for i in flag_ids if self.by_id[i].family != "marketing"]
        if not signs:
            return True
        families = {self.by_id[i].family for i in signs}
        direct_ask = bool(set(signs) & DIRECT_ASKS)
        if "warning" in families and not families & {"link", "number"} and not direct_ask:
            # A resident telling others about a scam, with nothing in it to tap or call, and
            # no code, screen or install asked for (those asks are exempted by a warning's
            # own words, so one that counts is meant).
            return True
        # Marketing's fine print with one sign of no more than medium weight (a prize, a
        # refund, an app to install from the brand): what advertising says.
        return (
            len(signs) < len(flag_ids)
            and len(signs) == 1
            and self.by_id[signs[0]].weight != "high"
            and not self._telling(signs)
        )

    def _telling(self, flag_ids: list[str]) -> bool:
        """Signs that never belong in an ordinary message, whatever the fitted model says: a
        link that hides where it goes, a premium-rate number, or a story (an account problem,
        a prize) with a link or a number to act on."""
        if set(flag_ids) & TELLING_SIGNS:
            return True
        families = {self.by_id[i].family for i in flag_ids}
        story = any(
            self.by_id[i].family == "pretext" and self.by_id[i].weight != "low" for i in flag_ids
        )
        return story and bool(families & {"link", "number"}) and "warning" not in families

    def _rate(self, flag_ids: list[str], probability: float) -> str:
        features = self.features(flag_ids)
        if "combo." + "+".join(ALWAYS_HIGH) in features:
            return "high"
        strong = {f.family for f in map(self.by_id.get, flag_ids) if f and not _minor(f)}
        if probability >= self.high and len(strong - {"warning"}) >= 2:
            # "Stop" needs two kinds of telling sign: one alone (a transfer, a link) is "verify
            # first", and minor signs (a plain link, a short code, an overseas number) do not
            # make up a kind.
            return "high"
        return "medium" if probability >= self.medium else "low"

    def _semantic_votes(self, text: str, votes: dict[str, float]) -> None:
        """Each scam type's closeness to the message's opening, by the sentence model."""
        if self.semantic is None or self.index is None:
            return
        scores, _ = self.semantic.scores(
            text[:SEMANTIC_CHARS].strip(), sharpness=SEMANTIC_SHARPNESS
        )
        for intent, score in zip(self.index.intent_ids, scores, strict=True):
            if intent.startswith("fraud.") and intent not in GENERIC_TYPES:
                closeness = max(0.0, (float(score) - SEMANTIC_FLOOR) / (1 - SEMANTIC_FLOOR))
                votes[intent] = votes.get(intent, 0.0) + SEMANTIC_VOTE * closeness

    def check(self, text: str) -> ScamCheck:
        folded = fold(text)
        ends = [m.end() for m in _SENTENCE_END.finditer(folded)]
        hits: list[FlagHit] = []
        votes: dict[str, float] = {}
        for flag_id, quote in self._found(folded, ends).items():
            flag = self.by_id[flag_id]
            hits.append(FlagHit(flag.id, defang(clean_quote(quote)), flag.weight))
            if flag.suggests:
                vote = POINTS[flag.weight] * (PRETEXT_VOTE if flag.family == "pretext" else 1.0)
                votes[flag.suggests] = votes.get(flag.suggests, 0.0) + vote
        risk, probability = self.rate([h.id for h in hits])
        ranked = [*sorted(votes.values(), reverse=True), 0.0, 0.0]
        if self.index is not None and risk != "low" and ranked[0] - ranked[1] < CLEAR_VOTE:
            # The topic is told in the opening lines; matching all 4,096 characters would cost
            # more than every flag together.
            for intent, score in self.index.scores(text[:TOPIC_CHARS])[:3]:
                if intent.startswith("fraud.") and intent not in GENERIC_TYPES:
                    votes[intent] = votes.get(intent, 0.0) + TOPIC_VOTE * score
        if self.semantic is not None and self.index is not None and risk != "low":
            self._semantic_votes(text, votes)
        # The type with most points; on a tie, the flag listed first in the content wins.
        scam_type = max(votes, key=lambda t: votes[t]) if votes and risk != "low" else None
        contact = has_bare_contact(folded) or any(self.by_id[h.id].family == "link" for h in hits)
        return ScamCheck(
            risk, scam_type, tuple(hits), probability, message_language(folded), contact
        )
