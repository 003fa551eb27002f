"""/subscribe, /unsubscribe, /mysettings, /forget and the subscription buttons."""

from __future__ import annotations

import logging

from telegram import Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ContextTypes

from bot.core.records import TOPICS
from bot.core.settings_replies import (
    area_menu,
    audience_menu,
    stored_data,
    subscription_status,
)
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.handlers import (
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
    lang = user_language(update, context) or ""
    await send_reply(message, responder_of(context).notice("sub_admin_only", lang), quote=True)


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    if not await _may_manage(update, context):
        await _refuse_non_admin(update, context, message)
        return
    lang = responder_of(context).language(user_language(update, context))
    subscription = subscriptions_of(context).subscribe(chat.id, user.id, lang)
    await send_reply(
        message,
        subscription_status(responder_of(context), subscription, lang, preface_key="sub_done"),
    )


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message) -> None:
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    if not await _may_manage(update, context):
        await _refuse_non_admin(update, context, message)
        return
    removed = subscriptions_of(context).unsubscribe(chat.id)
    lang = user_language(update, context) or ""
    key = "sub_removed" if removed else "sub_none"
    await send_reply(message, responder_of(context).notice(key, lang))


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
    reply = stored_data(
        responder_of(context),
        store_of(context).get_language(user.id),
        subscriptions_of(context).get(chat.id),
        reports_of(context).count(user.id),
        user_language(update, context) or "",
        context.bot_data[SUGGESTIONS].count(user.id) if SUGGESTIONS in context.bot_data else 0,
    )
    await send_reply(message, reply)


async def on_forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    lang = user_language(update, context) or ""
    subscriptions_of(context).forget_user(user.id)
    store_of(context).forget(user.id)
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
    lang = responder.language(user_language(update, context))
    _, _, action = (query.data or "").partition(":")
    if action == "off":
        await unsubscribe(update, context, query.message)
        return
    if action == "areas":
        await send_reply(query.message, area_menu(responder, lang))
        return
    subscription = store.get(chat.id)
    if subscription is None:
        await send_reply(query.message, responder.notice("sub_none", lang))
        return
    kind, _, value = action.partition(":")
    if action == "audiences" or kind == "aud":
        if value in responder.content.audiences:  # a stale or forged id changes nothing
            store.set_audiences(chat.id, tuple(set(subscription.audiences) ^ {value}))
            subscription = store.get(chat.id) or subscription
        await send_reply(query.message, audience_menu(responder, subscription, lang))
        return
    if kind == "topic" and value in TOPICS:
        topics = set(subscription.topics) ^ {value}
        if topics:  # keep at least one topic: unsubscribing is its own button
            store.set_topics(chat.id, tuple(topics))
    elif kind == "area" and (value == "all" or value in responder.content.areas):
        store.set_area(chat.id, None if value == "all" else value)
    updated = store.get(chat.id)
    if updated is not None:
        await send_reply(query.message, subscription_status(responder, updated, lang))
