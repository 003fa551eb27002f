"""What residents and officers are told about suggestions. Pure functions over the Responder's
content: the Telegram handlers only send them."""

from __future__ import annotations

import unicodedata

from bot.core.normalize import without_surrogates
from bot.core.records import Suggestion
from bot.core.report_flow import china_time
from bot.core.responder import Responder
from bot.core.types import Button, Reply, ReplyKind
from bot.privacy import mask_personal_data

MAX_SUGGESTION = 1000  # characters a suggestion may have: "a short text"
ACTION = "sugg:"  # prefix of every suggestion button
SHOWN_IN_LIST = 200  # characters of each suggestion and answer /mysuggestions shows


def clean_suggestion(text: str) -> str:
    """What is stored: personal numbers masked (as insights are), control characters and
    surrogates gone, runs of spaces folded; line breaks kept, a resident may list points."""
    text = without_surrogates(text)
    text = "".join(c for c in text if c in "\n" or unicodedata.category(c)[0] != "C")
    lines = [" ".join(line.split()) for line in mask_personal_data(text).splitlines()]
    return "\n".join(line for line in lines if line).strip()


def notice(responder: Responder, lang: str, days: int) -> str:
    return responder.ui("suggest_notice", lang, days=days)


def prompt(responder: Responder, lang: str, days: int) -> Reply:
    lang = responder.language(lang)
    text = responder.ui(
        "suggest_prompt", lang, max=MAX_SUGGESTION, notice=notice(responder, lang, days)
    )
    cancel = Button(responder.ui("suggest_cancel_button", lang), f"{ACTION}cancel")
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=(cancel,))


def received(responder: Responder, suggestion: Suggestion, lang: str, days: int) -> Reply:
    lang = responder.language(lang)
    text = responder.ui(
        "suggest_done",
        lang,
        reference=suggestion.reference,
        notice=notice(responder, lang, days),
    )
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE)


def status_name(responder: Responder, status: str, lang: str) -> str:
    return responder.ui(f"suggestion_status_{status}", lang)


def _short(text: str) -> str:
    return text if len(text) <= SHOWN_IN_LIST else text[: SHOWN_IN_LIST - 1] + "…"


def my_suggestions(responder: Responder, suggestions: list[Suggestion], lang: str) -> Reply:
    """/mysuggestions: each with its reference, date, status, text and the answers."""
    lang = responder.language(lang)
    if not suggestions:
        return Reply(responder.ui("mysuggestions_none", lang), lang, ReplyKind.NOTICE)
    lines = [responder.ui("mysuggestions_heading", lang)]
    label = responder.ui("mysuggestions_answer", lang)
    for item in suggestions:
        when = china_time(item.created_at, with_date=True)
        lines.append(f"\n{item.reference} ({when}): {status_name(responder, item.status, lang)}")
        lines.append(f"  {_short(item.text)}")
        for answer in item.answers:
            lines.append(f"  ↳ {label} ({china_time(answer.at, True)}): {_short(answer.text)}")
    return Reply("\n".join(lines), lang, ReplyKind.NOTICE)


def bureau_message(responder: Responder, suggestion: Suggestion, lang: str) -> Reply:
    """The suggestion as the officers see it, with their buttons."""
    text = responder.ui(
        "bureau_suggestion",
        lang,
        reference=suggestion.reference,
        when=china_time(suggestion.created_at, with_date=True),
        text=suggestion.text,
    )
    buttons = (
        Button(responder.ui("bureau_how_button", lang), f"{ACTION}how:{suggestion.id}"),
        Button(responder.ui("bureau_resolved_button", lang), f"{ACTION}resolved:{suggestion.id}"),
        Button(responder.ui("bureau_referred_button", lang), f"{ACTION}referred:{suggestion.id}"),
    )
    return Reply(text=text, lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)


def answered(responder: Responder, suggestion: Suggestion, text: str) -> str:
    """An officer's answer, as the resident gets it (in the resident's language)."""
    return responder.ui(
        "suggestion_answered", suggestion.lang, reference=suggestion.reference, text=text
    )


def decided(responder: Responder, suggestion: Suggestion) -> str:
    lang = suggestion.lang
    status = status_name(responder, suggestion.status, lang)
    return responder.ui("suggestion_decided", lang, reference=suggestion.reference, status=status)
