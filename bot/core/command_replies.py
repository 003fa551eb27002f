"""Replies to /lang with an argument and to commands the bot does not know.

Pure functions over the Responder's content, shared by Telegram and the offline chat.
"""

from __future__ import annotations

from dataclasses import replace

from bot.content.model import LANGUAGES
from bot.core.responder import Responder
from bot.core.types import Reply

MAX_SHOWN = 32  # characters of what the resident typed that a reply repeats


def _shown(typed: str) -> str:
    return typed if len(typed) <= MAX_SHOWN else typed[:MAX_SHOWN] + "…"


def lang_command(responder: Responder, argument: str, lang: str) -> tuple[str | None, Reply]:
    """(the language /lang ARGUMENT switches to, or None; the reply). No argument: the
    language buttons. zh or en, in any case: switched at once. Anything else: the code is
    named as unknown, with the buttons."""
    code = argument.strip()
    if not code:
        return None, responder.language_menu(lang)
    if code.lower() in LANGUAGES:
        chosen = code.lower()
        return chosen, responder.notice("lang_switched", chosen, with_menu=True)
    buttons = responder.language_menu(lang)
    return None, replace(buttons, text=responder.ui("lang_unknown", lang, code=_shown(code)))


def unknown_command(responder: Responder, command: str, lang: str) -> Reply:
    """A short hint naming the command, and the topic menu."""
    text = responder.ui("unknown_command", lang, command=_shown(command))
    return responder.menu("main", lang, preface=text)
