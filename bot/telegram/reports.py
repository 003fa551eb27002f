"""The resident's side of citizen reports: /report (or the helmet.report intent), every step
of the report conversation, /cancel and /myreports.

The conversation itself is `bot.core.report_flow`; this module turns messages and buttons
into its inputs and stores the draft after every step in the database, so a restart (or a
crash) continues where the resident stopped. Every store call runs in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot.config import Settings
from bot.core.report_flow import (
    Draft,
    Media,
    ReportFlow,
    ReportInput,
    Step,
    china_day,
)
from bot.core.report_replies import report_list
from bot.store.reports import ReportStore
from bot.telegram.admin import SETTINGS
from bot.telegram.compute import off_loop
from bot.telegram.flow import PreparedFilter
from bot.telegram.handlers import (
    intent_actions,
    on_text,
    reply_private_only,
    responder_of,
    send_reply,
    user_language,
)
from bot.telegram.review import deliver_now, flow_of, reports_of

log = logging.getLogger(__name__)


class OpenReport(PreparedFilter):
    """Private messages from a resident who is writing a report: they belong to the report,
    not to the question answering. Looked up for every private message: one key lookup."""

    def __init__(self, store: ReportStore) -> None:
        super().__init__(name="OpenReport")
        self.store = store

    def applies(self, message: Message) -> bool:
        return message.chat.type == ChatType.PRIVATE and message.from_user is not None

    def look_up(self, message: Message) -> bool:
        draft = self.store.draft(message.from_user.id) if message.from_user else None
        return draft is not None and not draft.expired(time.time())


async def _over_daily_limit(context: ContextTypes.DEFAULT_TYPE, user_id: int, now: float) -> bool:
    """Calendar days in the counties, as residents count them."""
    limit = context.bot_data[SETTINGS].report_daily_limit
    submitted = await asyncio.to_thread(reports_of(context).submitted_on, user_id, china_day(now))
    return submitted >= limit


async def _limit_notice(message: Message, flow: ReportFlow, lang: str, settings: Settings) -> None:
    await send_reply(
        message, flow.notice("report_daily_limit", lang, limit=settings.report_daily_limit)
    )


async def start_report(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, asked: bool = False
) -> None:
    """/report, or (`asked`) a resident asking how to report: start or resume the report."""
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    settings: Settings = context.bot_data[SETTINGS]
    flow, lang = flow_of(context), await user_language(update, context) or ""
    if settings.review_chat is None:
        # Nobody would read a report: the channels that do exist, named.
        await send_reply(message, responder_of(context).notice("report_no_review_chat", lang))
        return
    if asked:
        # How reporting works (and the bureau's other channels, when configured) first.
        await send_reply(message, responder_of(context).answer("helmet.report", lang))
        if chat.type != ChatType.PRIVATE:
            return
    if await reply_private_only(update, context, "report_private_only"):
        return
    store, now = reports_of(context), time.time()
    draft = await asyncio.to_thread(store.draft, user.id)
    if draft is not None and not draft.expired(now):  # carry on where they stopped
        await send_reply(message, flow.prompt(draft))
        return
    if await _over_daily_limit(context, user.id, now):
        await _limit_notice(message, flow, lang, settings)
        return
    step = flow.start(lang, await asyncio.to_thread(store.has_consented, user.id), now)
    if step.draft is not None and step.reply is not None:
        await asyncio.to_thread(store.save_draft, user.id, step.draft)
        await send_reply(message, step.reply)


async def start_report_with_photo(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, kind: str
) -> bool:
    """A photo whose caption describes a violation: a report of `kind` with that photo in
    it. False when no report can be taken here (no review chat, a group, the daily limit
    reached), so the caller answers the caption instead."""
    user, chat = update.effective_user, update.effective_chat
    settings: Settings = context.bot_data[SETTINGS]
    if user is None or chat is None or chat.type != ChatType.PRIVATE:
        return False
    if settings.review_chat is None or kind not in responder_of(context).content.report_kinds:
        return False
    store, flow, now = reports_of(context), flow_of(context), time.time()
    if await _over_daily_limit(context, user.id, now):
        return False
    event = _report_input(message)
    if event.media is None:
        return False
    lang = await user_language(update, context) or ""
    consented = await asyncio.to_thread(store.has_consented, user.id)
    step = flow.start_with_media(lang, consented, now, kind, event.media)
    if step.draft is None or step.reply is None:
        return False
    draft = replace(step.draft, last_message_id=message.message_id)
    await asyncio.to_thread(store.save_draft, user.id, draft)
    await send_reply(message, step.reply)
    return True


async def on_report(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message is not None:
        await start_report(update, context, update.effective_message)


def _report_input(message: Message) -> ReportInput:
    caption = message.caption
    if message.photo:
        largest = message.photo[-1]
        return ReportInput(media=Media("photo", largest.file_id, largest.file_size, caption))
    if message.video:
        video = message.video
        return ReportInput(media=Media("video", video.file_id, video.file_size, caption))
    document = message.document
    if document and (document.mime_type or "").startswith(("image/", "video/")):
        kind = "photo_file" if document.mime_type.startswith("image/") else "video_file"
        return ReportInput(media=Media(kind, document.file_id, document.file_size, caption))
    if message.location:
        return ReportInput(location=(message.location.latitude, message.location.longitude))
    return ReportInput(text=message.text)  # a sticker or voice note: no text, so "expected"


async def on_report_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    draft = await asyncio.to_thread(reports_of(context).draft, user.id)
    if draft is None or message.message_id <= draft.last_message_id:
        return  # no report, or a message Telegram delivered twice: applied already
    draft = replace(draft, last_message_id=message.message_id)
    if (
        draft.step in (Step.PRIVACY, Step.KIND)
        and message.text
        and await _is_other_question(context, message.text, draft.lang)
    ):
        # Nothing is entered yet and they asked something else: answer that instead of
        # holding them in the report (they can send /report again at any time).
        await asyncio.to_thread(reports_of(context).drop_draft, user.id)
        await on_text(update, context)
        return
    await _advance(update, context, message, draft, _report_input(message))


async def _is_other_question(context: ContextTypes.DEFAULT_TYPE, text: str, lang: str) -> bool:
    intent = (await off_loop(responder_of(context).match, text, lang)).intent
    return intent is not None and intent not in intent_actions(context)


async def on_report_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or user is None or not isinstance(query.message, Message):
        return
    await query.answer()
    draft = await asyncio.to_thread(reports_of(context).draft, user.id)
    if draft is None or draft.expired(time.time()):
        lang = await user_language(update, context) or ""
        await send_reply(query.message, flow_of(context).notice("report_stale_button", lang))
        return
    await _advance(update, context, query.message, draft, ReportInput(action=query.data))


async def _advance(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    draft: Draft,
    event: ReportInput,
) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    store, flow, now = reports_of(context), flow_of(context), time.time()
    step = flow.advance(draft, event, now)
    if step.draft is None:  # cancelled
        await asyncio.to_thread(store.drop_draft, user.id)
    elif step.submit:
        await _submit(context, message, user.id, chat.id, step.draft, now)
        return
    else:
        if draft.step is Step.PRIVACY and step.draft.step is not Step.PRIVACY:
            # the notice is shown once, before the first report
            await asyncio.to_thread(store.consent, user.id)
        await asyncio.to_thread(store.save_draft, user.id, step.draft)
        if message.media_group_id and len(step.draft.media) > len(draft.media):
            _acknowledge_album(context, message, user.id)
            return
    if step.reply is not None:
        await send_reply(message, step.reply)


ALBUM_QUIET = 1.0  # seconds without another photo of an album before acknowledging it
_ALBUM_ACKS = "report_album_acks"  # bot_data key: user id -> the pending acknowledgement


def _acknowledge_album(context: ContextTypes.DEFAULT_TYPE, message: Message, user_id: int) -> None:
    """Telegram delivers an album as one message per photo: acknowledge the album once,
    when its last photo is in, rather than once per photo."""
    pending: dict[int, asyncio.Task] = context.bot_data.setdefault(_ALBUM_ACKS, {})
    if user_id in pending:
        pending.pop(user_id).cancel()

    async def acknowledge() -> None:
        await asyncio.sleep(ALBUM_QUIET)
        pending.pop(user_id, None)
        draft = await asyncio.to_thread(reports_of(context).draft, user_id)
        if draft is not None and draft.step is Step.MEDIA:
            await send_reply(message, flow_of(context).prompt(draft))

    pending[user_id] = asyncio.create_task(acknowledge())


async def _submit(
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    user_id: int,
    chat_id: int,
    draft: Draft,
    now: float,
) -> None:
    store, flow = reports_of(context), flow_of(context)
    if await _over_daily_limit(context, user_id, now):  # reports sent since this one began
        await asyncio.to_thread(store.drop_draft, user_id)
        await _limit_notice(message, flow, draft.lang, context.bot_data[SETTINGS])
        return
    report = await asyncio.to_thread(store.submit, user_id, chat_id, draft, now)
    log.info("report %s submitted (kind %s, %d media)", report.id, report.kind, len(report.media))
    await send_reply(
        message, flow.notice("report_submitted", draft.lang, reference=report.reference)
    )
    await deliver_now(context)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    store = reports_of(context)
    draft = await asyncio.to_thread(store.draft, user.id)
    lang = draft.lang if draft else await user_language(update, context) or ""
    dropped = await asyncio.to_thread(store.drop_draft, user.id)
    key = "report_cancelled" if dropped else "report_nothing_to_cancel"
    await send_reply(message, flow_of(context).notice(key, lang))


async def on_myreports(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or await reply_private_only(update, context):
        return
    lang = await user_language(update, context) or ""
    reports = await asyncio.to_thread(reports_of(context).for_user, user.id)
    await send_reply(message, report_list(flow_of(context), reports, lang))


async def on_report_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message
) -> None:
    await start_report(update, context, message, asked=True)
