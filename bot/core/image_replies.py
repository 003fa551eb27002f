"""What the bot says about a checked picture: the verdict on its text, then, shortened and
defanged, what was read, so the resident sees what the bot saw."""

from __future__ import annotations

from dataclasses import replace

from bot.core.check_replies import check_reply
from bot.core.responder import Responder
from bot.core.scam_check import ScamCheck, defang
from bot.core.types import Button, Reply, ReplyKind

SHOWN_CHARS = 300  # of the text read: enough to recognise the message, short in a chat


def shortened(text: str, limit: int = SHOWN_CHARS) -> str:
    text = "\n".join(line.strip() for line in text.splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def image_check_reply(responder: Responder, result: ScamCheck, text_read: str, lang: str) -> Reply:
    reply = check_reply(responder, result, lang)
    shown = responder.ui("ocr_read", reply.lang, text=defang(shortened(text_read)))
    return replace(reply, text=f"{reply.text}\n\n{shown}")


def no_text_reply(responder: Responder, lang: str) -> Reply:
    """A picture with no text is no "low risk": ask for the text, or offer to report it."""
    lang = responder.language(lang)
    return Reply(
        text=responder.ui("ocr_no_text", lang),
        lang=lang,
        kind=ReplyKind.NOTICE,
        buttons=(
            Button(responder.ui("ocr_report_button", lang), "intent:helmet.report"),
            Button(responder.ui("menu_button", lang), "menu:main"),
        ),
    )


def unread_media_reply(responder: Responder, media: str, lang: str) -> Reply:
    """A photo the bot cannot read here (image checking off) or a voice note: what to do
    instead, with a way forward (report it, type it, the menu) and 110 for emergencies."""
    lang = responder.language(lang)
    key = "voice_note" if media == "voice" else "photo_unread"
    buttons = (Button(responder.ui("menu_button", lang), "menu:main"),)
    if media != "voice":
        report = Button(responder.ui("ocr_report_button", lang), "intent:helmet.report")
        buttons = (report, *buttons)
    return Reply(text=responder.ui(key, lang), lang=lang, kind=ReplyKind.NOTICE, buttons=buttons)
