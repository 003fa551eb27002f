"""Screenshots checked like forwarded text: a photo or an image file in a private chat (with
or without caption), a forwarded photo, /check as a reply to a photo, and photos in groups
whose guard is on when ANTIFRAUD_GUARD_PHOTOS is on.

The picture is fetched from Telegram into memory, read by the OCR worker and dropped: neither
it nor the text read is kept or logged (only counts and timings).
"""

from __future__ import annotations

import logging
import time

from telegram import Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes, filters

from bot.config import Settings
from bot.core.conversation import report_kind_of_caption
from bot.core.image_replies import image_check_reply, no_text_reply
from bot.core.types import Reply, ReplyKind, Turn
from bot.models.ocr import NotAnImage, image_size
from bot.telegram import handlers, reports
from bot.telegram.admin import SETTINGS
from bot.telegram.compute import off_loop
from bot.telegram.handlers import (
    intent_actions,
    responder_of,
    send_reply,
    user_language,
    with_retries,
)
from bot.telegram.replies import keyboard, split_text
from bot.workers.ocr import Busy, OcrWorker, ReadFailed, ReadTimedOut, Unavailable

log = logging.getLogger(__name__)

OCR = "ocr_worker"  # bot_data key: the OcrWorker, absent when image checking is off
PICTURES = filters.PHOTO | filters.Document.IMAGE
MB = 1024 * 1024


def worker_of(context: ContextTypes.DEFAULT_TYPE) -> OcrWorker | None:
    worker = context.bot_data.get(OCR)
    return worker if worker is not None and worker.unavailable is None else None


def picture_of(message: Message | None) -> tuple[str, int | None] | None:
    """The file id and size of the message's picture: the largest size of a photo, or an
    image sent as a file (原图)."""
    if message is None:
        return None
    if message.photo:
        largest = message.photo[-1]
        return largest.file_id, largest.file_size
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return document.file_id, document.file_size
    return None


async def on_picture(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A picture in a private chat. A caption asking to report (a rider without a helmet)
    starts the report flow, as its text would; anything else is read and checked."""
    message = update.effective_message
    if message is None:
        return
    caption = (message.caption or "").strip()
    kind = report_kind_of_caption(responder_of(context), caption) if caption else None
    if kind is not None and await reports.start_report_with_photo(update, context, message, kind):
        return  # "这个人骑摩托车不戴头盔": a report, with this photo in it
    if caption and await _caption_acts(update, context, caption):
        await handlers.answer_text(update, context, message, caption)
        return
    if not await check_picture(update, context, message, message):
        await handlers.on_non_text(update, context)  # image checking is off: today's hint


async def _caption_acts(update: Update, context: ContextTypes.DEFAULT_TYPE, caption: str) -> bool:
    lang_hint = await user_language(update, context)
    turn = Turn(caption, lang_hint=lang_hint)
    reply = await off_loop(responder_of(context).respond, turn)
    return reply.kind is ReplyKind.ANSWER and reply.intent in intent_actions(context)


async def check_picture(
    update: Update, context: ContextTypes.DEFAULT_TYPE, reply_to: Message, picture: Message
) -> bool:
    """Read `picture`'s text with its caption, check it and answer under `reply_to`. False
    when there is no picture or image checking is off, so the caller answers as before."""
    worker, found = worker_of(context), picture_of(picture)
    if worker is None or found is None:
        return False
    file_id, file_size = found
    settings: Settings = context.bot_data[SETTINGS]
    responder, lang = responder_of(context), await user_language(update, context) or ""
    if file_size is not None and file_size > settings.ocr_max_mb * MB:
        await send_reply(reply_to, _too_big(context, lang))
        return True
    if not worker.has_room():
        log.info("picture refused: the OCR queue is full")
        await send_reply(reply_to, responder.notice("ocr_busy", lang))
        return True
    await _show_typing(context, reply_to.chat_id)
    progress = await reply_to.reply_text(responder.ui("ocr_reading", responder.language(lang)))
    reply = await _read_and_rate(context, worker, file_id, picture.caption or "", lang)
    await _replace(progress, reply_to, reply)
    return True


async def _show_typing(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError:  # only a courtesy: the "reading" message follows anyway
        log.info("could not show the chat action")


def _too_big(context: ContextTypes.DEFAULT_TYPE, lang: str) -> Reply:
    settings: Settings = context.bot_data[SETTINGS]
    responder = responder_of(context)
    text = responder.ui(
        "ocr_too_big",
        lang,
        mb=settings.ocr_max_mb,
        megapixels=settings.ocr_max_megapixels,
    )
    return Reply(text=text, lang=responder.language(lang), kind=ReplyKind.NOTICE)


async def _fetch(context: ContextTypes.DEFAULT_TYPE, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def _read_and_rate(
    context: ContextTypes.DEFAULT_TYPE, worker: OcrWorker, file_id: str, caption: str, lang: str
) -> Reply:
    responder = responder_of(context)
    settings: Settings = context.bot_data[SETTINGS]
    started = time.perf_counter()
    try:
        image = await _fetch(context, file_id)
        if image_size(image).pixels > settings.ocr_max_megapixels * 1_000_000:
            return _too_big(context, lang)
        text = await worker.read_text(image)
    except BadRequest as exc:  # Telegram refuses files over 20 MB to bots
        log.info("could not fetch a picture: %s", exc.message)
        return _too_big(context, lang) if "too big" in exc.message else _notice(context, lang)
    except NotAnImage:
        return responder.notice("ocr_unreadable", lang)
    except Busy:
        return responder.notice("ocr_busy", lang)
    except ReadTimedOut:
        return responder.notice("ocr_timeout", lang)
    except Unavailable:
        return responder.notice("non_text", lang, with_menu=True)
    except (ReadFailed, TelegramError) as exc:
        log.warning("could not check a picture: %s", type(exc).__name__)
        return _notice(context, lang)
    finally:
        image = b""  # the picture is not kept a moment longer than needed
    elapsed = time.perf_counter() - started
    if not text.strip():
        log.info("checked a picture: no text found (%.1f s)", elapsed)
        return no_text_reply(responder, lang)
    together = "\n".join(part for part in (caption.strip(), text) if part)
    result = await off_loop(responder.checker.check, together)
    log.info(
        "checked a picture: %d characters read in %.1f s, risk=%s flags=%s",
        len(text),
        elapsed,
        result.risk,
        ",".join(f.id for f in result.flags) or "-",
    )
    return image_check_reply(responder, result, text, lang)


def _notice(context: ContextTypes.DEFAULT_TYPE, lang: str) -> Reply:
    return responder_of(context).notice("error", lang)


async def _replace(progress: Message, reply_to: Message, reply: Reply) -> None:
    """The verdict takes the place of the "reading the picture…" message."""
    chunks = split_text(reply.text)
    first_markup = keyboard(reply) if len(chunks) == 1 else None
    try:
        await with_retries(lambda: progress.edit_text(chunks[0], reply_markup=first_markup))
    except BadRequest:  # the resident deleted it meanwhile: send the verdict instead
        await send_reply(reply_to, reply)
        return
    for number, chunk in enumerate(chunks[1:], 2):
        markup = keyboard(reply) if number == len(chunks) else None
        await with_retries(
            lambda chunk=chunk, markup=markup: reply_to.reply_text(chunk, reply_markup=markup)
        )


async def group_picture_text(context: ContextTypes.DEFAULT_TYPE, message: Message) -> str:
    """For the group guard: the text of a group photo, or "" when it is not read (photos
    off, an edit, too big, or the worker busy with residents' own pictures: a group photo
    never waits in the queue)."""
    settings: Settings = context.bot_data[SETTINGS]
    worker, found = worker_of(context), picture_of(message)
    if not settings.guard_photos or worker is None or found is None or message.edit_date:
        return ""
    file_id, file_size = found
    if (file_size or 0) > settings.ocr_max_mb * MB or not worker.has_room(wait=False):
        return ""
    try:
        image = await _fetch(context, file_id)
        if image_size(image).pixels > settings.ocr_max_megapixels * 1_000_000:
            return ""
        return await worker.read_text(image, wait=False)
    except (NotAnImage, Busy, ReadTimedOut, Unavailable, ReadFailed, TelegramError) as exc:
        log.info("group photo not checked: %s", type(exc).__name__)
        return ""
    finally:
        image = b""
