"""The administrator and reviewer boundary, checked on the server for every admin command,
report decision and button.

Button callback data can be forged by any client, so a button proves nothing by itself: each
step checks the sender's Telegram id against ANTIFRAUD_ADMINS (or ANTIFRAUD_REVIEWERS) again,
and logs refusals.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.core.responder import Responder
from bot.privacy import LoggedId
from bot.telegram.handlers import responder_of, send_reply, user_language

log = logging.getLogger(__name__)
SETTINGS = "settings"  # bot_data key


def _listed(update: Update, allowed_ids: frozenset[int], action: str, role: str) -> bool:
    user = update.effective_user
    allowed = user is not None and user.id in allowed_ids
    if not allowed:
        sender = LoggedId(user.id) if user else "?"
        log.warning("refused %s from non-%s user %s", action, role, sender)
    return allowed


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> bool:
    settings: Settings = context.bot_data[SETTINGS]
    return _listed(update, settings.admins, action, "admin")


def is_reviewer(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> bool:
    """A reviewing officer (ANTIFRAUD_REVIEWERS) may decide on citizen reports."""
    settings: Settings = context.bot_data[SETTINGS]
    return _listed(update, settings.reviewers, action, "reviewer")


def _refusal_key(responder: Responder, action: str) -> str:
    """The ui text saying what was refused: admin_refused_reload for /reload and so on; the
    alert commands use admin_refused."""
    key = "admin_refused_" + action.lstrip("/")
    return key if key in responder.content.ui else "admin_refused"


async def admin_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str
) -> tuple[Message, str] | None:
    """(message, language) when an administrator sent the command; otherwise the sender is
    refused (politely, saying what was refused, and in the log) and None is returned."""
    message = update.effective_message
    if message is None:
        return None
    responder = responder_of(context)
    lang = responder.language(await user_language(update, context))
    if not is_admin(update, context, action):
        await send_reply(message, responder.notice(_refusal_key(responder, action), lang))
        return None
    return message, lang
