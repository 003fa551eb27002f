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
from bot.telegram.handlers import responder_of, send_reply, user_language

log = logging.getLogger(__name__)
SETTINGS = "settings"  # bot_data key


def _listed(update: Update, allowed_ids: frozenset[int], action: str, role: str) -> bool:
    user = update.effective_user
    allowed = user is not None and user.id in allowed_ids
    if not allowed:
        log.warning("refused %s from non-%s user %s", action, role, user.id if user else "?")
    return allowed


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> bool:
    settings: Settings = context.bot_data[SETTINGS]
    return _listed(update, settings.admins, action, "admin")


def is_reviewer(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> bool:
    """A reviewing officer (ANTIFRAUD_REVIEWERS) may decide on citizen reports."""
    settings: Settings = context.bot_data[SETTINGS]
    return _listed(update, settings.reviewers, action, "reviewer")


async def admin_command(
    update: Update, context: ContextTypes.DEFAULT_TYPE, action: str
) -> tuple[Message, str] | None:
    """(message, language) when an administrator sent the command; otherwise the sender is
    refused (politely, and in the log) and None is returned."""
    message = update.effective_message
    if message is None:
        return None
    responder = responder_of(context)
    lang = responder.language(user_language(update, context))
    if not is_admin(update, context, action):
        await send_reply(message, responder.notice("admin_refused", lang))
        return None
    return message, lang
