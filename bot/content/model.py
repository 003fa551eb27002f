"""The loaded content, as plain frozen values. Built only by `bot.content.loader`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("zh", "en")  # every text the bot says exists in each of these

Localized = dict[str, str]  # language code -> text


@dataclass(frozen=True)
class Location:
    path: Path
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Intent:
    id: str
    examples: dict[str, tuple[str, ...]]  # language -> example utterances
    keywords: dict[str, tuple[str, ...]]  # language -> salient phrases
    follow_ups: tuple[str, ...]
    threshold: float | None
    where: Location
    example_lines: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Decline:
    """A kind of question the bot must not answer (divorce, unpaid wages, a weather forecast):
    examples the semantic stage compares a message with, so that a near miss finds its like
    among these rather than borrowing the closest intent. No reply of its own: the fallback."""

    id: str
    about: str  # for authors: what the group covers
    examples: dict[str, tuple[str, ...]]
    where: Location
    example_lines: dict[str, tuple[int, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    document: str


@dataclass(frozen=True)
class Figure:
    key: str
    value: float
    display: Localized  # how the figure reads in each language, unit included
    counts: Localized  # what the figure counts
    place: str
    period: Localized
    source: str


@dataclass(frozen=True)
class Hotline:
    key: str
    number: str
    label: Localized


@dataclass(frozen=True)
class ReplyText:
    id: str
    title: Localized  # short label, used on buttons
    text: Localized
    where: Location
    # Optional: what the bot says instead when the same card would come twice in a row (a
    # "more" button then gives the full text). Empty when the author wrote none.
    short: Localized = field(default_factory=dict)


@dataclass(frozen=True)
class Menu:
    id: str
    label: Localized
    prompt: Localized
    items: tuple[str, ...]  # "intent:<id>" or "menu:<id>"


@dataclass(frozen=True)
class RedFlag:
    """A sign of a scam in a received message (content/red_flags.yaml)."""

    id: str
    weight: str  # high | medium | low
    suggests: str | None  # the fraud.* intent it points at
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...]
    explain: Localized
    # Flags that void the `unless` exemption: a warning's wording does not excuse a message
    # that also asks for money, a code, an install or the screen.
    unless_not_with: tuple[str, ...] = ()
    # When not empty, this flag counts only if one of these flags counts too (a claim to be
    # the anti-fraud centre is a warning sign only next to an ask).
    only_with: tuple[str, ...] = ()
    # How scams work, which this sign shows: pretext, ask, pressure, link or number. The
    # combination decides (a pretext with an ask and a link is high risk however worded).
    family: str = "pretext"
    # A sign found by code instead of patterns (link and number anatomy, bot.core.anatomy).
    detector: str | None = None


@dataclass(frozen=True)
class TurnSignal:
    """A sign of what a turn is doing in a conversation (content/conversation.yaml): a scam
    in progress, money already paid, "should I pay?", a greeting, "then what?", "yes"..."""

    id: str
    kind: str  # one of bot.content.conversation.SIGNAL_KINDS
    patterns: tuple[re.Pattern[str], ...]  # matched on the normalised text
    unless: tuple[re.Pattern[str], ...] = ()  # any of these found: the signal does not count


@dataclass(frozen=True)
class ReportKind:
    """A kind of citizen report (content/reports.yaml): helmet violation, fraud clue, ..."""

    id: str
    label: Localized
    media_required: bool  # a helmet report needs a photo; a fraud clue can be text only


@dataclass(frozen=True)
class Audience:
    """A group residents may join in their alert subscription (content/audiences.yaml)."""

    id: str
    name: Localized
    why: Localized  # one line: why a resident would want this group's alerts


@dataclass(frozen=True)
class Campaign:
    """A campaign landing point (content/campaigns.yaml): the code in a deep link."""

    code: str
    county: str  # a place id (baoting, qiongzhong)
    name: Localized
    greeting: Localized
    start: str | None = None  # YYYY-MM-DD, filled in by the bureau; optional


@dataclass(frozen=True)
class Content:
    """Everything the bot knows, validated and cross-referenced."""

    intents: dict[str, Intent]
    replies: dict[str, ReplyText]
    figures: dict[str, Figure]
    sources: dict[str, Source]
    places: dict[str, Localized]
    hotlines: dict[str, Hotline]
    contacts: dict[str, Localized]  # configurable contact names -> what they are
    menus: dict[str, Menu]
    ui: dict[str, Localized]
    settings: dict[str, float]
    # colloquial or chat-speak forms -> standard forms, per language (咋 -> 怎么, thx -> thanks)
    rewrites: dict[str, dict[str, str]] = field(default_factory=dict)
    areas: dict[str, Localized] = field(default_factory=dict)  # townships, for alert targeting
    red_flags: dict[str, RedFlag] = field(default_factory=dict)
    risk_levels: dict[str, float] = field(default_factory=dict)  # probability for high, medium
    # Link and number anatomy lists (content/anatomy.yaml): brands -> official domains, and
    # named lists of TLDs, dynamic-DNS suffixes, shorteners, number prefixes.
    link_brands: dict[str, tuple[str, ...]] = field(default_factory=dict)
    anatomy_lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The scam checker's fitted weights (content/scam_weights.yaml, `python -m bench.fit_scam`)
    scam_weights: dict[str, float] = field(default_factory=dict)
    report_kinds: dict[str, ReportKind] = field(default_factory=dict)  # in menu order
    audiences: dict[str, Audience] = field(default_factory=dict)  # in menu order
    campaigns: dict[str, Campaign] = field(default_factory=dict)  # deep-link code -> campaign
    turn_signals: dict[str, TurnSignal] = field(default_factory=dict)
    declines: dict[str, Decline] = field(default_factory=dict)  # intents/: near misses
