"""Plain values that cross the boundary between a front end and the core."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReplyKind(StrEnum):
    ANSWER = "answer"  # a matched intent's reply
    DID_YOU_MEAN = "did_you_mean"  # two or more intents were too close to call
    FALLBACK = "fallback"  # nothing matched well enough
    MENU = "menu"  # a topic menu
    NOTICE = "notice"  # a fixed UI message (language switched, non-text hint, error)


@dataclass(frozen=True)
class Button:
    """A button offered under a reply. `action` is what pressing it asks the core for."""

    label: str
    # "intent:<id>", "more:<id>" (the full card after its short version), "share:<id>" (a
    # warning to forward), "fb:up:<id>" / "fb:down:<id>" (was this helpful?), "menu:<id>",
    # "lang:<code>"
    action: str


@dataclass(frozen=True)
class Turn:
    """One message from a resident, stripped of everything platform specific."""

    text: str
    lang_hint: str | None = None  # the resident's chosen or platform language, if any
    county: str | None = None  # where the resident lives, if known (their alert township)


@dataclass(frozen=True)
class MatchResult:
    """What the matcher decided for one text."""

    intent: str | None  # the intent to answer, None for a fallback or a "did you mean"
    score: float
    runner_up: str | None
    runner_up_score: float
    choices: tuple[str, ...] = ()  # intents offered by a "did you mean"
    lang: str = "zh"  # the language the text is written in (or the hint, if undecidable)
    stage: str = "lexical"  # which stage decided: "lexical" alone, or "blend" with the model
    semantic_score: float | None = None  # the best intent's cosine, when the model was asked

    @property
    def best(self) -> str | None:
        """The top candidate, whether or not it was confident enough to answer."""
        return self.intent or (self.choices[0] if self.choices else None)


# Conversation signals whose reply goes out as it is, before any paste check or action: the
# urgent ones, and a greeting (a resident talking to the bot, not a pasted message).
AS_IS_SIGNALS = frozenset(
    {"paid", "clicked", "in_progress", "asked_to_pay", "asked_to_act", "should_pay", "greeting"}
)


@dataclass(frozen=True)
class Reply:
    text: str
    lang: str
    kind: ReplyKind
    intent: str | None = None
    score: float = 0.0
    runner_up: str | None = None
    choices: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    # The conversation signal this reply acted on (paid, in_progress, should_pay, ...), None
    # for a plain lookup: a front end sends such a reply as it is, before any paste check.
    signal: str | None = None

    @property
    def as_is(self) -> bool:
        return self.signal in AS_IS_SIGNALS
