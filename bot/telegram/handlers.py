"""Telegram handlers: each turns an update into a core call and sends the Reply back.

No decision is made here that the core could make: these functions only translate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import ContextTypes

from bot.broadcast.telegram_errors import retry_seconds
from bot.core.command_replies import lang_command, unknown_command
from bot.core.conversation import ConversationState, Exchange
from bot.core.image_replies import unread_media_reply
from bot.core.responder import Responder
from bot.core.types import Reply, ReplyKind, Turn
from bot.store.conversations import SqliteConversationStore
from bot.store.preferences import PreferenceStore
from bot.telegram.compute import off_loop
from bot.telegram.replies import keyboard, split_text

log = logging.getLogger(__name__)

RESPONDER = "responder"  # bot_data key; a reload swaps the whole Responder at once
STORE = "preferences"
INSIGHTS = "insights"
CONVERSATIONS = "conversations"  # bot_data key: each chat's ConversationState
FEEDBACK = "feedback"  # bot_data key: "was this helpful?" counts per card
# bot_data keys for behaviour other modules provide, wired in bot.telegram.app:
# (looks_received(text), reply_with_check(update, context, message, result, checked_by))
PASTE_CHECK = "paste_check"
INTENT_ACTIONS = "intent_actions"  # intent id -> a handler that acts rather than answers
IntentAction = Callable[[Update, ContextTypes.DEFAULT_TYPE, Message], Awaitable[None]]


def intent_actions(context: ContextTypes.DEFAULT_TYPE) -> dict[str, IntentAction]:
    return context.bot_data.get(INTENT_ACTIONS, {})


def responder_of(context: ContextTypes.DEFAULT_TYPE) -> Responder:
    return context.bot_data[RESPONDER]


def store_of(context: ContextTypes.DEFAULT_TYPE) -> PreferenceStore:
    return context.bot_data[STORE]


def conversations_of(context: ContextTypes.DEFAULT_TYPE) -> SqliteConversationStore | None:
    return context.bot_data.get(CONVERSATIONS)


COUNTY_OF_AREA = {"bt": "baoting", "qz": "qiongzhong"}  # content/areas.yaml id prefixes


async def resident_county(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The county of the township this chat chose for alerts, if any."""
    return await asyncio.to_thread(_stored_county, update, context)


def _stored_county(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    store, chat = context.bot_data.get("subscriptions"), update.effective_chat  # SUBSCRIPTIONS
    if store is None or chat is None:
        return None
    area = getattr(store.get(chat.id), "area", None) or ""
    return COUNTY_OF_AREA.get(area.partition(".")[0])


def conversation_clock(context: ContextTypes.DEFAULT_TYPE) -> float:
    """Now, by the conversation store's clock (a test moves it to expire a conversation)."""
    store = conversations_of(context)
    return store.clock() if store is not None else time.time()


async def load_conversation(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> ConversationState:
    return await asyncio.to_thread(_stored_conversation, update, context)


def _stored_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> ConversationState:
    store, chat = conversations_of(context), update.effective_chat
    if store is None or chat is None:
        return ConversationState()
    return store.get(chat.id)


async def save_conversation(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    await asyncio.to_thread(_store_conversation, update, context, state)


def _store_conversation(
    update: Update, context: ContextTypes.DEFAULT_TYPE, state: ConversationState
) -> None:
    store, chat, user = conversations_of(context), update.effective_chat, update.effective_user
    if store is not None and chat is not None:
        store.put(chat.id, user.id if user else chat.id, state)


async def user_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """The resident's chosen language, else what their Telegram app is set to."""
    if update.effective_user is None:
        return None
    return await asyncio.to_thread(_stored_language, update, context)


def _stored_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    user = update.effective_user
    if user is None:
        return None
    return store_of(context).get_language(user.id) or user.language_code


SEND_ATTEMPTS = 3
MAX_RETRY_AFTER = 30.0  # seconds; longer flood waits are not worth holding a reply for


async def with_retries(send: Callable[[], Awaitable[object]]) -> None:
    """Retry a reply through Telegram's passing faults: time-outs, network errors, 5xx, and
    flood control (waiting as long as asked). Other errors (bad request, blocked) are final."""
    for attempt in range(1, SEND_ATTEMPTS + 1):
        try:
            await send()
            return
        except RetryAfter as exc:
            seconds = retry_seconds(exc)
            if attempt == SEND_ATTEMPTS or seconds > MAX_RETRY_AFTER:
                raise
            log.warning("reply hit flood control; retrying in %.0f s", seconds)
            await asyncio.sleep(seconds)
        except (BadRequest, Forbidden):
            raise
        except NetworkError as exc:  # TimedOut and 5xx answers are NetworkErrors too
            if attempt == SEND_ATTEMPTS:
                raise
            log.warning(
                "reply failed (%s); retry %d of %d", type(exc).__name__, attempt, SEND_ATTEMPTS - 1
            )
            await asyncio.sleep(0.2 * 2 ** (attempt - 1))


async def send_reply(message: Message, reply: Reply, quote: bool = False) -> None:
    chunks = split_text(reply.text)
    for number, chunk in enumerate(chunks):
        last = number == len(chunks) - 1
        await with_retries(
            lambda chunk=chunk, last=last, number=number: message.reply_text(
                chunk,
                reply_markup=keyboard(reply) if last else None,
                do_quote=quote and number == 0,
            )
        )


def _is_group(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)


def addressed_text(message: Message, bot_username: str) -> str | None:
    """In a group, the text meant for the bot (mention removed), or None if not for us."""
    text = message.text or ""
    mention = f"@{bot_username}".lower()
    if mention in text.lower():
        start = text.lower().index(mention)
        return (text[:start] + text[start + len(mention) :]).strip()
    replied = message.reply_to_message
    if replied and replied.from_user and replied.from_user.username == bot_username:
        return text
    return None


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    name = message.text.split()[0].lstrip("/").split("@")[0].lower()
    lang = await user_language(update, context) or ""
    if name == "lang":
        reply = await _switch_language(update, context, " ".join(context.args or ()), lang)
    else:
        reply = responder_of(context).command(name, lang)
    if reply is not None:
        await send_reply(message, reply, quote=_is_group(update))


async def _switch_language(
    update: Update, context: ContextTypes.DEFAULT_TYPE, argument: str, lang: str
) -> Reply:
    """/lang, /lang en, /lang xx: the buttons, a switch, or the unknown code named."""
    chosen, reply = lang_command(responder_of(context), argument, lang)
    if chosen is not None and update.effective_user is not None:
        await asyncio.to_thread(store_of(context).set_language, update.effective_user.id, chosen)
    return reply


async def on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command no handler took: a hint and the menu. Quiet for commands meant for another
    bot: /foo@otherbot anywhere, and a bare /foo in a group, where other bots may know it."""
    message = update.effective_message
    if message is None or not message.text or _is_channel(update):
        return
    command, _, addressee = message.text.split()[0].partition("@")
    for_us = addressee.lower() == (context.bot.username or "").lower()
    if not for_us and (addressee or _is_group(update)):
        return
    lang = await user_language(update, context) or ""
    reply = unknown_command(responder_of(context), command, lang)
    await send_reply(message, reply, quote=_is_group(update))


async def reply_private_only(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text_key: str = "personal_private_only"
) -> bool:
    """In a group, a command about a resident's own data (their reports, settings, a new
    report) gets a pointer to the private chat, the `text_key` text, and nothing personal:
    True when it did."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or chat.type == ChatType.PRIVATE:
        return False
    lang = await user_language(update, context) or ""
    reply = responder_of(context).notice(text_key, lang)
    await send_reply(message, reply, quote=True)
    return True


def _is_channel(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.CHANNEL


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or message.text is None or _is_channel(update):
        return  # a channel's posts are broadcasts, not questions
    text: str | None = message.text
    if _is_group(update):
        text = addressed_text(message, context.bot.username)
        if text is None:
            return  # group chatter not meant for the bot
    await answer_text(update, context, message, text or "")


async def answer_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str
) -> None:
    """Answer what a resident wrote: a message's text, or a photo's caption."""
    responder = responder_of(context)
    # In a thread: the sentence model takes tens of milliseconds a message, up to a quarter of
    # a second for a long one, and other chats' updates must not wait for it on the event loop.
    reply = (await off_loop(_take_turn, update, context, responder, text)).reply
    paste_check = context.bot_data.get(PASTE_CHECK)
    # A conversation signal (still on the call, already paid, "should I pay?") is answered as
    # it is: the action first, whatever else the text looks like.
    pasted = not reply.as_is and paste_check is not None and paste_check[0](text)
    if not _is_group(update) and text and pasted and paste_check is not None:
        # A long paste or a text with a link is most likely a message they received: check
        # it, unless it is harmless and the resident was really asking about a topic.
        result = await off_loop(responder.checker.check, text)
        # A number, account or link is never answered as if the topic were all: the bot
        # cannot look it up, and says so (check_low_contact).
        if result.risk != "low" or result.contact or reply.kind is not ReplyKind.ANSWER:
            await paste_check[1](update, context, message, result, responder)
            return
    action = None if reply.as_is else intent_actions(context).get(reply.intent or "")
    if action is not None:  # "我要订阅" does what /subscribe does
        await action(update, context, message)
        return
    log.info(
        "answered kind=%s intent=%s score=%.1f lang=%s",
        reply.kind.value,
        reply.intent,
        reply.score,
        reply.lang,
    )
    await send_reply(message, reply, quote=_is_group(update))


def _take_turn(
    update: Update, context: ContextTypes.DEFAULT_TYPE, responder: Responder, text: str
) -> Exchange:
    """One resident's turn, from the stores' reads to their writes, in one worker thread.

    Each read and write is quick, and a thread hop costs more than most of them (about 75 µs
    on the project's machine; six an update until 4 December, three at once): in one thread a
    single resident's median reply came 1.33 ms after the question, against 1.74
    (docs/deployment.md, "No query and no matching on the event loop")."""
    turn = Turn(
        text,
        lang_hint=_stored_language(update, context),
        county=_stored_county(update, context),
    )
    state = _stored_conversation(update, context)
    exchange = responder.converse(state, turn, conversation_clock(context))
    _store_conversation(update, context, exchange.state)
    # What the matcher made of it, for /insights, even when the scam check answers instead.
    insights = context.bot_data.get(INSIGHTS)
    if insights is not None:
        insights.record(text, exchange.reply.intent, exchange.reply.kind.value)
    return exchange


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice...: a polite hint in private chats, silence in groups. A
    caption is text: it is read (and checked for scams) as a text message would be."""
    message = update.effective_message
    if message is None or _is_group(update) or _is_channel(update):
        return
    if message.caption and message.caption.strip():
        await answer_text(update, context, message, message.caption)
        return
    lang = await user_language(update, context) or ""
    if message.voice or message.audio or message.video_note:
        reply = unread_media_reply(responder_of(context), "voice", lang)
    elif message.photo or ((message.document and message.document.mime_type) or "").startswith(
        "image/"
    ):
        reply = unread_media_reply(responder_of(context), "photo", lang)
    else:
        reply = responder_of(context).notice("non_text", lang, with_menu=True)
    await send_reply(message, reply)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    # Answer first: Telegram shows a spinner on the button until the query is answered.
    await query.answer()
    action = query.data or ""
    lang = await user_language(update, context) or ""
    if action.startswith("lang:") and update.effective_user is not None:
        lang = action.partition(":")[2]
        if lang in ("zh", "en"):
            await asyncio.to_thread(store_of(context).set_language, update.effective_user.id, lang)
    kind, _, target = action.partition(":")
    action_of_intent = intent_actions(context).get(target) if kind == "intent" else None
    if action_of_intent is not None and isinstance(query.message, Message):
        await action_of_intent(update, context, query.message)  # the menu's "随手拍举报"
        return
    reply = responder_of(context).press(action, lang)
    if reply is None:  # a stale button from old content, or forged callback data
        reply = responder_of(context).menu("main", lang)
    if reply.intent and kind in ("intent", "more"):  # the card shown, for the next turn
        now = conversation_clock(context)
        state = (await load_conversation(update, context)).fresh(now)
        await save_conversation(update, context, state.showing(reply.intent, "full", now))
    if isinstance(query.message, Message):
        menu = reply.kind is ReplyKind.MENU and is_menu(responder_of(context), query.message)
        if menu and await edit_in_place(query.message, reply):
            return  # a menu replaces the menu it was chosen from: no pile of menus
        await send_reply(query.message, reply)


def is_menu(responder: Responder, message: Message) -> bool:
    """A menu the bot sent (its text ends with a menu's prompt), not a card: a card stays
    where it is when a button under it is pressed."""
    text = message.text or ""
    prompts = (p for m in responder.content.menus.values() for p in m.prompt.values())
    return bool(text) and message.reply_markup is not None and any(map(text.endswith, prompts))


async def edit_in_place(message: Message, reply: Reply) -> bool:
    """Show a menu in the menu message whose button was pressed; False when it cannot be
    edited, so it is sent instead."""
    if len(split_text(reply.text)) > 1:
        return False
    try:
        await with_retries(lambda: message.edit_text(reply.text, reply_markup=keyboard(reply)))
    except BadRequest:  # too old, deleted, or unchanged: send it as a new message
        return False
    return True


async def on_feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎 under a card: counted for its intent (no text, no user), thanked, and the two
    buttons taken off that message so one answer is rated once."""
    query = update.callback_query
    if query is None:
        return
    _, _, rest = (query.data or "").partition(":")
    vote, _, intent = rest.partition(":")
    responder, lang = responder_of(context), await user_language(update, context) or ""
    store = context.bot_data.get(FEEDBACK)
    if store is not None and vote in ("up", "down") and intent in responder.content.intents:
        await asyncio.to_thread(store.count, intent, vote == "up")
    await query.answer(responder.ui("feedback_thanks", responder.language(lang)))
    message = query.message
    if isinstance(message, Message) and message.reply_markup is not None:
        rows = [
            [b for b in row if not (b.callback_data or "").startswith("fb:")]
            for row in message.reply_markup.inline_keyboard
        ]
        kept = InlineKeyboardMarkup([row for row in rows if row])
        with contextlib.suppress(BadRequest):  # the message is too old to edit: no matter
            await message.edit_reply_markup(kept)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure and still tell the resident something useful."""
    log.error(
        "error while handling an update: %s", type(context.error).__name__, exc_info=context.error
    )
    if not isinstance(update, Update) or update.effective_message is None:
        return
    try:
        lang = await user_language(update, context) or ""
        reply = responder_of(context).notice("error", lang)
        await send_reply(update.effective_message, reply)
    except Exception:  # the error reply itself failed (e.g. Telegram is down): log only
        log.warning("could not send the error reply", exc_info=True)
