"""The bureau's side of citizen reports: delivery to the review chat, the officers' accept and
reject buttons, and removing review copies when a resident uses /forget.

Delivery never loses a report: a submitted report stays `queued` in SQLite until the review
chat has its summary. It is tried at once, then by a background worker that backs off while
the chat is unreachable, and after a restart. Reports go out in the order they were made.
The queue's machinery is bot.telegram.delivery's, shared with residents' suggestions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from contextlib import AbstractContextManager

from telegram import InputMediaDocument, InputMediaPhoto, InputMediaVideo, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, ContextTypes

from bot.config import Settings
from bot.core.records import Report
from bot.core.report_flow import Media, ReportFlow, ReportLimits
from bot.core.report_replies import (
    REVIEW_ACTION,
    awaiting_list,
    decided_message,
    outcome_notice,
    review_message,
    status_name,
)
from bot.core.responder import Responder
from bot.numbers import ascii_whole_number
from bot.store.reports import ReportStore
from bot.telegram.admin import SETTINGS, is_reviewer
from bot.telegram.delivery import QueuedDelivery, delete_messages, refused_for_good
from bot.telegram.handlers import RESPONDER, responder_of, send_reply, with_retries
from bot.telegram.replies import keyboard

log = logging.getLogger(__name__)

REPORTS = "reports"  # bot_data key: the ReportStore
DELIVERY = "review_delivery"  # bot_data key: the ReviewDelivery
_ALBUM_ITEM = {"photo": InputMediaPhoto, "video": InputMediaVideo}


def report_flow(responder: Responder, settings: Settings) -> ReportFlow:
    """Built per use, so a content reload takes effect at once."""
    limits = ReportLimits(
        max_media=settings.report_max_media,
        max_media_mb=settings.report_max_mb,
        keep_days=settings.report_days,
    )
    return ReportFlow(responder, limits)


def flow_of(context: ContextTypes.DEFAULT_TYPE) -> ReportFlow:
    return report_flow(responder_of(context), context.bot_data[SETTINGS])


def reports_of(context: ContextTypes.DEFAULT_TYPE) -> ReportStore:
    return context.bot_data[REPORTS]


class ReviewDelivery(QueuedDelivery):
    """Citizen reports to the review chat: media first, then the summary with the buttons."""

    noun = "report"
    chat_name = "review chat"

    def __init__(
        self,
        application: Application,
        store: ReportStore,
        chat_id: int,
        retry_after: float = 30.0,
        longest_wait: float = 600.0,
    ) -> None:
        super().__init__(application, chat_id, retry_after, longest_wait)
        self.store = store

    def queued(self) -> list[Report]:
        return self.store.undelivered()

    async def deliver(self, report: Report) -> None:
        await self._deliver(report)

    def turn(self) -> AbstractContextManager[bool]:
        return self.store.delivery_turn()

    def count_failure(self, report: Report) -> int:
        return self.store.failed_attempt(report.id)

    def set_aside(self, report: Report, reason: str) -> None:
        """Keep a report that will never go out of the queue, stored and visible to the
        operator (`antifraud-bot reports`), so it cannot hold up the ones behind it."""
        sent = self.store.get(report.id) or report  # what reached the chat before it failed
        self.store.set_delivery(report.id, "refused", sent.review_messages)
        log.error(
            "report %s (%s) set aside for good (%s); kept as 'refused', not retried",
            report.id,
            report.reference,
            reason,
        )

    async def _deliver(self, report: Report) -> None:
        bot = self.application.bot
        messages = list(report.review_messages)
        media_lost = False
        if report.delivery == "queued":  # media first, so the summary's buttons come last
            try:
                messages += [m.message_id for m in await self._send_media(report)]
            except BadRequest as exc:
                if not refused_for_good(exc):
                    raise  # the review chat itself is wrong: keep the report queued
                # Telegram refuses these files for good (a new bot token invalidates file
                # ids, say): deliver the rest rather than hold up every later report.
                log.warning("report %s: media refused (%s)", report.id, exc.message)
                media_lost = True
            if report.latitude is not None and report.longitude is not None:
                pin = await bot.send_location(self.chat_id, report.latitude, report.longitude)
                messages.append(pin.message_id)
            await asyncio.to_thread(self.store.set_delivery, report.id, "media_sent", (*messages,))
        reply = review_message(self._flow(), report, self._lang(), media_lost)
        summary = await bot.send_message(self.chat_id, reply.text, reply_markup=keyboard(reply))
        delivered = (*messages, summary.message_id)
        await asyncio.to_thread(self.store.set_delivery, report.id, "delivered", delivered)
        log.info("report %s delivered to the review chat", report.id)

    async def _send_media(self, report: Report) -> list[Message]:
        # Telegram albums mix photos and videos, but files ("原图") only with files.
        shown = [m for m in report.media if m.kind in ("photo", "video")]
        files = [m for m in report.media if m.kind not in ("photo", "video")]
        sent: list[Message] = []
        for group in (shown, files):
            sent += await self._send_group(group, report.reference if not sent else None)
        return sent

    async def _send_group(self, media: list[Media], caption: str | None) -> list[Message]:
        bot = self.application.bot
        if len(media) == 1:
            item = media[0]
            send = {"photo": bot.send_photo, "video": bot.send_video}.get(
                item.kind, bot.send_document
            )
            return [await send(self.chat_id, item.file_id, caption=caption)]
        if media:
            album = [
                _ALBUM_ITEM.get(m.kind, InputMediaDocument)(
                    m.file_id, caption=caption if n == 0 else None
                )
                for n, m in enumerate(media)
            ]
            return list(await bot.send_media_group(self.chat_id, album))
        return []

    def _flow(self) -> ReportFlow:
        bot_data = self.application.bot_data
        return report_flow(bot_data[RESPONDER], bot_data[SETTINGS])

    def _lang(self) -> str:
        return self.application.bot_data[SETTINGS].default_lang

    def purge(self) -> None:
        days = self.application.bot_data[SETTINGS].report_days
        now = time.time()
        removed = self.store.purge(now - days * 86400, now)
        if removed:
            log.info("deleted %d reports past the %d-day retention period", removed, days)


async def deliver_now(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Right after a report is confirmed: try at once; the worker retries if this fails."""
    delivery: ReviewDelivery | None = context.bot_data.get(DELIVERY)
    if delivery is not None:
        await delivery.deliver_now()


# -- officers' decisions ---------------------------------------------------------------------


def _may_decide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A reviewer, pressing in the review chat (a forwarded or forged button elsewhere is not
    a decision)."""
    chat, settings = update.effective_chat, context.bot_data[SETTINGS]
    if chat is None or chat.id != settings.review_chat:
        log.warning("refused a report decision outside the review chat")
        return False
    return is_reviewer(update, context, "a report decision")


async def on_review_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, user = update.callback_query, update.effective_user
    if query is None or user is None:
        return
    settings: Settings = context.bot_data[SETTINGS]
    flow = flow_of(context)
    lang = settings.default_lang
    if not _may_decide(update, context):  # button data can be forged: check every press
        await query.answer(flow.responder.ui("reviewer_refused", lang), show_alert=True)
        return
    verdict, _, number = (query.data or "").removeprefix(REVIEW_ACTION).partition(":")
    store = reports_of(context)
    report_id = ascii_whole_number(number)  # int() would also read a forged "١" or "²"
    report = await asyncio.to_thread(store.get, report_id) if report_id is not None else None
    if report is None or verdict not in ("accept", "reject"):
        await query.answer(flow.responder.ui("review_gone", lang), show_alert=True)
        return
    status = "accepted" if verdict == "accept" else "rejected"
    decided = await asyncio.to_thread(store.decide, report.id, status, user.full_name, time.time())
    if decided is None:
        current = await asyncio.to_thread(store.get, report.id) or report
        name = status_name(flow, current.status, lang)
        await query.answer(flow.responder.ui("review_already", lang, status=name), show_alert=True)
        return
    await query.answer()
    log.info("report %s %s by a reviewer", report.id, status)
    await _tell_resident(context, flow, decided)  # first: the decision is theirs to hear
    if isinstance(query.message, Message):
        await _mark_decided(context, query.message, flow, decided, lang)


async def _mark_decided(
    context: ContextTypes.DEFAULT_TYPE,
    summary: Message,
    flow: ReportFlow,
    report: Report,
    lang: str,
) -> None:
    """Show the decision on the summary. Should Telegram refuse the edit, the buttons still
    go and the officers get the decision in a message of its own."""
    try:
        await with_retries(lambda: summary.edit_text(decided_message(flow, report, lang).text))
        return
    except TelegramError as exc:
        log.warning("report %s: summary not marked decided (%s)", report.id, exc.message)
    with contextlib.suppress(TelegramError):
        await with_retries(lambda: summary.edit_reply_markup(None))
    note = flow.responder.ui(
        "review_decided_note",
        lang,
        reference=report.reference,
        status=status_name(flow, report.status, lang),
        reviewer=report.decided_by or "?",
    )
    try:
        await with_retries(lambda: context.bot.send_message(summary.chat_id, note))
    except TelegramError as exc:  # the decision is stored and the resident told: log only
        log.warning("report %s: decision note not sent (%s)", report.id, exc.message)


async def _tell_resident(
    context: ContextTypes.DEFAULT_TYPE, flow: ReportFlow, report: Report
) -> None:
    notice = outcome_notice(flow, report)
    try:
        await with_retries(lambda: context.bot.send_message(report.chat_id, notice.text))
    except TelegramError as exc:  # blocked the bot, say: /myreports still shows the outcome
        log.warning(
            "could not tell the resident about report %s (%s)", report.id, type(exc).__name__
        )


async def on_pending(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pending: what the officers still have to decide, for reviewers only."""
    message, settings = update.effective_message, context.bot_data[SETTINGS]
    if message is None or settings.review_chat is None:
        return
    flow, lang = flow_of(context), settings.default_lang
    if not is_reviewer(update, context, "/pending"):
        await send_reply(message, flow.notice("reviewer_refused", lang))
        return
    reports = await asyncio.to_thread(reports_of(context).awaiting_decision, PENDING_SHOWN)
    await send_reply(message, awaiting_list(flow, reports, settings.review_chat, lang))


PENDING_SHOWN = 30


# -- /forget ---------------------------------------------------------------------------------


async def forget_reports(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> None:
    """Delete the resident's reports; remove their review copies unless the bureau keeps them
    (ANTIFRAUD_REVIEW_KEEP=accepted keeps the copies of accepted reports)."""
    settings: Settings = context.bot_data[SETTINGS]
    removed = await asyncio.to_thread(reports_of(context).forget_user, user_id)
    if settings.review_chat is None:
        return
    for report in removed:
        if settings.review_keep == "accepted" and report.status == "accepted":
            continue
        if not await delete_messages(context.bot, settings.review_chat, report.review_messages):
            text = flow_of(context).responder.ui(
                "review_withdrawn", settings.default_lang, reference=report.reference
            )
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(settings.review_chat, text)
