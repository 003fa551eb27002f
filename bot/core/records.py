"""What the bot keeps about residents, as the core reasons about it: alert subscriptions,
citizen reports and the insights summary. Storage (bot/store) persists these; it depends on
the core, never the reverse."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.report_flow import Media

TOPICS = ("fraud", "traffic", "safety")


@dataclass(frozen=True)
class Subscription:
    chat_id: int
    user_id: int
    lang: str
    topics: tuple[str, ...]
    area: str | None
    active: bool
    created_at: float
    audiences: tuple[str, ...] = ()  # audience group ids (content/audiences.yaml); none: ()


STATUSES = ("pending", "accepted", "rejected")


@dataclass(frozen=True)
class Report:
    id: int
    reference: str
    user_id: int
    chat_id: int
    lang: str
    kind: str
    media: tuple[Media, ...]
    place: str | None
    latitude: float | None
    longitude: float | None
    occurred: str | None
    description: str | None
    status: str  # one of STATUSES
    delivery: str  # queued | media_sent | delivered | refused (by Telegram, for good)
    review_messages: tuple[int, ...]
    created_at: float
    decided_at: float | None = None
    decided_by: str | None = None


@dataclass(frozen=True)
class Insights:
    days: int
    unanswered: list[tuple[str, int]]  # masked question, how often
    intents: list[tuple[str, int]]  # intent id (or fallback / did_you_mean), hits
    campaigns: list[tuple[str, int]] = field(default_factory=list)  # campaign code, visits


SUGGESTION_STATUSES = ("open", "answered", "resolved", "referred")


@dataclass(frozen=True)
class SuggestionAnswer:
    at: float
    text: str
    officer: str  # the officer's Telegram name, shown in the bureau chat only


@dataclass(frozen=True)
class Suggestion:
    """A resident's suggestion to the bureau (personal numbers masked) and what became of it."""

    id: int
    reference: str
    user_id: int
    chat_id: int  # where the answers go
    lang: str
    text: str
    status: str  # one of SUGGESTION_STATUSES
    delivery: str  # queued | delivered | refused (by Telegram, for good)
    bureau_messages: tuple[int, ...]  # the bot's messages about it in the suggestions chat
    created_at: float
    answers: tuple[SuggestionAnswer, ...] = ()
    decided_by: str | None = None  # who marked it resolved or referred
