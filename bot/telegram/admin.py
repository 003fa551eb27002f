"""The administrator boundary, checked on the server for every admin command and button.

Button callback data can be forged by any client, so a button proves nothing by itself: each
step checks the sender's Telegram id against ANTIFRAUD_ADMINS again, and logs refusals.
"""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.telegram.handlers import responder_of, send_reply, user_language

log = logging.getLogger(__name__)
SETTINGS = "settings"  # bot_data key


def is_admin(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str) -> bool:
    user = update.effective_user
    settings: Settings = context.bot_data[SETTINGS]
    allowed = user is not None and user.id in settings.admins
    if not allowed:
        log.warning("refused %s from non-admin user %s", action, user.id if user else "?")
    return allowed


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
