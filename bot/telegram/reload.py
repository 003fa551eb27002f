"""/reload (administrators) and SIGHUP: re-read intents/ and content/ without a restart.

Invalid content is refused with its file:line errors and the bot keeps the content it had:
the Responder is swapped only once the new one has been built and validated completely.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.config import Settings
from bot.content.reader import InvalidContent
from bot.core.types import Reply, ReplyKind
from bot.startup import load_responder
from bot.telegram.admin import SETTINGS, admin_command
from bot.telegram.handlers import RESPONDER, send_reply

log = logging.getLogger(__name__)
MAX_ERRORS_SHOWN = 20


def reload_content(application: Application) -> tuple[bool, str]:
    """Load the content again; on success swap it in. Returns (ok, what to tell the admin)."""
    settings: Settings = application.bot_data[SETTINGS]
    old = application.bot_data[RESPONDER]
    lang = old.default_lang
    try:
        responder = load_responder(settings)
    except InvalidContent as exc:
        log.warning("reload refused: %d problem(s) in the content", len(exc.errors))
        shown = "\n".join(str(e) for e in exc.errors[:MAX_ERRORS_SHOWN])
        if len(exc.errors) > MAX_ERRORS_SHOWN:
            shown += f"\n… (+{len(exc.errors) - MAX_ERRORS_SHOWN})"
        return False, old.ui("reload_failed", lang, errors=shown)
    application.bot_data[RESPONDER] = responder
    log.info("content reloaded: %d intents", len(responder.content.intents))
    return True, responder.ui(
        "reload_done",
        lang,
        intents=len(responder.content.intents),
        figures=len(responder.content.figures),
    )


async def on_reload(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    allowed = await admin_command(update, context, "/reload")
    if allowed is None:
        return
    message, lang = allowed
    # Loading takes most of a second: keep the event loop (and other residents) going.
    _, text = await asyncio.to_thread(reload_content, context.application)
    await send_reply(message, Reply(text, lang, ReplyKind.NOTICE))


def reload_on_sighup(application: Application) -> None:
    """`kill -HUP <pid>` reloads the content, as daemons do; failures are logged only."""
    try:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(
            signal.SIGHUP,
            lambda: application.create_task(asyncio.to_thread(reload_content, application)),
        )
    except (NotImplementedError, RuntimeError, AttributeError):  # no signals here (Windows)
        log.info("SIGHUP reload is not available on this platform")
