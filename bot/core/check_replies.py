"""What the bot says about a checked message: verdict, the flags quoted, what to do, the tip."""

from __future__ import annotations

from bot.core.responder import Responder
from bot.core.scam_check import ScamCheck
from bot.core.types import Button, Reply, ReplyKind


def check_reply(responder: Responder, result: ScamCheck, lang: str) -> Reply:
    lang = responder.language(lang)
    flags = responder.content.red_flags
    # A low risk with signs listed is worded as such: "no known signs" above a list would
    # contradict itself.
    verdict = "check_low_signs" if result.risk == "low" and result.flags else f"check_{result.risk}"
    lines = [responder.ui(verdict, lang)]
    if result.flags:
        lines.append(responder.ui("check_flags", lang))
        lines += [f"• 「{hit.quote}」{flags[hit.id].explain[lang]}" for hit in result.flags]
    buttons: tuple[Button, ...] = ()
    if result.type:
        title = responder.content.replies[result.type].title[lang]
        lines.append(responder.ui("check_type", lang, title=title))
        buttons = (Button(f"📖 {title}", f"intent:{result.type}"),)
    if result.risk in ("high", "medium"):
        lines.append(responder.ui(f"check_advice_{result.risk}", lang))
    buttons += (Button(responder.ui("menu_button", lang), "menu:main"),)
    return Reply(
        text="\n".join(lines), lang=lang, kind=ReplyKind.NOTICE, intent=result.type, buttons=buttons
    )


def guard_warning(responder: Responder, result: ScamCheck, lang: str) -> Reply:
    """The short warning posted in a group under a high-risk message."""
    lang = responder.language(lang)
    separator = "、" if lang == "zh" else ", "
    quotes = separator.join(f"「{hit.quote}」" for hit in result.flags[:3])
    return Reply(
        text=responder.ui("guard_warning", lang, flags=quotes),
        lang=lang,
        kind=ReplyKind.NOTICE,
        intent=result.type,
    )
