"""/insights for administrators: what residents asked that the bot could not answer."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from telegram import Update
from telegram.ext import ContextTypes

from bot.core.insight_replies import insights_text
from bot.core.types import Reply, ReplyKind
from bot.numbers import ascii_whole_number
from bot.store.insights import MAX_SUMMARY_DAYS
from bot.telegram.admin import admin_command
from bot.telegram.campaigns import CAMPAIGNS
from bot.telegram.handlers import FEEDBACK, INSIGHTS, responder_of, send_reply

DEFAULT_DAYS = 30


async def on_insights(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/insights [days]"""
    allowed = await admin_command(update, context, "/insights")
    if allowed is None:
        return
    message, lang = allowed
    argument = (message.text or "").partition(" ")[2].strip()
    days = ascii_whole_number(argument) or DEFAULT_DAYS
    days = min(days, MAX_SUMMARY_DAYS)  # more than kept anyway; the reply names the days
    summary = await asyncio.to_thread(context.bot_data[INSIGHTS].summary, days)
    visits = context.bot_data.get(CAMPAIGNS)
    if visits is not None:
        summary = replace(summary, campaigns=await asyncio.to_thread(visits.summary, days))
    feedback = context.bot_data.get(FEEDBACK)
    votes = await asyncio.to_thread(feedback.summary, days) if feedback is not None else None
    text = insights_text(responder_of(context), summary, lang, votes)
    await send_reply(message, Reply(text, lang, ReplyKind.NOTICE))
