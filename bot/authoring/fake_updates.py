"""Factories for Telegram updates as the Bot API would deliver them, for offline runs."""

from __future__ import annotations

import itertools
import time
from typing import Any

from telegram import Bot, Update

from bot.authoring.fake_api import BOT_USER

_update_ids = itertools.count(1)
_message_ids = itertools.count(1)


def user_dict(
    user_id: int,
    first_name: str = "Resident",
    language_code: str | None = "zh-hans",
    username: str | None = None,
) -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    if username:
        user["username"] = username
    return user


def chat_dict(chat_id: int, chat_type: str = "private") -> dict[str, Any]:
    chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
    if chat_type != "private":
        chat["title"] = "Village group"
    return chat


def message_dict(user: dict[str, Any], chat: dict[str, Any], **content: Any) -> dict[str, Any]:
    return {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "from": user,
        "chat": chat,
        **content,
    }


def text_message(
    text: str, user: dict[str, Any], chat: dict[str, Any], reply_to_bot: bool = False, **extra: Any
) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text, **extra}
    if text.startswith("/"):
        command = text.split()[0]
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
    if reply_to_bot:
        content["reply_to_message"] = message_dict(BOT_USER, chat, text="(earlier reply)")
    return message_dict(user, chat, **content)


def update_from(data: dict[str, Any], bot: Bot) -> Update:
    update = Update.de_json({"update_id": next(_update_ids), **data}, bot)
    if update is None:
        raise ValueError(f"not an update: {data!r}")
    return update


def text_update_json(text: str, user_id: int = 1001, language_code: str | None = "zh") -> dict:
    """A private text message as Telegram posts it to a webhook (JSON, not an Update)."""
    user, chat = user_dict(user_id, language_code=language_code), chat_dict(user_id)
    return {"update_id": next(_update_ids), "message": text_message(text, user, chat)}


def text_update(
    bot: Bot,
    text: str,
    user_id: int = 1001,
    chat_id: int | None = None,
    chat_type: str = "private",
    language_code: str | None = "zh-hans",
    reply_to_bot: bool = False,
    edited: bool = False,
) -> Update:
    user = user_dict(user_id, language_code=language_code)
    chat = chat_dict(chat_id if chat_id is not None else user_id, chat_type)
    message = text_message(text, user, chat, reply_to_bot=reply_to_bot)
    key = "edited_message" if edited else "message"
    if edited:
        message["edit_date"] = int(time.time())
    return update_from({key: message}, bot)


def media_content(kind: str) -> dict[str, Any]:
    """The message fields of a non-text message: sticker, photo, video, location or voice."""
    file = {"file_id": f"{kind}-file-id", "file_unique_id": f"{kind}-unique"}
    contents: dict[str, dict[str, Any]] = {
        "sticker": {
            "sticker": {
                **file,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
            }
        },
        "photo": {
            "photo": [
                {**file, "width": 90, "height": 90, "file_size": 2_000},
                {**file, "width": 1280, "height": 960, "file_size": 180_000},
            ]
        },
        "video": {
            "video": {**file, "width": 1280, "height": 720, "duration": 9, "file_size": 4_000_000}
        },
        "location": {"location": {"latitude": 18.64, "longitude": 109.70}},
        "voice": {"voice": {**file, "duration": 3}},
    }
    return contents[kind]


def sticker_update(bot: Bot, user_id: int = 1001, chat_type: str = "private") -> Update:
    message = message_dict(
        user_dict(user_id), chat_dict(user_id, chat_type), **media_content("sticker")
    )
    return update_from({"message": message}, bot)


def callback_update(
    bot: Bot,
    data: str,
    user_id: int = 1001,
    language_code: str | None = "zh-hans",
    message_text: str = "(menu)",
    chat_id: int | None = None,
    message_id: int | None = None,
    first_name: str = "Resident",
    reply_markup: dict[str, Any] | None = None,
) -> Update:
    """A button press by `user_id` under a bot message in `chat_id` (their private chat);
    `reply_markup` is that message's keyboard, as the bot sent it."""
    user = user_dict(user_id, first_name, language_code=language_code)
    chat = chat_dict(user_id) if chat_id is None else chat_dict(chat_id, "supergroup")
    message = message_dict(BOT_USER, chat, text=message_text)
    if message_id is not None:
        message["message_id"] = message_id
    if reply_markup is not None:
        message["reply_markup"] = reply_markup
    query = {
        "id": str(next(_update_ids)),
        "from": user,
        "chat_instance": "1",
        "message": message,
        "data": data,
    }
    return update_from({"callback_query": query}, bot)


def picture_content(
    file_id: str, size: int, as_file: bool = False, caption: str | None = None
) -> dict[str, Any]:
    """A screenshot sent as a photo (Telegram's sizes, the largest last) or as a file (原图)."""
    content: dict[str, Any]
    if as_file:
        document = {"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": size}
        content = {
            "document": {**document, "file_name": "screenshot.png", "mime_type": "image/png"}
        }
    else:
        thumb = {"file_id": f"{file_id}-thumb", "file_unique_id": f"t-{file_id}", "file_size": 900}
        content = {
            "photo": [
                {**thumb, "width": 90, "height": 195},
                {
                    "file_id": file_id,
                    "file_unique_id": f"u-{file_id}",
                    "file_size": size,
                    "width": 591,
                    "height": 1280,
                },
            ]
        }
    if caption is not None:
        content["caption"] = caption
    return content


def picture_update(
    bot: Bot,
    file_id: str,
    size: int,
    user_id: int = 1001,
    chat_id: int | None = None,
    chat_type: str = "private",
    as_file: bool = False,
    caption: str | None = None,
    forwarded: bool = False,
) -> Update:
    user = user_dict(user_id)
    chat = chat_dict(chat_id if chat_id is not None else user_id, chat_type)
    content = picture_content(file_id, size, as_file, caption)
    if forwarded:
        content["forward_origin"] = {
            "type": "hidden_user",
            "sender_user_name": "someone",
            "date": int(time.time()),
        }
    return update_from({"message": message_dict(user, chat, **content)}, bot)


def reply_to_picture_update(
    bot: Bot, text: str, file_id: str, size: int, user_id: int = 1001, chat_type: str = "private"
) -> Update:
    """`text` (a command like /check) sent as a reply to a screenshot in the chat."""
    user = user_dict(user_id)
    chat = chat_dict(user_id if chat_type == "private" else -user_id, chat_type)
    replied = message_dict(user_dict(user_id + 1), chat, **picture_content(file_id, size))
    return update_from({"message": text_message(text, user, chat, reply_to_message=replied)}, bot)
