"""The citizen-report conversation as a pure state machine.

`ReportFlow.advance(draft, input)` returns the next draft and the reply; the front end turns a
Telegram message or button into a `ReportInput`, stores the draft after every step (so a
restart or a crash loses nothing) and sends the reply. No Telegram types and no I/O here.

Every step says what it expects when it gets something else, and every prompt offers a
cancel button, so a resident is never stuck.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from enum import StrEnum
from typing import Protocol

from bot.core.normalize import without_surrogates
from bot.core.responder import Responder
from bot.core.types import Button, Reply, ReplyKind

# Both counties are in Hainan; China has one time zone and no daylight saving.
CHINA_TIME = timezone(timedelta(hours=8))
DRAFT_LIFETIME = 2 * 3600.0  # seconds; an abandoned report must not swallow tomorrow's question
ACTION = "report:"  # prefix of every button this conversation offers


class Step(StrEnum):
    PRIVACY = "privacy"  # the privacy notice, before a resident's first report
    KIND = "kind"
    MEDIA = "media"
    PLACE = "place"
    TIME = "time"
    DESCRIPTION = "description"
    CONFIRM = "confirm"


@dataclass(frozen=True)
class Media:
    kind: str  # photo | video, or photo_file | video_file when sent as a file ("原图")
    file_id: str  # Telegram's id: the review chat gets the file without the bot storing it
    size: int | None = None  # bytes, when Telegram says
    caption: str | None = None  # what the resident wrote under it ("保城镇路口，两人没戴")


@dataclass(frozen=True)
class Draft:
    """A report being written; stored after every step."""

    step: Step
    lang: str
    updated_at: float
    kind: str | None = None
    media: tuple[Media, ...] = ()
    place: str | None = None  # typed; or None with coordinates
    latitude: float | None = None
    longitude: float | None = None
    occurred: str | None = None  # as the resident typed it; None means "just now"
    description: str | None = None
    # The front end's id of the last message applied: Telegram may deliver a message again
    # after a crash, and a place typed once must not also become the time.
    last_message_id: int = 0

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Draft:
        data = json.loads(text)
        data["step"] = Step(data["step"])
        data["media"] = tuple(Media(**m) for m in data.get("media", ()))
        return cls(**data)

    def expired(self, now: float) -> bool:
        return now - self.updated_at > DRAFT_LIFETIME


@dataclass(frozen=True)
class ReportInput:
    """One thing the resident sent: text, a button, a photo or video, a location, or other."""

    text: str | None = None
    action: str | None = None
    media: Media | None = None
    location: tuple[float, float] | None = None


@dataclass(frozen=True)
class ReportLimits:
    max_media: int = 5
    max_media_mb: int = 20  # Telegram lets bots fetch files up to 20 MB
    place_chars: tuple[int, int] = (2, 200)
    time_chars: int = 100
    description_chars: int = 1000
    keep_days: int = 90  # told to the resident in the privacy notice


@dataclass(frozen=True)
class ReportStep:
    draft: Draft | None  # None: the conversation is over (cancelled)
    reply: Reply | None  # None only when `submit`: the reply needs the stored reference
    submit: bool = False  # the resident confirmed: store the draft as a report


class ReportDetails(Protocol):
    """What a draft and a stored report both have, for summaries."""

    kind: str | None
    media: tuple[Media, ...]
    place: str | None
    latitude: float | None
    longitude: float | None
    occurred: str | None
    description: str | None


@dataclass
class ReportFlow:
    responder: Responder
    limits: ReportLimits = field(default_factory=ReportLimits)

    # -- entry points ------------------------------------------------------------------------

    def start(self, lang: str, consented: bool, now: float) -> ReportStep:
        lang = self.responder.language(lang)
        draft = Draft(Step.KIND if consented else Step.PRIVACY, lang, now)
        return ReportStep(draft, self.prompt(draft))

    def start_with_media(
        self, lang: str, consented: bool, now: float, kind: str, media: Media
    ) -> ReportStep:
        """A report begun by a photo whose caption describes a violation: the photo is kept
        and the kind is set; only the privacy notice (first time) comes before "got it"."""
        lang = self.responder.language(lang)
        draft = Draft(Step.MEDIA if consented else Step.PRIVACY, lang, now)
        draft = replace(draft, kind=kind, media=(media,))
        key = "report_media_received" if consented else None
        return ReportStep(draft, self.prompt(draft, key))

    def advance(self, draft: Draft, event: ReportInput, now: float) -> ReportStep:
        if event.text:  # a lone surrogate could not be stored or sent on
            event = replace(event, text=without_surrogates(event.text))
        if event.media is not None and event.media.caption:
            caption = without_surrogates(event.media.caption)[: self.limits.description_chars]
            event = replace(event, media=replace(event.media, caption=caption))
        if event.action == ACTION + "cancel":
            return ReportStep(None, self.notice("report_cancelled", draft.lang))
        step = {
            Step.PRIVACY: self._privacy,
            Step.KIND: self._kind,
            Step.MEDIA: self._media,
            Step.PLACE: self._place,
            Step.TIME: self._time,
            Step.DESCRIPTION: self._description,
            Step.CONFIRM: self._confirm,
        }[draft.step](draft, event)
        if step.draft is not None:
            step = replace(step, draft=replace(step.draft, updated_at=now))
        return step

    def prompt(self, draft: Draft, key: str | None = None) -> Reply:
        """The question of the draft's step (or the message `key`), with that step's buttons."""
        lang, limits = draft.lang, self.limits
        required = self._media_required(draft)
        default_key, buttons, fields = {
            Step.PRIVACY: ("report_privacy", [self._button("report_agree_button", "agree", lang)],
                           {"days": limits.keep_days}),
            Step.KIND: ("report_kind_prompt", self._kind_buttons(lang), {}),
            Step.MEDIA: (
                "report_media_received" if draft.media
                else "report_media_required_prompt" if required
                else "report_media_optional_prompt",
                self._media_buttons(draft),
                {"max": limits.max_media, "mb": limits.max_media_mb, "count": len(draft.media)},
            ),
            Step.PLACE: ("report_place_prompt", [],
                         {"min": limits.place_chars[0], "max": limits.place_chars[1]}),
            Step.TIME: ("report_time_prompt", [self._button("report_now_button", "now", lang)],
                        {"max": limits.time_chars}),
            Step.DESCRIPTION: (
                "report_description_prompt" if draft.media else "report_description_prompt_needed",
                [self._button("report_skip_button", "skip", lang)] if draft.media else [],
                {"max": limits.description_chars},
            ),
            Step.CONFIRM: ("report_summary", [self._button("report_submit_button", "submit", lang)],
                           self.summary_fields(draft, lang, draft.updated_at)),
        }[draft.step]  # fmt: skip
        buttons.append(self._button("report_cancel_button", "cancel", lang))
        text = self.responder.ui(key or default_key, lang, **fields)
        return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=tuple(buttons))

    def notice(self, key: str, lang: str, **fields: object) -> Reply:
        return Reply(
            text=self.responder.ui(key, lang, **fields),
            lang=self.responder.language(lang),
            kind=ReplyKind.NOTICE,
        )

    def kind_label(self, kind: str | None, lang: str) -> str | None:
        """The kind's label, or None when content no longer has that kind."""
        found = self.responder.content.report_kinds.get(kind or "")
        return found.label[lang] if found else None

    def summary_fields(self, report: ReportDetails, lang: str, at: float) -> dict[str, str]:
        """The report's details as the summary and the review chat show them."""
        none = self.responder.ui("report_none", lang)
        if report.place:
            place = report.place
        elif report.latitude is not None and report.longitude is not None:
            place = self.responder.ui(
                "report_location", lang, lat=f"{report.latitude:.5f}", lon=f"{report.longitude:.5f}"
            )
        else:
            place = none
        captions = [m.caption for m in report.media if m.caption]
        photos = sum(1 for m in report.media if m.kind.startswith("photo"))
        videos = len(report.media) - photos
        media = (
            self.responder.ui("report_media_count", lang, photos=photos, videos=videos)
            if report.media
            else none
        )
        return {
            "kind": self.kind_label(report.kind, lang) or none,
            "media": media,
            "place": place,
            "time": report.occurred
            or self.responder.ui("report_just_now", lang, at=china_time(at)),
            "description": "\n".join(filter(None, [report.description, *captions])) or none,
        }

    # -- steps -------------------------------------------------------------------------------

    def _privacy(self, draft: Draft, event: ReportInput) -> ReportStep:
        if event.action == ACTION + "agree":  # a report begun by a photo knows its kind
            return self._to(draft, Step.MEDIA if draft.kind else Step.KIND)
        return ReportStep(draft, self.prompt(draft))

    def _kind(self, draft: Draft, event: ReportInput) -> ReportStep:
        kind = (event.action or "").removeprefix(ACTION + "kind:")
        if event.action and kind in self.responder.content.report_kinds:
            return self._to(replace(draft, kind=kind), Step.MEDIA)
        return ReportStep(draft, self.prompt(draft, "report_kind_expected"))

    def _media(self, draft: Draft, event: ReportInput) -> ReportStep:
        required = self._media_required(draft)
        if event.media is not None:
            if len(draft.media) >= self.limits.max_media:
                return ReportStep(draft, self.prompt(draft, "report_media_too_many"))
            if (event.media.size or 0) > self.limits.max_media_mb * 1024 * 1024:
                return ReportStep(draft, self.prompt(draft, "report_media_too_big"))
            draft = replace(draft, media=(*draft.media, event.media))
            return ReportStep(draft, self.prompt(draft, "report_media_received"))
        if event.action in (ACTION + "done", ACTION + "nomedia"):
            if required and not draft.media:
                return ReportStep(draft, self.prompt(draft, "report_media_needed"))
            return self._to(draft, Step.PLACE)
        expected = "report_media_expected" if required else "report_media_expected_optional"
        return ReportStep(draft, self.prompt(draft, expected))

    def _place(self, draft: Draft, event: ReportInput) -> ReportStep:
        if event.location is not None:
            latitude, longitude = event.location
            draft = replace(draft, place=None, latitude=latitude, longitude=longitude)
            return self._to(draft, Step.TIME)
        text = (event.text or "").strip()
        shortest, longest = self.limits.place_chars
        if shortest <= len(text) <= longest:
            return self._to(replace(draft, place=text, latitude=None, longitude=None), Step.TIME)
        return ReportStep(draft, self.prompt(draft, "report_place_expected"))

    def _time(self, draft: Draft, event: ReportInput) -> ReportStep:
        if event.action == ACTION + "now":
            return self._to(replace(draft, occurred=None), Step.DESCRIPTION)
        text = (event.text or "").strip()
        if text and len(text) <= self.limits.time_chars:
            return self._to(replace(draft, occurred=text), Step.DESCRIPTION)
        return ReportStep(draft, self.prompt(draft, "report_time_expected"))

    def _description(self, draft: Draft, event: ReportInput) -> ReportStep:
        text = (event.text or "").strip()
        if text and len(text) <= self.limits.description_chars:
            return self._to(replace(draft, description=text), Step.CONFIRM)
        if event.action == ACTION + "skip" and draft.media:
            return self._to(replace(draft, description=None), Step.CONFIRM)
        needed = "report_description_expected" if draft.media else "report_description_needed"
        return ReportStep(draft, self.prompt(draft, needed))

    def _confirm(self, draft: Draft, event: ReportInput) -> ReportStep:
        if event.action == ACTION + "submit":
            return ReportStep(draft, None, submit=True)
        return ReportStep(draft, self.prompt(draft, "report_confirm_expected"))

    # -- helpers -----------------------------------------------------------------------------

    def _to(self, draft: Draft, step: Step) -> ReportStep:
        moved = replace(draft, step=step)
        return ReportStep(moved, self.prompt(moved))

    def _media_required(self, draft: Draft) -> bool:
        kind = self.responder.content.report_kinds.get(draft.kind or "")
        return kind is not None and kind.media_required

    def _button(self, key: str, action: str, lang: str) -> Button:
        return Button(self.responder.ui(key, lang), ACTION + action)

    def _kind_buttons(self, lang: str) -> list[Button]:
        kinds = self.responder.content.report_kinds.values()
        return [Button(kind.label[lang], f"{ACTION}kind:{kind.id}") for kind in kinds]

    def _media_buttons(self, draft: Draft) -> list[Button]:
        if draft.media:
            return [self._button("report_done_button", "done", draft.lang)]
        if self._media_required(draft):
            return []
        return [self._button("report_no_media_button", "nomedia", draft.lang)]


def china_day(timestamp: float) -> str:
    """The calendar day in the counties, for the daily limit: YYYY-MM-DD."""
    return datetime.fromtimestamp(timestamp, CHINA_TIME).strftime("%Y-%m-%d")


def china_time(timestamp: float, with_date: bool = False) -> str:
    moment = datetime.fromtimestamp(timestamp, CHINA_TIME)
    return moment.strftime("%Y-%m-%d %H:%M" if with_date else "%m-%d %H:%M")
