""" "Is this a scam?" on Telegram: forwarded messages, /check, long pastes, and the group guard.

Nothing of the checked text is logged: only the risk and the ids of the flags found.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import OrderedDict

from telegram import Message, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import ContextTypes

from bot.core.check_replies import check_reply, guard_warning
from bot.core.responder import Responder
from bot.core.scam_check import ScamCheck
from bot.privacy import LoggedId
from bot.store.group_guard import SqliteGuardStore
from bot.telegram import handlers, screenshots
from bot.telegram.compute import off_loop
from bot.telegram.handlers import responder_of, send_reply, user_language

log = logging.getLogger(__name__)

GUARD = "group_guard"  # bot_data key
WARNED = "group_guard_warned"  # bot_data key: the WarnedMessages
PASTE_LENGTH = 40  # longer than this, a text is more likely a received message than a question
_LINK_OR_NUMBER = re.compile(r"https?://|www\.|\.[a-z]{2,6}/|\d{6,}", re.IGNORECASE)


# A resident telling what happened ("有人说…让我…", "a caller says…") or asking ("…吗？") is
# asking a question; a message they received speaks to them ("您的账户…", "your account…").
_ASKING = re.compile(
    r"[?？]|吗|呢|怎么|是不是|靠谱|真的假的|能不能|可以吗|有人|对方|他说|她说|他们说|说我|叫我|让我|"
    r"\b(should i|can i|do i|does|is it|is this|are|what|how|why|where|when|who|someone|"
    r"a caller|they said|he said|she said|"
    r"says he|says she|wants|asks|asked|says|said|told)\b",
    re.IGNORECASE,
)


def looks_received(text: str) -> bool:
    """A pasted message rather than a question: it carries a link or a long number, or it is
    long and neither tells a story about someone else nor asks anything."""
    if _LINK_OR_NUMBER.search(text):
        return True
    return len(text) > PASTE_LENGTH and _ASKING.search(text) is None


async def reply_with_check(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    message: Message,
    result: ScamCheck,
    checked_by: Responder,
) -> None:
    """`checked_by`: the Responder whose checker gave `result`; a /reload meanwhile may have
    replaced the current one, whose content may no longer have the flags found."""
    log.info(
        "checked a message: risk=%s flags=%s",
        result.risk,
        ",".join(f.id for f in result.flags) or "-",
    )
    reply = check_reply(checked_by, result, await user_language(update, context) or "")
    await send_reply(message, reply)


async def check_and_reply(
    update: Update, context: ContextTypes.DEFAULT_TYPE, message: Message, text: str
) -> None:
    responder = responder_of(context)
    result = await off_loop(responder.checker.check, text)
    await reply_with_check(update, context, message, result, responder)


def _message_text(message: Message | None) -> str:
    if message is None:
        return ""
    return message.text or message.caption or ""


async def on_forward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Anything forwarded into a private chat means "please check this"."""
    message = update.effective_message
    if message is None or await screenshots.check_picture(update, context, message, message):
        return
    text = _message_text(message)
    if not text.strip():
        reply = responder_of(context).notice(
            "check_usage", await user_language(update, context) or ""
        )
        await send_reply(message, reply)
        return
    await check_and_reply(update, context, message, text)


async def on_check(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/check TEXT, or /check as a reply to the message to check."""
    message = update.effective_message
    if message is None:
        return
    text = (message.text or "").partition(" ")[2].strip()
    replied = message.reply_to_message
    if not text and replied is not None:
        if await screenshots.check_picture(update, context, message, replied):
            return
        text = _message_text(replied).strip()
    if not text:
        reply = responder_of(context).notice(
            "check_usage", await user_language(update, context) or ""
        )
        await send_reply(message, reply)
        return
    await check_and_reply(update, context, message, text)


class WarnedMessages:
    """The group messages the guard has warned about, so that editing one (a typo fixed) is
    not warned about again. Only the latest `limit` are kept: an edit comes soon after the
    message, and memory stays bounded however many groups there are. Forgotten on restart."""

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._warned: OrderedDict[tuple[int, int], None] = OrderedDict()

    def first_warning(self, chat_id: int, message_id: int) -> bool:
        """True the first time a message is warned about; remembers it."""
        key = (chat_id, message_id)
        if key in self._warned:
            return False
        self._warned[key] = None
        if len(self._warned) > self.limit:
            self._warned.popitem(last=False)
        return True


async def on_group_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, a high-risk message from anyone gets a short warning as a reply, once: when
    it is sent, or when an edit makes it high-risk."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None or chat.type == ChatType.PRIVATE:
        return
    guard: SqliteGuardStore = context.bot_data[GUARD]
    if not await asyncio.to_thread(guard.enabled, chat.id):
        return
    if handlers.addressed_text(message, context.bot.username) is not None:
        return  # a question to the bot: answered by the ordinary handler, not warned about
    picture_text = await screenshots.group_picture_text(context, message)
    text = "\n".join(part for part in (_message_text(message), picture_text) if part.strip())
    if not text.strip():
        return
    responder = responder_of(context)
    result = await off_loop(responder.checker.check, text)
    if result.risk != "high" or not context.bot_data[WARNED].first_warning(chat.id, message.id):
        return
    log.info("group guard warned: flags=%s", ",".join(f.id for f in result.flags))
    await send_reply(message, guard_warning(responder, result, responder.default_lang), quote=True)


async def on_guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/guard on|off, for a group's administrators."""
    message, chat, user = update.effective_message, update.effective_chat, update.effective_user
    if message is None or chat is None or user is None:
        return
    responder = responder_of(context)
    lang = responder.language(await user_language(update, context))
    if chat.type == ChatType.PRIVATE:
        await send_reply(message, responder.notice("guard_groups_only", lang))
        return
    member = await context.bot.get_chat_member(chat.id, user.id)
    if member.status not in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER):
        log.warning("refused /guard from non-admin user %s", LoggedId(user.id))
        await send_reply(message, responder.notice("guard_admin_only", lang), quote=True)
        return
    enabled = (message.text or "").partition(" ")[2].strip().lower() not in ("off", "关", "关闭")
    await asyncio.to_thread(context.bot_data[GUARD].set_enabled, chat.id, enabled)
    await send_reply(message, responder.notice("guard_on" if enabled else "guard_off", lang))
