"""What the bot says about a checked message: verdict, the flags quoted, what to do, the tip."""

from __future__ import annotations

from bot.core.responder import Responder
from bot.core.scam_check import ScamCheck
from bot.core.types import Button, Reply, ReplyKind

# Signs that the message asks for money: the advice then says plainly "don't pay".
MONEY_FLAGS = frozenset(
    {"transfer_request", "advance_fee", "safe_account", "recovery_bait", "two_cards"}
)


def _verdict(result: ScamCheck) -> str:
    """A low risk with signs listed, or with a number or link in it, is never "no known sign":
    that would contradict the list, or pass off a number the bot cannot look up."""
    if result.risk != "low":
        return f"check_{result.risk}"
    if result.contact:
        return "check_low_contact"
    return "check_low_signs" if result.flags else "check_low"


def check_reply(responder: Responder, result: ScamCheck, lang: str) -> Reply:
    lang = responder.language(result.lang or lang)
    flags = responder.content.red_flags
    lines = [responder.ui(_verdict(result), lang)]
    if result.flags:
        lines.append(responder.ui("check_flags", lang))
        shown: set[str] = set()
        for hit in result.flags:
            # Two signs read from the same words are one quote: the first sign explains it.
            if hit.quote not in shown:
                shown.add(hit.quote)
                lines.append(f"• 「{hit.quote}」{flags[hit.id].explain[lang]}")
    buttons: tuple[Button, ...] = ()
    if result.type:
        title = responder.content.replies[result.type].title[lang]
        lines.append(responder.ui("check_type", lang, title=title))
        buttons = (Button(f"📖 {title}", f"intent:{result.type}"),)
    if result.risk in ("high", "medium"):
        if any(hit.id in MONEY_FLAGS for hit in result.flags):
            lines.append(responder.ui("check_dont_pay", lang))
        lines.append(responder.ui(f"check_advice_{result.risk}", lang))
    buttons += (Button(responder.ui("menu_button", lang), "menu:main"),)
    return Reply(
        text="\n".join(lines), lang=lang, kind=ReplyKind.NOTICE, intent=result.type, buttons=buttons
    )


def guard_warning(responder: Responder, result: ScamCheck, lang: str) -> Reply:
    """The short warning posted in a group under a high-risk message."""
    lang = responder.language(result.lang or lang)
    separator = "、" if lang == "zh" else ", "
    quotes = separator.join(f"「{hit.quote}」" for hit in result.flags[:3])
    return Reply(
        text=responder.ui("guard_warning", lang, flags=quotes),
        lang=lang,
        kind=ReplyKind.NOTICE,
        intent=result.type,
    )
