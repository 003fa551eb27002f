"""/subscribe, /unsubscribe, /mysettings, /forget and the subscription buttons."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from telegram import Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ContextTypes

from bot.core.conversation import asks_for_own_township, township_named
from bot.core.records import TOPICS
from bot.core.settings_replies import (
    area_menu,
    audience_menu,
    stored_data,
    subscription_status,
)
from bot.core.types import Button, Reply, ReplyKind
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.handlers import (
    conversations_of,
    edit_in_place,
    reply_private_only,
    responder_of,
    send_reply,
    store_of,
    user_language,
)
from bot.telegram.review import forget_reports, reports_of
from bot.telegram.suggestions import SUGGESTIONS, forget_suggestions

log = logging.getLogger(__name__)

SUBSCRIPTIONS = "subscriptions"  # bot_data key


def subscriptions_of(context: ContextTypes.DEFAULT_TYPE) -> SubscriptionStore:
    return context.bot_data[SUBSCRIPTIONS]


async def _may_manage(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Anyone manages their own private chat; in a group only its administrators may."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    member = await context.bot.get_chat_member(chat.id, user.id)
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _refuse_non_admin(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message
) -> None:
    lang = await user_language(update, context) or ""
    await send_reply(message, responder_of(context).notice("sub_admin_only", lang), quote=True)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if not await _may_manage(update, context):
        await _refuse_non_admin(update, context, message)
        return
    responder = responder_of(context)
    lang = responder.language(await user_language(update, context))
    store = subscriptions_of(context)
    subscription = await asyncio.to_thread(store.subscribe, chat.id, user.id, lang)
    # Subscribing by words: the township they name, or the question which one.
    words = "" if (message.text or "").startswith("/") else message.text or ""
    area = township_named(responder, words) if words else None
    if area is not None:
        await asyncio.to_thread(store.set_area, chat.id, area)
        subscription = await asyncio.to_thread(store.get, chat.id) or subscription
    if area is None and words and asks_for_own_township(responder, words):
        # "我们镇上的": subscribed, and the one question left, in one message
        text = f"{responder.ui('sub_done', lang)}\n{responder.ui('sub_which_township', lang)}"
        await send_reply(message, replace(area_menu(responder, lang), text=text))
        return
    await send_reply(
        message,
        subscription_status(responder, subscription, lang, preface_key="sub_done"),
    )


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    if not await _may_manage(update, context):
        await _refuse_non_admin(update, context, message)
        return
    removed = await asyncio.to_thread(subscriptions_of(context).unsubscribe, chat.id)
    lang = await user_language(update, context) or ""
    key = "sub_removed" if removed else "sub_none"
    await send_reply(message, responder_of(context).notice(key, lang))


async def confirm_unsubscribe(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message
) -> None:
    """Unsubscribing by words ("怎么取消") asks first; /unsubscribe itself does it at once."""
    chat = update.effective_chat
    if chat is None:
        return
    responder = responder_of(context)
    lang = responder.language(await user_language(update, context))
    if await asyncio.to_thread(subscriptions_of(context).get, chat.id) is None:
        await send_reply(message, responder.notice("sub_none", lang))
        return
    buttons = (
        Button(responder.ui("unsubscribe_button", lang), "sub:off"),
        Button(responder.ui("unsub_keep_button", lang), "sub:keep"),
    )
    reply = Reply(responder.ui("unsub_confirm", lang), lang, ReplyKind.NOTICE, buttons=buttons)
    await send_reply(message, reply)


async def on_subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await subscribe(update, context, update.effective_message)


async def on_unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_message:
        await unsubscribe(update, context, update.effective_message)


async def on_mysettings(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or await reply_private_only(update, context):
        return
    language = await asyncio.to_thread(store_of(context).get_language, user.id)
    subscription = await asyncio.to_thread(subscriptions_of(context).get, chat.id)
    reports = await asyncio.to_thread(reports_of(context).count, user.id)
    suggestions = context.bot_data.get(SUGGESTIONS)
    suggested = (
        await asyncio.to_thread(suggestions.count, user.id) if suggestions is not None else 0
    )
    lang = language or user.language_code or ""  # what user_language says, without a lookup
    reply = stored_data(responder_of(context), language, subscription, reports, lang, suggested)
    await send_reply(message, reply)


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = await user_language(update, context) or ""
    await asyncio.to_thread(subscriptions_of(context).forget_user, user.id)
    await asyncio.to_thread(store_of(context).forget, user.id)
    conversations = conversations_of(context)
    if conversations is not None:
        await asyncio.to_thread(conversations.forget_user, user.id)
    await forget_reports(context, user.id)
    await forget_suggestions(context, user.id)
    log.info("a resident asked to be forgotten; their data was deleted")
    await send_reply(message, responder_of(context).notice("forget_done", lang))


async def on_subscription_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, chat = update.callback_query, update.effective_chat
    if query is None or chat is None or not isinstance(query.message, Message):
        return
    await query.answer()
    if not await _may_manage(update, context):
        return
    responder, store = responder_of(context), subscriptions_of(context)
    lang = responder.language(await user_language(update, context))
    _, _, action = (query.data or "").partition(":")
    if action == "off":
        await unsubscribe(update, context, query.message)
        return
    if action == "keep":
        await send_reply(query.message, responder.notice("unsub_kept", lang))
        return
    if action == "areas" or action.startswith("areas:"):  # areas[:<county>:<page>]
        _, _, where = action.partition(":")
        county, _, page = where.partition(":")
        menu = area_menu(responder, lang, county or None, int(page) if page.isdigit() else 0)
        # moving within the picker edits it in place; opening it is a new message
        if query.message.text == menu.text and await edit_in_place(query.message, menu):
            return
        await send_reply(query.message, menu)
        return
    subscription = await asyncio.to_thread(store.get, chat.id)
    if subscription is None:
        await send_reply(query.message, responder.notice("sub_none", lang))
        return
    kind, _, value = action.partition(":")
    if action == "audiences" or kind == "aud":
        if value in responder.content.audiences:  # a stale or forged id changes nothing
            audiences = tuple(set(subscription.audiences) ^ {value})
            await asyncio.to_thread(store.set_audiences, chat.id, audiences)
            subscription = await asyncio.to_thread(store.get, chat.id) or subscription
        await send_reply(query.message, audience_menu(responder, subscription, lang))
        return
    if kind == "topic" and value in TOPICS:
        topics = set(subscription.topics) ^ {value}
        if topics:  # keep at least one topic: unsubscribing is its own button
            await asyncio.to_thread(store.set_topics, chat.id, tuple(topics))
    elif kind == "area" and (value == "all" or value in responder.content.areas):
        await asyncio.to_thread(store.set_area, chat.id, None if value == "all" else value)
    updated = await asyncio.to_thread(store.get, chat.id)
    if updated is not None:
        await send_reply(query.message, subscription_status(responder, updated, lang))
