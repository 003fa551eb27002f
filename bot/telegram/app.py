"""Build the python-telegram-bot Application: every handler is registered here, in one place."""

from __future__ import annotations

from telegram import BotCommand
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import Settings
from bot.core.responder import Responder
from bot.store.preferences import PreferenceStore
from bot.telegram import handlers

COMMANDS = ("start", "help", "tips", "stats", "lang")
# Shown in Telegram's command menu, per the resident's app language.
COMMAND_DESCRIPTIONS = {
    "zh": {
        "start": "开始 / 话题菜单",
        "help": "我能做什么",
        "tips": "防骗要点",
        "stats": "数据",
        "lang": "切换语言",
    },
    "en": {
        "start": "Start / topic menu",
        "help": "What I can do",
        "tips": "How to avoid scams",
        "stats": "Figures",
        "lang": "Switch language",
    },
}


async def _set_commands(application: Application) -> None:
    for lang, descriptions in COMMAND_DESCRIPTIONS.items():
        commands = [BotCommand(name, descriptions[name]) for name in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=lang)
    default = [BotCommand(n, COMMAND_DESCRIPTIONS["zh"][n]) for n in COMMANDS]
    await application.bot.set_my_commands(default)


def build_application(
    settings: Settings,
    responder: Responder,
    store: PreferenceStore,
    request: BaseRequest | None = None,
) -> Application:
    """The whole bot. `request` replaces the HTTP transport (the fake Bot API in tests)."""
    if not settings.token:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(settings.base_url)
        .post_init(_set_commands)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    application = builder.build()
    application.bot_data[handlers.RESPONDER] = responder
    application.bot_data[handlers.STORE] = store

    application.add_handler(CommandHandler(list(COMMANDS), handlers.on_command))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    application.add_handler(
        MessageHandler(
            filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED, handlers.on_text
        )
    )
    application.add_handler(
        MessageHandler(
            ~filters.TEXT & ~filters.StatusUpdate.ALL & ~filters.UpdateType.EDITED,
            handlers.on_non_text,
        )
    )
    application.add_error_handler(handlers.on_error)
    return application
