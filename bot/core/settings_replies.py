"""Replies about what the bot stores for a resident: alert subscription, area, language.

Pure functions over the Responder's content: the Telegram handlers only send them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.records import TOPICS, Subscription
from bot.core.responder import Responder
from bot.core.types import Button, Reply, ReplyKind


def _topic_names(responder: Responder, topics: tuple[str, ...], lang: str) -> str:
    separator = "、" if lang == "zh" else ", "
    return separator.join(responder.ui(f"topic_{t}", lang) for t in topics)


def _area_name(responder: Responder, area: str | None, lang: str) -> str:
    if area and area in responder.content.areas:
        return responder.content.areas[area][lang]
    return responder.ui("area_any", lang)


def _audience_names(responder: Responder, audiences: tuple[str, ...], lang: str) -> str:
    """The groups a subscriber joined, in content order (an id since removed from content
    is left out: it no longer selects anything)."""
    known = responder.content.audiences
    names = [known[a].name[lang] for a in known if a in audiences]
    separator = "、" if lang == "zh" else ", "
    return separator.join(names) or responder.ui("audiences_none", lang)


def subscription_status(
    responder: Responder, subscription: Subscription, lang: str, preface_key: str | None = None
) -> Reply:
    lang = responder.language(lang)
    text = responder.ui(
        "sub_status",
        lang,
        topics=_topic_names(responder, subscription.topics, lang),
        area=_area_name(responder, subscription.area, lang),
    )
    if responder.content.audiences:
        names = _audience_names(responder, subscription.audiences, lang)
        text = f"{text}\n{responder.ui('audiences_line', lang, audiences=names)}"
    if preface_key:
        text = f"{responder.ui(preface_key, lang)}\n{text}"
    toggles = [
        Button(
            ("✅ " if t in subscription.topics else "⬜ ") + responder.ui(f"topic_{t}", lang),
            f"sub:topic:{t}",
        )
        for t in TOPICS
    ]
    buttons = (
        *toggles,
        Button(responder.ui("area_button", lang), "sub:areas"),
        *_audiences_button(responder, lang),
        Button(responder.ui("unsubscribe_button", lang), "sub:off"),
    )
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)


def _audiences_button(responder: Responder, lang: str) -> tuple[Button, ...]:
    if not responder.content.audiences:
        return ()
    return (Button(responder.ui("audiences_button", lang), "sub:audiences"),)


def audience_menu(responder: Responder, subscription: Subscription, lang: str) -> Reply:
    """The audience groups with what each is for, a tick on those joined, and Done."""
    lang = responder.language(lang)
    known = responder.content.audiences
    groups = "\n".join(f"• {a.name[lang]}: {a.why[lang]}" for a in known.values())
    toggles = tuple(
        Button(
            ("✅ " if a.id in subscription.audiences else "⬜ ") + a.name[lang], f"sub:aud:{a.id}"
        )
        for a in known.values()
    )
    done = Button(responder.ui("audiences_done_button", lang), "sub:status")
    return Reply(
        text=responder.ui("audiences_prompt", lang, groups=groups),
        lang=lang,
        kind=ReplyKind.MENU,
        buttons=(*toggles, done),
    )


AREAS_PER_PAGE = 6  # with "more" and the way back: at most 8 buttons on a phone


def area_menu(responder: Responder, lang: str, county: str | None = None, page: int = 0) -> Reply:
    """The township picker, a phone screen at a time: all townships or a county first, then
    that county's townships, six a page, with "more" and a way back."""
    lang = responder.language(lang)
    areas = responder.content.areas
    counties = list(dict.fromkeys(area.partition(".")[0] for area in areas))
    if county not in counties:
        buttons = (
            Button(responder.ui("area_any", lang), "sub:area:all"),
            *(Button(_county_label(responder, c, lang), f"sub:areas:{c}:0") for c in counties),
        )
    else:
        towns = [a for a in areas if a.partition(".")[0] == county]
        pages = max(1, -(-len(towns) // AREAS_PER_PAGE))
        page = min(max(page, 0), pages - 1)
        shown = towns[page * AREAS_PER_PAGE : (page + 1) * AREAS_PER_PAGE]
        buttons = tuple(Button(areas[a][lang], f"sub:area:{a}") for a in shown)
        if page + 1 < pages:
            more = Button(responder.ui("area_more", lang), f"sub:areas:{county}:{page + 1}")
            buttons += (more,)
        back = f"sub:areas:{county}:{page - 1}" if page else "sub:areas"
        buttons += (Button(responder.ui("area_back", lang), back),)
    return Reply(
        text=responder.ui("area_prompt", lang), lang=lang, kind=ReplyKind.MENU, buttons=buttons
    )


def _county_label(responder: Responder, county: str, lang: str) -> str:
    label = responder.content.ui.get(f"area_county_{county}")
    return label[lang] if label else county


def stored_data(
    responder: Responder,
    language: str | None,
    subscription: Subscription | None,
    reports: int,
    lang: str,
    suggestions: int = 0,
) -> Reply:
    """What /mysettings shows: everything the bot keeps about this resident, with the
    buttons to change the subscription when there is one."""
    lang = responder.language(lang)
    chosen = {"zh": "中文", "en": "English"}.get(language or "") or responder.ui(
        "settings_lang_unset", lang
    )
    if subscription is None:
        summary = responder.ui("settings_not_subscribed", lang)
    else:
        since = datetime.fromtimestamp(subscription.created_at, UTC).strftime("%Y-%m-%d")
        groups = ""
        if subscription.audiences:
            groups = f"{_audience_names(responder, subscription.audiences, lang)}; "
        summary = (
            f"{_topic_names(responder, subscription.topics, lang)}; "
            f"{_area_name(responder, subscription.area, lang)}; {groups}{since}"
        )
    text = responder.ui(
        "settings",
        lang,
        language=chosen,
        subscription=summary,
        reports=reports,
        suggestions=suggestions,
    )
    buttons: tuple[Button, ...] = ()
    if subscription is not None:
        buttons = (
            Button(responder.ui("area_button", lang), "sub:areas"),
            *_audiences_button(responder, lang),
        )
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)
