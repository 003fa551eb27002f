"""Residents' suggestions, tracked to an answer: /suggest (or the button under the answer on
how to raise a problem), /mysuggestions, the officers' replies and buttons in the suggestions
chat (ANTIFRAUD_SUGGESTIONS_CHAT), and /forget.

A suggestion is stored (masked) as queued before the resident gets its reference; delivery to
the suggestions chat is bot.telegram.delivery's, the same queue as citizen reports: tried at
once, retried with back-off while the chat is unreachable and after a restart, never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from contextlib import AbstractContextManager
from dataclasses import replace

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, filters

from bot.config import Settings
from bot.core import suggestion_replies as replies
from bot.core.records import Suggestion
from bot.core.report_flow import china_day
from bot.core.types import Button, Reply, ReplyKind
from bot.numbers import ascii_whole_number
from bot.store.suggestions import SuggestionStore
from bot.telegram.admin import SETTINGS, is_reviewer
from bot.telegram.delivery import QueuedDelivery, delete_messages
from bot.telegram.flow import PreparedFilter
from bot.telegram.handlers import (
    RESPONDER,
    resident_county,
    responder_of,
    send_reply,
    user_language,
    with_retries,
)
from bot.telegram.replies import keyboard, split_text

log = logging.getLogger(__name__)

SUGGESTIONS = "suggestions"  # bot_data key: the SuggestionStore
DELIVERY = "suggestion_delivery"  # bot_data key: the SuggestionDelivery
MY_SUGGESTIONS_SHOWN = 10


def suggestions_of(context: ContextTypes.DEFAULT_TYPE) -> SuggestionStore:
    return context.bot_data[SUGGESTIONS]


def _settings(context: ContextTypes.DEFAULT_TYPE) -> Settings:
    return context.bot_data[SETTINGS]


class SuggestionDelivery(QueuedDelivery):
    """Suggestions to the suggestions chat, one message each with the officers' buttons."""

    noun = "suggestion"
    chat_name = "suggestions chat"

    def __init__(self, application: Application, store: SuggestionStore, chat_id: int) -> None:
        super().__init__(application, chat_id)
        self.store = store

    def queued(self) -> list[Suggestion]:
        return self.store.undelivered()

    async def deliver(self, suggestion: Suggestion) -> None:
        data = self.application.bot_data
        reply = replies.bureau_message(data[RESPONDER], suggestion, data[SETTINGS].default_lang)
        sent = await self.application.bot.send_message(
            self.chat_id, reply.text, reply_markup=keyboard(reply)
        )
        await asyncio.to_thread(self.store.delivered, suggestion.id, sent.message_id)
        log.info("suggestion %s delivered to the suggestions chat", suggestion.id)

    def turn(self) -> AbstractContextManager[bool]:
        return self.store.delivery_turn()

    def count_failure(self, suggestion: Suggestion) -> int:
        return self.store.failed_attempt(suggestion.id)

    def set_aside(self, suggestion: Suggestion, reason: str) -> None:
        self.store.refuse(suggestion.id)
        log.error(
            "suggestion %s (%s) set aside for good (%s); kept as 'refused', not retried",
            suggestion.id,
            suggestion.reference,
            reason,
        )

    def purge(self) -> None:
        days = self.application.bot_data[SETTINGS].suggestion_days
        now = time.time()
        removed = self.store.purge(now - days * 86400, now)
        if removed:
            log.info("deleted %d suggestions past the %d-day retention period", removed, days)


# -- the resident's side ---------------------------------------------------------------------


async def _submitted_today(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> int:
    day = china_day(time.time())
    return await asyncio.to_thread(suggestions_of(context).submitted_on, user_id, day)


class WaitingForSuggestion(PreparedFilter):
    """Private messages from a resident the bot asked for their suggestion: the next one is
    it (or the wrong kind of message, told so). One key lookup per private message."""

    def __init__(self, store: SuggestionStore) -> None:
        super().__init__(name="WaitingForSuggestion")
        self.store = store

    def applies(self, message: Message) -> bool:
        return message.chat.type == ChatType.PRIVATE and message.from_user is not None

    def look_up(self, message: Message) -> bool:
        user = message.from_user
        return user is not None and self.store.is_waiting(user.id, time.time())


async def _lang(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    return responder_of(context).language(await user_language(update, context))


async def _refused(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    """Say so, and True, when no suggestion can be taken now: off, in a group, or today's
    limit reached."""
    responder, settings = responder_of(context), _settings(context)
    lang = await _lang(update, context)
    user, chat = update.effective_user, update.effective_chat
    if settings.suggestions_chat is None:
        await send_reply(message, responder.notice("suggest_off", lang, with_menu=True))
        return True
    if chat is None or user is None or chat.type != ChatType.PRIVATE:
        await send_reply(message, responder.notice("suggest_private_only", lang), quote=True)
        return True
    if await _submitted_today(context, user.id) >= settings.suggestion_daily_limit:
        text = responder.ui("suggest_limit", lang, limit=settings.suggestion_daily_limit)
        await send_reply(message, Reply(text, lang, ReplyKind.NOTICE))
        return True
    return False


async def ask_for_suggestion(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message
) -> None:
    """The prompt, with what is kept; the resident's next message is the suggestion."""
    user = update.effective_user
    if user is None or await _refused(update, context, message):
        return
    await asyncio.to_thread(suggestions_of(context).start_waiting, user.id, time.time())
    reply = replies.prompt(
        responder_of(context), await _lang(update, context), _settings(context).suggestion_days
    )
    await send_reply(message, reply)


async def on_suggest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/suggest, or /suggest followed by the text itself."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    text = message.text.partition(" ")[2] or "\n".join(message.text.splitlines()[1:])
    if not text.strip():
        await ask_for_suggestion(update, context, message)
        return
    if not await _refused(update, context, message):
        await _take(update, context, message, text)


async def on_suggestion_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What a resident sent after the prompt: the suggestion, or the wrong kind of message."""
    message = update.effective_message
    if message is None:
        return
    text = message.text or message.caption or ""
    if not text.strip() or message.text is None:
        lang = await _lang(update, context)
        await send_reply(message, responder_of(context).notice("suggest_text_only", lang))
        return
    await _take(update, context, message, text)


async def _take(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str
) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return
    responder, settings = responder_of(context), _settings(context)
    lang = await _lang(update, context)
    cleaned = replies.clean_suggestion(text)
    if not cleaned:
        await send_reply(message, responder.notice("suggest_text_only", lang))
        return
    if len(cleaned) > replies.MAX_SUGGESTION:  # the resident keeps it and shortens it
        too_long = responder.ui(
            "suggest_too_long", lang, length=len(cleaned), max=replies.MAX_SUGGESTION
        )
        await send_reply(message, Reply(too_long, lang, ReplyKind.NOTICE))
        return
    store = suggestions_of(context)
    if await _submitted_today(context, user.id) >= settings.suggestion_daily_limit:
        # waited since before the limit was reached
        await asyncio.to_thread(store.stop_waiting, user.id)
        await _refused(update, context, message)
        return
    suggestion = await asyncio.to_thread(store.submit, user.id, chat.id, lang, cleaned, time.time())
    log.info("suggestion %s queued for the suggestions chat", suggestion.id)
    await send_reply(
        message, replies.received(responder, suggestion, lang, settings.suggestion_days)
    )
    delivery: SuggestionDelivery | None = context.bot_data.get(DELIVERY)
    if delivery is not None:
        await delivery.deliver_now()


async def on_moving_on(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Another command or button while the bot waits for a suggestion: the resident has moved
    on, so their next message is a question again, not a suggestion sent by mistake."""
    user = update.effective_user
    store = context.bot_data.get(SUGGESTIONS)
    if user is not None and store is not None:
        await asyncio.to_thread(store.stop_waiting, user.id)


MOVING_ON = (  # what on_moving_on listens to: commands but these, buttons but ours
    filters.COMMAND & filters.ChatType.PRIVATE & ~filters.Regex(r"^/(suggest|cancel)(@\w+)?\b"),
    r"^(?!sugg:)",
)


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel while the bot waits for a suggestion (a report's /cancel is another handler)."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    await asyncio.to_thread(suggestions_of(context).stop_waiting, user.id)
    lang = await _lang(update, context)
    await send_reply(message, responder_of(context).notice("suggest_cancelled", lang))


async def on_mysuggestions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    lang = await _lang(update, context)
    if chat.type != ChatType.PRIVATE:
        reply = responder_of(context).notice("personal_private_only", lang)
        await send_reply(message, reply, quote=True)
        return
    mine = await asyncio.to_thread(suggestions_of(context).for_user, user.id, MY_SUGGESTIONS_SHOWN)
    await send_reply(message, replies.my_suggestions(responder_of(context), mine, lang))


async def forget_suggestions(context: ContextTypes.DEFAULT_TYPE, user_id: int) -> None:
    """/forget: the resident's suggestions and answers go, and the bot's messages about them
    in the suggestions chat (Telegram allows that for 48 hours; after, the officers are asked
    to delete them by hand)."""
    store = context.bot_data.get(SUGGESTIONS)
    if store is None:
        return
    removed = await asyncio.to_thread(store.forget_user, user_id)
    chat = _settings(context).suggestions_chat
    if chat is None:
        return
    for suggestion in removed:
        if not await delete_messages(context.bot, chat, suggestion.bureau_messages):
            text = responder_of(context).ui(
                "bureau_withdrawn", _settings(context).default_lang, reference=suggestion.reference
            )
            with contextlib.suppress(TelegramError):
                await context.bot.send_message(chat, text)


# -- the officers' side ----------------------------------------------------------------------


class ReplyToSuggestion(PreparedFilter):
    """A message in the suggestions chat that replies to the bot's message of a suggestion."""

    def __init__(self, store: SuggestionStore, chat_id: int) -> None:
        super().__init__(name="ReplyToSuggestion")
        self.store, self.chat_id = store, chat_id

    def applies(self, message: Message) -> bool:
        replied = message.reply_to_message
        if message.chat.id != self.chat_id or replied is None or replied.from_user is None:
            return False
        return replied.from_user.is_bot

    def look_up(self, message: Message) -> bool:
        replied = message.reply_to_message
        return replied is not None and self.store.by_bureau_message(replied.message_id) is not None


async def on_officer_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An officer's reply to a suggestion goes to the resident; the chat is told it did."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None or message.reply_to_message is None:
        return
    responder, lang = responder_of(context), _settings(context).default_lang
    if not is_reviewer(update, context, "a suggestion answer"):
        await send_reply(message, responder.notice("bureau_not_officer", lang), quote=True)
        return
    store = suggestions_of(context)
    replied_to = message.reply_to_message.message_id
    suggestion = await asyncio.to_thread(store.by_bureau_message, replied_to)
    if suggestion is None:  # forgotten in between
        await send_reply(message, responder.notice("bureau_gone", lang), quote=True)
        return
    text = (message.text or message.caption or "").strip()
    if not text:  # a sticker or a photo: only words are passed on
        await send_reply(message, responder.notice("bureau_text_only", lang), quote=True)
        return
    suggestion = await asyncio.to_thread(
        store.answer, suggestion.id, text, user.full_name, time.time()
    )
    log.info("suggestion %s answered by an officer", suggestion.id)
    told = await _tell_resident(context, suggestion, replies.answered(responder, suggestion, text))
    key = "bureau_reply_sent" if told else "bureau_reply_undelivered"
    note = Reply(responder.ui(key, lang, reference=suggestion.reference), lang, ReplyKind.NOTICE)
    await send_reply(message, note, quote=True)


async def _tell_resident(
    context: ContextTypes.DEFAULT_TYPE, suggestion: Suggestion, text: str
) -> bool:
    try:
        for chunk in split_text(text):
            await with_retries(
                lambda chunk=chunk: context.bot.send_message(suggestion.chat_id, chunk)
            )
    except TelegramError as exc:  # blocked the bot, say: /mysuggestions still shows it
        log.warning(
            "could not tell the resident about suggestion %s (%s)",
            suggestion.id,
            type(exc).__name__,
        )
        return False
    return True


async def on_suggestion_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The resident's Write / Cancel, and the officers' How / Resolved / Passed on."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return
    action, _, number = (query.data or "").removeprefix(replies.ACTION).partition(":")
    if action in ("start", "cancel"):
        await query.answer()
        if action == "start":
            await ask_for_suggestion(update, context, query.message)
        else:
            await on_cancel_button(update, context, query.message)
        return
    responder, settings = responder_of(context), _settings(context)
    lang = settings.default_lang
    chat = update.effective_chat
    in_chat = chat is not None and chat.id == settings.suggestions_chat
    if not in_chat or not is_reviewer(update, context, "a suggestion decision"):
        await query.answer(responder.ui("bureau_not_officer", lang), show_alert=True)
        return
    suggestion_id = ascii_whole_number(number)
    store = suggestions_of(context)
    suggestion = (
        await asyncio.to_thread(store.get, suggestion_id) if suggestion_id is not None else None
    )
    if suggestion is None or action not in ("how", "resolved", "referred"):
        await query.answer(responder.ui("bureau_gone", lang), show_alert=True)
        return
    if action == "how":
        await query.answer(responder.ui("bureau_how", lang), show_alert=True)
        return
    officer = update.effective_user.full_name if update.effective_user else "?"
    decided = await asyncio.to_thread(store.decide, suggestion.id, action, officer)
    if decided is None:
        status = replies.status_name(responder, action, lang)
        await query.answer(responder.ui("bureau_already", lang, status=status), show_alert=True)
        return
    await query.answer()
    log.info("suggestion %s marked %s by an officer", suggestion.id, action)
    await _tell_resident(context, decided, replies.decided(responder, decided))
    status = replies.status_name(responder, action, lang)
    note = responder.ui(
        "bureau_decided", lang, reference=decided.reference, status=status, officer=officer
    )
    with contextlib.suppress(TelegramError):  # stored and the resident told: a courtesy
        await send_reply(query.message, Reply(note, lang, ReplyKind.NOTICE))


async def on_cancel_button(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message
) -> None:
    if update.effective_user is not None:
        await asyncio.to_thread(suggestions_of(context).stop_waiting, update.effective_user.id)
    lang = await _lang(update, context)
    await send_reply(message, responder_of(context).notice("suggest_cancelled", lang))


async def on_petition(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    """ "我有个建议", "how do I raise a problem": the answer on how the bureau listens, with a
    button to write the suggestion here and now (while suggestions are on). Typed, it is the
    card a conversation shows (with "was this helpful?"); pressed, the card a button shows."""
    responder = responder_of(context)
    lang = await _lang(update, context)
    typed = update.callback_query is None
    text = (message.text or message.caption or "") if typed else ""
    if text:  # answered in the question's language
        read = responder.index.read(text)
        if read.units and any(c.isalpha() for c in text):
            lang = read.lang
    reply = responder.answer(PETITION, lang, county=await resident_county(update, context))
    if typed:
        reply = responder.conversation.with_share_and_feedback(reply)
    if _settings(context).suggestions_chat is not None:
        write = Button(responder.ui("suggest_button", lang), f"{replies.ACTION}start")
        reply = replace(reply, buttons=(write, *reply.buttons))
    await send_reply(message, reply)


PETITION = "safety.petition"  # the intent residents' "我有个建议" matches
