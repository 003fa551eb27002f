"""/start <code>: a resident arriving from a campaign's link (https://t.me/<bot>?start=<code>)
gets that campaign's greeting and the menu; the visit is counted, without the user id."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.campaign_replies import campaign_greeting
from bot.store.campaigns import SqliteCampaignStore
from bot.telegram.handlers import on_command, responder_of, send_reply, user_language

log = logging.getLogger(__name__)

CAMPAIGNS = "campaigns"  # bot_data key: the SqliteCampaignStore


async def on_start_with_code(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start with a payload. An unknown code (a typo, an old poster, a forged link) gets the
    normal greeting and is not counted: only codes the content defines are."""
    message = update.effective_message
    if message is None:
        return
    code = (context.args or [""])[0].lower()
    responder = responder_of(context)
    campaign = responder.content.campaigns.get(code)
    if campaign is None:
        await on_command(update, context)
        return
    store: SqliteCampaignStore | None = context.bot_data.get(CAMPAIGNS)
    if store is not None:
        await asyncio.to_thread(store.record, code)
    log.info("campaign link opened: %s", code)
    lang = await user_language(update, context) or ""
    await send_reply(message, campaign_greeting(responder, campaign, lang))
